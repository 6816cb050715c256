import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { NodeTransportOptions } from '../../../sip/node/node-transport-options.js';
import { SipResponse } from '../../../sip/message/sip-response.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { RecordingListener, requestText, responseText, selfSignedCert, sleep, WsClient } from './transport-test-kit.js';

const MPART01 = readFileSync(new URL('../../fixtures/rfc4475/mpart01.dat', import.meta.url));
const MPART01_BODY = MPART01.subarray(MPART01.indexOf('\r\n\r\n') + 4);

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function startTransport(options: Partial<NodeTransportOptions> = {}) {
  const transport = new NodeTransport({ listeners: [{ protocol: 'WS', host: '127.0.0.1', port: 0 }], ...options });
  const recorder = new RecordingListener();
  transport.listen(recorder);
  await transport.start();
  open.push(transport);
  const a = transport.boundAddresses()[0];
  return { transport, recorder, url: `ws://127.0.0.1:${a.port}${a.path}`, port: a.port };
}

async function connect(url: string) {
  const c = await WsClient.connect(url);
  open.push(c);
  return c;
}

describe('WebSocket connection (RFC 7118 §5)', () => {
  it('delivers a text frame with Content-Length as one message on a WS flow', async () => {
    const { recorder, url } = await startTransport();
    const c = await connect(url);
    c.send(requestText({ callId: 'with-cl', method: 'MESSAGE', body: 'hello' }));
    const { message, flow } = await recorder.messages.next();
    expect(message.callId).toBe('with-cl');
    expect(message.bodyText).toBe('hello');
    expect(flow).toMatchObject({ protocol: 'WS', reliable: true, isOpen: true });
    expect(flow.remote).toEqual({ host: '127.0.0.1', port: (c.ws as unknown as { _socket: net.Socket })._socket.localPort });
  });

  it('delivers a frame without Content-Length, the frame delimiting the message', async () => {
    const { recorder, url } = await startTransport();
    const c = await connect(url);
    c.send(requestText({ callId: 'no-cl', method: 'MESSAGE', body: 'whole frame is the body', contentLength: 'none' }));
    const { message } = await recorder.messages.next();
    expect(message.bodyText).toBe('whole frame is the body');
  });

  it('accepts binary frames and keeps a body with NUL bytes and bare LF intact', async () => {
    const { recorder, url } = await startTransport();
    const c = await connect(url);
    c.send(MPART01, true);
    const { message } = await recorder.messages.next();
    expect(Buffer.from(message.body).equals(MPART01_BODY)).toBe(true);
  });

  it('sends UTF-8 messages as text frames and a message with raw body bytes as a binary frame', async () => {
    const { recorder, url } = await startTransport();
    const c = await connect(url);
    c.send(requestText());
    const { flow } = await recorder.messages.next();
    flow.send(Buffer.from(responseText({ callId: 'text-frame' }) /* plain ASCII */));
    flow.send(Buffer.from(requestText({ method: 'MESSAGE', body: 'Grüße ✓' })));
    flow.send(MPART01);
    const [a, b, bin] = [await c.frames.next(), await c.frames.next(), await c.frames.next()];
    expect(a.isBinary).toBe(false);
    expect(b.isBinary).toBe(false);
    expect(b.data.toString('utf8')).toContain('Grüße ✓');
    expect(bin.isBinary).toBe(true);
    expect(bin.data.equals(MPART01)).toBe(true);
  });

  it('answers a CRLF CRLF keep-alive frame with CRLF and ignores a lone CRLF', async () => {
    const { recorder, url } = await startTransport();
    const c = await connect(url);
    c.send('\r\n\r\n');
    expect((await c.frames.next()).text).toBe('\r\n');
    c.send('\r\n');
    c.send(requestText({ callId: 'after' }));
    expect((await recorder.messages.next()).message.callId).toBe('after');
    await sleep(20);
    expect(c.frames.items).toHaveLength(1);
    expect(recorder.errors.items).toHaveLength(0);
  });

  it('reports a frame that does not parse and keeps the connection', async () => {
    const { recorder, url } = await startTransport();
    const c = await connect(url);
    c.send('this is not SIP\r\n\r\n');
    expect((await recorder.errors.next()).error.code).toBe('SIP_ERR_START_LINE');
    c.send(requestText({ callId: 'still-here' }));
    expect((await recorder.messages.next()).message.callId).toBe('still-here');
  });

  it('closes the connection with 1009 on a frame over wsMaxPayload', async () => {
    const { recorder, url } = await startTransport({ wsMaxPayload: 2000 });
    const c = await connect(url);
    c.send(requestText({ method: 'MESSAGE', body: 'x'.repeat(3000) }));
    expect(await c.waitClosed()).toBe(1009);
    await recorder.closed.next();
    expect(recorder.messages.items).toHaveLength(0);
  });

  it('drops a frame over maxMessageSize but under wsMaxPayload, reporting SIP_ERR_TOO_LARGE', async () => {
    const { recorder, url } = await startTransport({ maxMessageSize: 1000, wsMaxPayload: 4000 });
    const c = await connect(url);
    c.send(requestText({ method: 'MESSAGE', body: 'x'.repeat(2000) }));
    expect((await recorder.errors.next()).error.code).toBe('SIP_ERR_TOO_LARGE');
  });

  it('calls onFlowClosed when the client goes away', async () => {
    const { recorder, url, transport } = await startTransport();
    const c = await connect(url);
    c.send(requestText());
    const { flow } = await recorder.messages.next();
    c.ws.close(1000);
    expect((await recorder.closed.next()).id).toBe(flow.id);
    expect(flow.isOpen).toBe(false);
    expect(flow.send(Buffer.from(responseText()))).toBe(false);
    expect(transport.connectionCount).toBe(0);
  });

  it('closes a WebSocket idle for idleTimeoutMs', async () => {
    const clock = new ManualClock();
    const { recorder, url } = await startTransport({ clock, idleTimeoutMs: 5000 });
    const c = await connect(url);
    c.send(requestText());
    const { flow } = await recorder.messages.next();
    clock.advance(4999);
    expect(flow.isOpen).toBe(true);
    clock.advance(1);
    expect(await c.waitClosed()).toBe(1000);
    expect((await recorder.closed.next()).id).toBe(flow.id);
  });

  it('works over IPv6 (::1)', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'WS', host: '::1', port: 0 }] });
    const c = await connect(`ws://[::1]:${port}/sip`);
    c.send(requestText({ callId: 'ws-v6' }));
    const { flow } = await recorder.messages.next();
    expect(flow.remote.host).toBe('::1');
  });

  describe('outbound (flowTo WS/WSS)', () => {
    it('connects with subprotocol sip, queues while connecting, reuses the connection and gets the response on it', async () => {
      const server = await startTransport();
      const { transport, recorder } = await startTransport();
      const dest = { protocol: 'WS' as const, host: '127.0.0.1', port: server.port };
      const flow = transport.flowTo(dest);
      expect(flow.send(Buffer.from(requestText({ callId: 'ws-out' })))).toBe(true);
      const inbound = await server.recorder.messages.next();
      expect(inbound.message.callId).toBe('ws-out');
      inbound.flow.send(Buffer.from(responseText({ callId: 'ws-out' })));
      const res = await recorder.messages.next();
      expect(res.message).toBeInstanceOf(SipResponse);
      expect(res.flow).toBe(flow);
      expect(flow.local.port).toBe(inbound.flow.remote.port);
      expect(transport.flowTo(dest)).toBe(flow);
    });

    it('connects to WSS, verifying the server against tlsClient.ca', async () => {
      const { cert, key } = await selfSignedCert();
      const server = await startTransport({ listeners: [{ protocol: 'WSS', host: '127.0.0.1', port: 0, cert, key }] });
      const { transport } = await startTransport({ listeners: [{ protocol: 'WSS', host: '127.0.0.1', port: 0, cert, key }], tlsClient: { ca: cert } });
      transport.flowTo({ protocol: 'WSS', host: 'localhost', port: server.port }).send(Buffer.from(requestText({ callId: 'wss-out' })));
      const inbound = await server.recorder.messages.next();
      expect(inbound.message.callId).toBe('wss-out');
      expect(inbound.flow.protocol).toBe('WSS');
    });

    it('closes the flow when the server does not agree to subprotocol sip', async () => {
      const plain = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
      await new Promise((r) => plain.once('listening', r));
      open.push({ close: () => new Promise((r) => plain.close(r)) });
      const { transport, recorder } = await startTransport();
      const flow = transport.flowTo({ protocol: 'WS', host: '127.0.0.1', port: (plain.address() as net.AddressInfo).port });
      flow.send(Buffer.from(requestText()));
      expect((await recorder.closed.next()).id).toBe(flow.id);
      expect(flow.isOpen).toBe(false);
    });
  });
});
