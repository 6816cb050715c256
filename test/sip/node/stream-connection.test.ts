import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { NodeTransportOptions } from '../../../sip/node/node-transport-options.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { SipResponse } from '../../../sip/message/sip-response.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { RawClient, RecordingListener, requestText, responseText, selfSignedCert, sleep, waitFor } from './transport-test-kit.js';

const MPART01 = readFileSync(new URL('../../fixtures/rfc4475/mpart01.dat', import.meta.url));

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
  return { transport, recorder, port: (i = 0) => transport.boundAddresses()[i].port };
}

async function client(port: number, host = '127.0.0.1') {
  const c = await RawClient.connect(port, host);
  c.socket.setNoDelay(true);
  open.push(c);
  return c;
}

/** A port on which nothing listens. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('TCP connection (RFC 3261 §18.3)', () => {
  it('delivers a request on a reliable flow and sends the response back over the same connection', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText({ callId: 'tcp-1', via: 'SIP/2.0/TCP client.test' }));
    const { message, flow } = await recorder.messages.next();
    expect(message).toBeInstanceOf(SipRequest);
    expect(message.callId).toBe('tcp-1');
    expect(flow).toMatchObject({ protocol: 'TCP', reliable: true, isOpen: true });
    expect(flow.remote).toEqual({ host: '127.0.0.1', port: c.socket.localPort });
    expect(flow.local).toEqual({ host: '127.0.0.1', port: port() });
    expect(flow.send(Buffer.from(responseText({ callId: 'tcp-1' })))).toBe(true);
    await c.waitReceived('Call-ID: tcp-1');
    expect(c.received.toString()).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it('frames several messages that arrive in one chunk', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText({ callId: 'a' }) + requestText({ callId: 'b', method: 'MESSAGE', body: 'hi' }) + responseText({ callId: 'c' }));
    const got = [await recorder.messages.next(), await recorder.messages.next(), await recorder.messages.next()];
    expect(got.map((g) => g.message.callId)).toEqual(['a', 'b', 'c']);
    expect(got[1].message.bodyText).toBe('hi');
    expect(got[2].message).toBeInstanceOf(SipResponse);
    expect(new Set(got.map((g) => g.flow.id)).size).toBe(1);
  });

  it('frames one message split over many chunks', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    const text = Buffer.from(requestText({ callId: 'split', method: 'MESSAGE', body: 'a body that is split too' }));
    for (let i = 0; i < text.length; i += 7) {
      c.write(text.subarray(i, i + 7));
      await sleep(1);
    }
    const { message } = await recorder.messages.next();
    expect(message.callId).toBe('split');
    expect(message.bodyText).toBe('a body that is split too');
    expect(recorder.messages.items).toHaveLength(1);
  });

  it('keeps a body with NUL bytes and bare LF byte for byte (RFC 4475 §3.1.1.11 mpart01)', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(MPART01);
    const { message } = await recorder.messages.next();
    const body = MPART01.subarray(MPART01.indexOf('\r\n\r\n') + 4);
    expect(body.includes(0)).toBe(true);
    expect(Buffer.from(message.body).equals(body)).toBe(true);
  });

  it('closes the connection when a message exceeds maxMessageSize, reporting SIP_ERR_TOO_LARGE', async () => {
    const { recorder, port } = await startTransport({ maxMessageSize: 1000 });
    const c = await client(port());
    c.write(requestText({ method: 'MESSAGE', body: 'x'.repeat(2000) }));
    const { error, flow } = await recorder.errors.next();
    expect(error.code).toBe('SIP_ERR_TOO_LARGE');
    await c.waitClosed();
    expect((await recorder.closed.next()).id).toBe(flow.id);
    expect(recorder.messages.items).toHaveLength(0);
  });

  it('closes the connection on a malformed Content-Length, since framing is lost (RFC 4475 §3.1.2.3)', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText({ method: 'MESSAGE', body: 'hello' }).replace('Content-Length: 5', 'Content-Length: five'));
    expect((await recorder.errors.next()).error.code).toBe('SIP_ERR_FRAMING');
    await c.waitClosed();
  });

  it('closes the connection when Content-Length is missing', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText({ contentLength: 'none' }));
    expect((await recorder.errors.next()).error.code).toBe('SIP_ERR_FRAMING');
    await c.waitClosed();
  });

  it('reports a framed message that does not parse and keeps the connection', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText().replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    const { error } = await recorder.errors.next();
    expect(error.code).toBe('SIP_ERR_CSEQ_METHOD');
    expect(error.partial).toBeInstanceOf(SipRequest);
    c.write(requestText({ callId: 'next' }));
    expect((await recorder.messages.next()).message.callId).toBe('next');
    expect(c.closed).toBe(false);
  });

  it('answers a CRLF CRLF ping with a CRLF pong (RFC 5626 §3.5.1)', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write('\r\n\r\n');
    await waitFor(() => c.received.length > 0);
    expect(c.received.toString()).toBe('\r\n');
    c.write('\r\n' + requestText({ callId: 'after-pong' }));
    expect((await recorder.messages.next()).message.callId).toBe('after-pong');
    expect(c.received.toString()).toBe('\r\n');
  });

  it('calls onFlowClosed when the peer disconnects; the flow then refuses to send', async () => {
    const { transport, recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText());
    const { flow } = await recorder.messages.next();
    c.destroy();
    expect((await recorder.closed.next()).id).toBe(flow.id);
    expect(flow.isOpen).toBe(false);
    expect(flow.send(Buffer.from(responseText()))).toBe(false);
    expect(transport.flowById(flow.id)).toBeUndefined();
    expect(transport.connectionCount).toBe(0);
  });

  it('closes gracefully on flow.close(), flushing what was sent first', async () => {
    const { recorder, port } = await startTransport();
    const c = await client(port());
    c.write(requestText());
    const { flow } = await recorder.messages.next();
    flow.send(Buffer.from(responseText({ callId: 'last words' })));
    flow.close();
    expect(flow.isOpen).toBe(false);
    await c.waitClosed();
    expect(c.received.toString()).toContain('Call-ID: last words');
    expect((await recorder.closed.next()).id).toBe(flow.id);
  });

  it('drops a connection whose peer does not read once maxWriteBufferBytes are queued', async () => {
    const { recorder, port } = await startTransport({ maxWriteBufferBytes: 64 * 1024 });
    const c = await client(port());
    c.write(requestText());
    const { flow } = await recorder.messages.next();
    c.socket.pause();
    const big = Buffer.from(requestText({ method: 'MESSAGE', body: 'x'.repeat(60_000) }));
    let sent = 0;
    while (flow.send(big) && sent < 5000) sent++;
    expect(sent).toBeLessThan(5000);
    expect(flow.isOpen).toBe(false);
    expect((await recorder.closed.next()).id).toBe(flow.id);
  });

  it('works over IPv6 (::1)', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'TCP', host: '::1', port: 0 }] });
    const c = await client(port(), '::1');
    c.write(requestText({ callId: 'v6' }));
    const { message, flow } = await recorder.messages.next();
    expect(message.callId).toBe('v6');
    expect(flow.remote.host).toBe('::1');
    flow.send(Buffer.from(responseText()));
    await c.waitReceived('SIP/2.0 200 OK');
  });

  describe('idle timeout', () => {
    it('closes a connection that carried nothing for idleTimeoutMs, counting traffic either way', async () => {
      const clock = new ManualClock();
      const { recorder, port } = await startTransport({ clock, idleTimeoutMs: 1000 });
      const c = await client(port());
      c.write(requestText());
      const { flow } = await recorder.messages.next();
      clock.advance(600);
      flow.send(Buffer.from(responseText()));
      clock.advance(600); // 1200 since connect, 600 since the response
      await sleep(20);
      expect(flow.isOpen).toBe(true);
      expect(c.closed).toBe(false);
      clock.advance(400);
      expect(flow.isOpen).toBe(false);
      await c.waitClosed();
      expect((await recorder.closed.next()).id).toBe(flow.id);
    });

    it('never closes for idleness when idleTimeoutMs is 0', async () => {
      const clock = new ManualClock();
      const { recorder, port } = await startTransport({ clock, idleTimeoutMs: 0 });
      const c = await client(port());
      c.write(requestText());
      const { flow } = await recorder.messages.next();
      clock.advance(24 * 3600_000);
      expect(flow.isOpen).toBe(true);
    });
  });

  describe('outbound connections (flowTo)', () => {
    it('connects, queues what is sent while connecting, gets the response on the same flow and reuses the connection', async () => {
      const server = await startTransport();
      const { transport, recorder } = await startTransport();
      const dest = { protocol: 'TCP' as const, host: '127.0.0.1', port: server.port() };
      const flow = transport.flowTo(dest);
      expect(flow.isOpen).toBe(true);
      expect(flow.send(Buffer.from(requestText({ callId: 'queued-1' })))).toBe(true);
      expect(flow.send(Buffer.from(requestText({ callId: 'queued-2' })))).toBe(true);
      const first = await server.recorder.messages.next();
      expect(first.message.callId).toBe('queued-1');
      expect((await server.recorder.messages.next()).message.callId).toBe('queued-2');
      first.flow.send(Buffer.from(responseText({ callId: 'queued-1' })));
      const res = await recorder.messages.next();
      expect(res.message).toBeInstanceOf(SipResponse);
      expect(res.flow).toBe(flow);
      expect(flow.local.port).toBe(first.flow.remote.port);
      expect(transport.flowTo(dest)).toBe(flow);
      expect(transport.flowById(flow.id)).toBe(flow);
      expect(transport.connectionCount).toBe(1);
    });

    it('reuses an inbound connection for a request to the same address and port', async () => {
      const { transport, recorder, port } = await startTransport();
      const c = await client(port());
      c.write(requestText());
      const { flow } = await recorder.messages.next();
      expect(transport.flowTo({ protocol: 'TCP', host: '127.0.0.1', port: c.socket.localPort! })).toBe(flow);
    });

    it('closes the flow and reports it when the connection cannot be made', async () => {
      const { transport, recorder } = await startTransport();
      const flow = transport.flowTo({ protocol: 'TCP', host: '127.0.0.1', port: await deadPort() });
      flow.send(Buffer.from(requestText()));
      expect((await recorder.closed.next()).id).toBe(flow.id);
      expect(flow.isOpen).toBe(false);
      expect(flow.send(Buffer.from(requestText()))).toBe(false);
    });

    it('gives up a connection still not up after connectTimeoutMs', async () => {
      const { cert, key } = await selfSignedCert();
      // A TCP server that accepts and never speaks: the TLS handshake never completes.
      const accepted: net.Socket[] = [];
      const silent = net.createServer((s) => accepted.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      open.push({ close: () => (accepted.forEach((s) => s.destroy()), new Promise((r) => silent.close(r))) });
      const clock = new ManualClock();
      const { transport, recorder } = await startTransport({ clock, connectTimeoutMs: 500, listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }] });
      const flow = transport.flowTo({ protocol: 'TLS', host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port });
      await sleep(50);
      expect(flow.isOpen).toBe(true);
      clock.advance(500);
      expect((await recorder.closed.next()).id).toBe(flow.id);
    });
  });
});

describe('TLS connection (RFC 3261 §26.2)', () => {
  it('carries a request and its response with a self-signed certificate the client trusts', async () => {
    const { cert, key } = await selfSignedCert();
    const server = await startTransport({ listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }] });
    const { transport, recorder } = await startTransport({
      listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }],
      tlsClient: { ca: cert },
    });
    const flow = transport.flowTo({ protocol: 'TLS', host: 'localhost', port: server.port() });
    flow.send(Buffer.from(requestText({ callId: 'tls-1', via: 'SIP/2.0/TLS client.test' })));
    const inbound = await server.recorder.messages.next();
    expect(inbound.message.callId).toBe('tls-1');
    expect(inbound.flow).toMatchObject({ protocol: 'TLS', reliable: true });
    inbound.flow.send(Buffer.from(responseText({ callId: 'tls-1' })));
    const res = await recorder.messages.next();
    expect(res.flow).toBe(flow);
    expect(res.message.callId).toBe('tls-1');
  });

  it('frames messages over TLS like TCP, keeping binary bodies intact', async () => {
    const { cert, key } = await selfSignedCert();
    const server = await startTransport({ listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert: Buffer.from(cert), key: Buffer.from(key) }] });
    const { transport } = await startTransport({ listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }], tlsClient: { ca: cert } });
    const flow = transport.flowTo({ protocol: 'TLS', host: '127.0.0.1', port: server.port() });
    flow.send(MPART01);
    flow.send(Buffer.from(requestText({ callId: 'second' })));
    const first = await server.recorder.messages.next();
    expect(Buffer.from(first.message.body).equals(MPART01.subarray(MPART01.indexOf('\r\n\r\n') + 4))).toBe(true);
    expect((await server.recorder.messages.next()).message.callId).toBe('second');
  });

  it('refuses a server whose certificate it does not trust', async () => {
    const { cert, key } = await selfSignedCert();
    const server = await startTransport({ listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }] });
    const { transport, recorder } = await startTransport({ listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, cert, key }] });
    const flow = transport.flowTo({ protocol: 'TLS', host: 'localhost', port: server.port() });
    flow.send(Buffer.from(requestText()));
    expect((await recorder.closed.next()).id).toBe(flow.id);
    await sleep(20);
    expect(server.recorder.messages.items).toHaveLength(0);
  });
});
