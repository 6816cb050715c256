import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { NodeTransportOptions } from '../../../sip/node/node-transport-options.js';
import { RawClient, RecordingListener, requestText, selfSignedCert, sleep, waitFor } from './transport-test-kit.js';

const open: Array<{ close(): unknown } | { destroy(): unknown }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => ('close' in x ? x.close() : x.destroy())));
});

async function startTransport(options: Partial<NodeTransportOptions> = {}) {
  const transport = new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }], ...options });
  const recorder = new RecordingListener();
  transport.listen(recorder);
  await transport.start();
  open.push(transport);
  return { transport, recorder, port: transport.boundAddresses()[0].port };
}

async function client(port: number) {
  const c = await RawClient.connect(port);
  open.push(c);
  return c;
}

describe('TCP and TLS listeners', () => {
  it('refuses connections from one address beyond maxConnectionsPerAddress', async () => {
    const { transport, recorder, port } = await startTransport({ maxConnectionsPerAddress: 2 });
    const a = await client(port);
    const b = await client(port);
    await waitFor(() => transport.connectionCount === 2);
    const c = await client(port);
    await c.waitClosed();
    a.write(requestText({ callId: 'a' }));
    b.write(requestText({ callId: 'b' }));
    const ids = [(await recorder.messages.next()).message.callId, (await recorder.messages.next()).message.callId].sort();
    expect(ids).toEqual(['a', 'b']);
    expect(a.closed || b.closed).toBe(false);
    // A slot frees up when a connection goes.
    a.destroy();
    await waitFor(() => transport.connectionCount === 1);
    const d = await client(port);
    d.write(requestText({ callId: 'd' }));
    expect((await recorder.messages.next()).message.callId).toBe('d');
  });

  it('refuses connections beyond maxConnections', async () => {
    const { transport, port } = await startTransport({ maxConnections: 1 });
    await client(port);
    await waitFor(() => transport.connectionCount === 1);
    const second = await client(port);
    await second.waitClosed();
    expect(transport.connectionCount).toBe(1);
  });

  it('refuses an over-limit TLS client before the handshake', async () => {
    const { cert, key } = await selfSignedCert();
    const { transport, port } = await startTransport({
      listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }],
      maxConnectionsPerAddress: 1,
    });
    const first = tls.connect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost' });
    open.push(first);
    await new Promise((r) => first.once('secureConnect', r));
    await waitFor(() => transport.connectionCount === 1);
    const second = tls.connect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost' });
    open.push(second);
    const outcome = await new Promise<string>((resolve) => {
      second.once('secureConnect', () => resolve('connected'));
      second.once('error', () => resolve('refused'));
      second.once('close', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
    await sleep(10);
    expect(transport.connectionCount).toBe(1);
  });
});
