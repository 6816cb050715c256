import { execFile } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { ListenerOptions } from '../../../sip/node/node-transport-options.js';
import { TransportError } from '../../../sip/transport/transport.js';
import { RawClient, RecordingListener, requestText, selfSignedCert, WsClient } from './transport-test-kit.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

function track<T extends { close(): unknown }>(x: T): T {
  open.push(x);
  return x;
}

describe('NodeTransport', () => {
  describe('options', () => {
    const bad: Array<[string, unknown]> = [
      ['no listeners', { listeners: [] }],
      ['an unknown protocol', { listeners: [{ protocol: 'SCTP' }] }],
      ['a port out of range', { listeners: [{ protocol: 'UDP', port: 70000 }] }],
      ['a UDP host that is not an IP address', { listeners: [{ protocol: 'UDP', host: 'localhost' }] }],
      ['TLS without a certificate', { listeners: [{ protocol: 'TLS', key: 'k.pem' }] }],
      ['WSS without a certificate or server', { listeners: [{ protocol: 'WSS', port: 0 }] }],
      ['a WS path without a leading slash', { listeners: [{ protocol: 'WS', path: 'sip' }] }],
      ['a negative idle timeout', { listeners: [{ protocol: 'UDP' }], idleTimeoutMs: -1 }],
      ['a fractional connection limit', { listeners: [{ protocol: 'UDP' }], maxConnections: 1.5 }],
      ['a tiny maximum message size', { listeners: [{ protocol: 'UDP' }], maxMessageSize: 10 }],
      ['an empty advertised host', { listeners: [{ protocol: 'UDP' }], advertisedHost: '' }],
    ];
    it.each(bad)('throws TypeError at construction for %s', (_what, options) => {
      expect(() => new NodeTransport(options as never)).toThrow(TypeError);
    });

    it('names the bad option in the message', () => {
      expect(() => new NodeTransport({ listeners: [{ protocol: 'UDP' }], maxConnectionsPerAddress: 0 })).toThrow(/maxConnectionsPerAddress/);
      expect(() => new NodeTransport({ listeners: [{ protocol: 'UDP' }, { protocol: 'TCP', port: -1 }] })).toThrow(/listeners\[1\]\.port/);
    });
  });

  describe('start()', () => {
    it('reports the ports actually bound when port 0 was asked for', async () => {
      const { cert, key } = await selfSignedCert();
      const listeners: ListenerOptions[] = [
        { protocol: 'UDP', host: '127.0.0.1', port: 0 },
        { protocol: 'TCP', host: '127.0.0.1', port: 0 },
        { protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key },
        { protocol: 'WS', host: '127.0.0.1', port: 0 },
        { protocol: 'WSS', host: '127.0.0.1', port: 0, cert, key, path: '/secure' },
      ];
      const t = track(new NodeTransport({ listeners }));
      expect(t.boundAddresses()).toEqual([]);
      await t.start();
      const bound = t.boundAddresses();
      expect(bound.map((b) => b.protocol)).toEqual(['UDP', 'TCP', 'TLS', 'WS', 'WSS']);
      for (const b of bound) expect(b.port).toBeGreaterThan(0);
      expect(bound[3].path).toBe('/sip');
      expect(bound[4].path).toBe('/secure');
      expect(t.protocols).toEqual(['UDP', 'TCP', 'TLS', 'WS', 'WSS']);
      expect(t.state).toBe('started');
    });

    it('rejects when a port is taken, closing what it had bound', async () => {
      const taken = track(dgram.createSocket('udp4'));
      await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
      const t = new NodeTransport({
        listeners: [
          { protocol: 'TCP', host: '127.0.0.1', port: 0 },
          { protocol: 'UDP', host: '127.0.0.1', port: taken.address().port },
        ],
      });
      await expect(t.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(t.state).toBe('closed');
    });

    it('rejects when a certificate file does not exist', async () => {
      const t = new NodeTransport({ listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' }] });
      await expect(t.start()).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('localAddress()', () => {
    it('gives the bound address, or advertisedHost for an any-address listener (Via sent-by, §18.1.1)', async () => {
      const t = track(
        new NodeTransport({
          listeners: [
            { protocol: 'UDP', host: '0.0.0.0', port: 0 },
            { protocol: 'TCP', host: '127.0.0.1', port: 0 },
          ],
          advertisedHost: 'relay.portal.test',
        }),
      );
      await t.start();
      const [udp, tcp] = t.boundAddresses();
      expect(t.localAddress('UDP')).toEqual({ host: 'relay.portal.test', port: udp.port });
      expect(t.localAddress('TCP')).toEqual({ host: '127.0.0.1', port: tcp.port });
      expect(t.localAddress('WS')).toBeUndefined();
    });

    it('defaults advertisedHost to 127.0.0.1', async () => {
      const t = track(new NodeTransport({ listeners: [{ protocol: 'TCP', host: '0.0.0.0', port: 0 }] }));
      await t.start();
      expect(t.localAddress('TCP')?.host).toBe('127.0.0.1');
    });
  });

  describe('flowTo()', () => {
    it('throws SIP_ERR_TRANSPORT_UNAVAILABLE for a protocol without a listener', async () => {
      const t = track(new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] }));
      await t.start();
      expect(() => t.flowTo({ protocol: 'TCP', host: '127.0.0.1', port: 5060 })).toThrow(TransportError);
      try {
        t.flowTo({ protocol: 'TLS', host: '127.0.0.1', port: 5061 });
      } catch (e) {
        expect((e as TransportError).code).toBe('SIP_ERR_TRANSPORT_UNAVAILABLE');
      }
    });

    it('throws SIP_ERR_TRANSPORT_CLOSED before start() and after close()', async () => {
      const t = new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
      const dest = { protocol: 'UDP' as const, host: '127.0.0.1', port: 5060 };
      expect(() => t.flowTo(dest)).toThrow(expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_CLOSED' }));
      await t.start();
      expect(t.flowTo(dest).protocol).toBe('UDP');
      await t.close();
      expect(() => t.flowTo(dest)).toThrow(expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_CLOSED' }));
    });

    it('throws SIP_ERR_TRANSPORT_CONNECT when maxConnections are open', async () => {
      const server = track(new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] }));
      await server.start();
      const t = track(new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }], maxConnections: 1 }));
      await t.start();
      const port = server.boundAddresses()[0].port;
      t.flowTo({ protocol: 'TCP', host: '127.0.0.1', port });
      expect(() => t.flowTo({ protocol: 'TCP', host: 'localhost', port })).toThrow(expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_CONNECT' }));
    });
  });

  describe('close()', () => {
    it('closes every connection, reports each flow closed, and stops listening', async () => {
      const t = new NodeTransport({
        listeners: [
          { protocol: 'TCP', host: '127.0.0.1', port: 0 },
          { protocol: 'WS', host: '127.0.0.1', port: 0 },
        ],
      });
      const recorder = new RecordingListener();
      t.listen(recorder);
      await t.start();
      const [tcp, ws] = t.boundAddresses();
      const raw = await RawClient.connect(tcp.port);
      const wsClient = await WsClient.connect(`ws://127.0.0.1:${ws.port}/sip`);
      raw.write(requestText());
      wsClient.send(requestText());
      await recorder.messages.next();
      await recorder.messages.next();

      const closing = t.close();
      expect(t.close()).toBe(closing);
      await closing;
      expect(t.state).toBe('closed');
      expect(t.connectionCount).toBe(0);
      expect(recorder.closed.items.map((f) => f.protocol).sort()).toEqual(['TCP', 'WS']);
      await raw.waitClosed();
      expect(await wsClient.waitClosed()).toBe(1001);
      await expect(RawClient.connect(tcp.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });

    it('destroys a connection that does not finish closing within closeTimeoutMs', async () => {
      const t = new NodeTransport({
        listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }],
        closeTimeoutMs: 50,
        maxWriteBufferBytes: 64 * 1024 * 1024,
      });
      const recorder = new RecordingListener();
      t.listen(recorder);
      await t.start();
      // A client that never reads: the flush cannot finish.
      const c = net.connect(t.boundAddresses()[0].port, '127.0.0.1');
      c.on('error', () => {});
      c.pause();
      c.write(requestText());
      const { flow } = await recorder.messages.next();
      // More than loopback socket buffers hold, so the flush cannot complete.
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let i = 0; i < 32; i++) expect(flow.send(chunk)).toBe(true);
      const started = Date.now();
      await t.close();
      expect(Date.now() - started).toBeLessThan(2000);
      c.destroy();
    });

    it('leaves no open handles: a process that used every protocol exits on its own', async () => {
      const script = fileURLToPath(new URL('./fixtures/exits-after-close.ts', import.meta.url));
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, ['--import', 'tsx', script], { timeout: 15_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
        child.stdin?.end();
      });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({
        received: ['out-tcp', 'out-ws', 'shared', 'tcp', 'tls', 'udp', 'ws', 'wss'],
        connections: 0,
      });
    });
  });

  describe('listen()', () => {
    it('refuses a second, different listener', () => {
      const t = new NodeTransport({ listeners: [{ protocol: 'UDP' }] });
      const l = new RecordingListener();
      t.listen(l);
      t.listen(l);
      expect(() => t.listen(new RecordingListener())).toThrow(TypeError);
    });
  });

  it('keeps serving when the layer above throws from its callbacks', async () => {
    const t = track(new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] }));
    const seen: string[] = [];
    t.listen({
      onMessage: (m) => {
        seen.push(m.message.callId);
        throw new Error('bug above');
      },
      onParseError: () => {
        throw new Error('bug above');
      },
    });
    await t.start();
    const c = await RawClient.connect(t.boundAddresses()[0].port);
    track({ close: () => c.destroy() });
    c.write(requestText({ callId: 'one' }) + requestText().replace('CSeq: 1 OPTIONS', 'CSeq: x') + requestText({ callId: 'two' }));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['one', 'two']);
    expect(c.closed).toBe(false);
  });
});
