/**
 * Our user-agent core over real Node transports on loopback, UDP and TCP
 * on ports the system picks, with the RFC 3261 default timers (T1 500 ms).
 */
import { NodeTransport } from '../../sip/node/node-transport.js';
import { UserAgentCore, type UserAgentCoreOptions } from '../../sip/ua/user-agent-core.js';
import type { SippProtocol } from './sipp.js';

export interface CoreOnLoopback {
  core: UserAgentCore;
  port(protocol: SippProtocol): number;
  close(): Promise<void>;
}

export async function coreOnLoopback(options: Partial<UserAgentCoreOptions> = {}): Promise<CoreOnLoopback> {
  const transport = new NodeTransport({
    listeners: [
      { protocol: 'UDP', host: '127.0.0.1', port: 0 },
      { protocol: 'TCP', host: '127.0.0.1', port: 0 },
    ],
  });
  const core = new UserAgentCore({ aor: 'sip:siprelay@127.0.0.1', ...options, transport });
  await transport.start();
  const bound = transport.boundAddresses();
  return {
    core,
    port: (protocol) => {
      const b = bound.find((x) => x.protocol === protocol);
      if (!b) throw new Error(`no ${protocol} listener`);
      return b.port;
    },
    close: () => core.close(),
  };
}
