/**
 * A relay core on real loopback sockets (UDP, TCP and WS on 127.0.0.1,
 * port 0) with fake ports, for the relay core's tests.
 */
import { relayConfigSchema } from '../../../../server/config/relay-config-schema.js';
import type { ServiceConfig } from '../../../../server/config/service-config.js';
import { serviceConfigSchema } from '../../../../server/config/service-config.js';
import { RelayCore, type RelayCoreOptions } from '../../../../server/relay-core.js';
import { NodeTransport } from '../../../../sip/node/node-transport.js';
import type { Endpoint } from '../../../../sip/transport/transport.js';
import type { Clock } from '../../../../sip/util/clock.js';
import { FakeAuthenticator, FakeDirectory, FakeIdentity, FakeLocation, FakeRegistrar, FakeRouting, RecordingObserver } from './fake-ports.js';

export interface RelayHarness {
  core: RelayCore;
  transport: NodeTransport;
  auth: FakeAuthenticator;
  registrar: FakeRegistrar;
  location: FakeLocation;
  directory: FakeDirectory;
  identity: FakeIdentity;
  observer: RecordingObserver;
  udp: Endpoint;
  tcp: Endpoint;
  wsUrl: string;
  errors: unknown[];
  close(): Promise<void>;
}

export interface HarnessOptions
  extends Partial<
    Pick<RelayCoreOptions, 'timerCMs' | 'noAnswerMs' | 'random' | 'maxDialogs' | 'drainRetryAfterSeconds' | 'busyRetryAfterSeconds' | 'supervision' | 'admission' | 'recordRouteSecret'>
  > {
  clock?: Clock;
  t1Ms?: number;
  /** More configuration (e.g. `limits`, `timers.minSessionExpiresSeconds`), merged over the harness's. */
  config?: Record<string, unknown>;
  /** Ports to listen on (a relay restarted on the ports of an earlier one). Default 0 for each. */
  ports?: { udp?: number; tcp?: number; ws?: number };
}

/** A service config with defaults, as the config schema fills them in. */
export function service(name: string, o: Partial<ServiceConfig> = {}): ServiceConfig {
  return serviceConfigSchema.parse({ name, ...o });
}

export async function startRelay(o: HarnessOptions = {}): Promise<RelayHarness> {
  const transport = new NodeTransport({
    listeners: [
      { protocol: 'UDP', host: '127.0.0.1', port: o.ports?.udp ?? 0 },
      { protocol: 'TCP', host: '127.0.0.1', port: o.ports?.tcp ?? 0 },
      { protocol: 'WS', host: '127.0.0.1', port: o.ports?.ws ?? 0, path: '/sip' },
    ],
  });
  const extra = o.config ?? {};
  const timers = { ...(o.t1Ms ? { t1Ms: o.t1Ms, t2Ms: Math.max(o.t1Ms * 8, 4000) } : {}), ...((extra.timers as object | undefined) ?? {}) };
  const config = relayConfigSchema.parse({ domains: ['portal.test'], ...extra, timers });
  const auth = new FakeAuthenticator();
  const registrar = new FakeRegistrar();
  const location = new FakeLocation();
  const directory = new FakeDirectory();
  const identity = new FakeIdentity();
  const observer = new RecordingObserver();
  const errors: unknown[] = [];
  const core = new RelayCore({
    transport,
    config,
    authenticator: auth,
    registrar,
    location,
    directory,
    routing: new FakeRouting(),
    identity,
    observer,
    clock: o.clock,
    timerCMs: o.timerCMs,
    noAnswerMs: o.noAnswerMs,
    random: o.random,
    maxDialogs: o.maxDialogs,
    drainRetryAfterSeconds: o.drainRetryAfterSeconds,
    busyRetryAfterSeconds: o.busyRetryAfterSeconds,
    supervision: o.supervision,
    admission: o.admission,
    recordRouteSecret: o.recordRouteSecret,
    onError: (e) => errors.push(e),
  });
  await transport.start();
  const udp = transport.localAddress('UDP')!;
  const tcp = transport.localAddress('TCP')!;
  const ws = transport.localAddress('WS')!;
  return {
    core,
    transport,
    auth,
    registrar,
    location,
    directory,
    identity,
    observer,
    udp: { protocol: 'UDP', host: udp.host, port: udp.port },
    tcp: { protocol: 'TCP', host: tcp.host, port: tcp.port },
    wsUrl: `ws://127.0.0.1:${ws.port}/sip`,
    errors,
    close: () => core.close(),
  };
}
