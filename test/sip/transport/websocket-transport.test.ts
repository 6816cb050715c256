import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { SipResponse } from '../../../sip/message/sip-response.js';
import { TransportError, type Flow } from '../../../sip/transport/transport.js';
import {
  WebSocketTransport,
  type WebSocketTransportEvents,
  type WebSocketTransportOptions,
} from '../../../sip/transport/websocket-transport.js';
import { Inbox, RecordingListener, requestText, responseText, selfSignedCert, sleep, waitFor } from '../node/transport-test-kit.js';

const MPART01 = readFileSync(new URL('../../fixtures/rfc4475/mpart01.dat', import.meta.url));

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** The relay side: a NodeTransport with a WS listener. */
async function relay(options: { idleTimeoutMs?: number } = {}) {
  const transport = new NodeTransport({ listeners: [{ protocol: 'WS', host: '127.0.0.1', port: 0 }], ...options });
  const recorder = new RecordingListener();
  transport.listen(recorder);
  await transport.start();
  open.push(transport);
  const a = transport.boundAddresses()[0];
  return { transport, recorder, url: `ws://127.0.0.1:${a.port}/sip` };
}

/** A browser transport over `ws`'s WebSocket, with events recorded. */
function browser(url: string, options: Partial<WebSocketTransportOptions> = {}) {
  const transport = new WebSocketTransport({ url, WebSocket: WebSocket, reconnect: false, ...options });
  const recorder = new RecordingListener();
  transport.listen(recorder);
  const events = new Inbox<{ type: keyof WebSocketTransportEvents } & Partial<WebSocketTransportEvents[keyof WebSocketTransportEvents]>>();
  for (const type of ['connected', 'disconnected', 'reconnecting'] as const) {
    transport.on(type, (e: object) => events.push({ type, ...e }));
  }
  open.push(transport);
  return { transport, recorder, events };
}

const anywhere = { protocol: 'UDP' as const, host: '192.0.2.7', port: 5060 };

describe('browser WebSocket transport (RFC 7118)', () => {
  it('connects with subprotocol sip and exchanges a request and a response with the relay', async () => {
    const server = await relay();
    const { transport, recorder } = browser(server.url);
    await transport.connect();
    expect(transport.state).toBe('connected');
    const flow = transport.flowTo({ protocol: 'WS', host: '127.0.0.1', port: 80 });
    expect(flow).toMatchObject({ protocol: 'WS', reliable: true, isOpen: true });
    expect(flow.send(Buffer.from(requestText({ callId: 'from-browser', via: `SIP/2.0/WS ${transport.viaHost}` })))).toBe(true);

    const inbound = await server.recorder.messages.next();
    expect(inbound.message).toBeInstanceOf(SipRequest);
    expect(inbound.message.callId).toBe('from-browser');
    expect(inbound.message.topVia.host).toBe(transport.viaHost);
    inbound.flow.send(Buffer.from(responseText({ callId: 'from-browser' })));

    const res = await recorder.messages.next();
    expect(res.message).toBeInstanceOf(SipResponse);
    expect(res.flow).toBe(flow);
  });

  it('receives requests the relay sends over the client’s own connection', async () => {
    const server = await relay();
    const { transport, recorder } = browser(server.url);
    await transport.connect();
    transport.flowTo(anywhere).send(Buffer.from(requestText({ method: 'REGISTER' })));
    const { flow: relaySide } = await server.recorder.messages.next();
    relaySide.send(Buffer.from(requestText({ method: 'INVITE', callId: 'to-browser' })));
    const { message } = await recorder.messages.next();
    expect((message as SipRequest).method).toBe('INVITE');
  });

  it('parses frames without Content-Length (§5)', async () => {
    const server = await relay();
    const { transport, recorder } = browser(server.url);
    await transport.connect();
    transport.flowTo(anywhere).send(Buffer.from(requestText()));
    const { flow } = await server.recorder.messages.next();
    flow.send(Buffer.from(requestText({ method: 'MESSAGE', body: 'no length', contentLength: 'none' })));
    expect((await recorder.messages.next()).message.bodyText).toBe('no length');
  });

  it('sends a body that is not UTF-8 in a binary frame, byte for byte', async () => {
    const server = await relay();
    const { transport } = browser(server.url);
    await transport.connect();
    transport.flowTo(anywhere).send(MPART01);
    const { message } = await server.recorder.messages.next();
    expect(Buffer.from(message.body).equals(MPART01.subarray(MPART01.indexOf('\r\n\r\n') + 4))).toBe(true);
  });

  it('gives one flow for every destination and a random .invalid Via host (§5.2)', async () => {
    const server = await relay();
    const { transport } = browser(server.url);
    await transport.connect();
    const flow = transport.flowTo(anywhere);
    expect(transport.flowTo({ protocol: 'TLS', host: 'shop.example', port: 5061 })).toBe(flow);
    expect(transport.flowById(flow.id)).toBe(flow);
    expect(transport.flowById('ws/other')).toBeUndefined();
    expect(transport.viaHost).toMatch(/^[a-z0-9]+\.invalid$/);
    expect(transport.localAddress('WS')).toEqual({ host: transport.viaHost, port: 0 });
    expect(transport.localAddress('UDP')).toBeUndefined();
    expect(flow.local.host).toBe(transport.viaHost);
    expect(transport.protocols).toEqual(['WS']);
    expect(new WebSocketTransport({ url: 'wss://relay.test/sip', WebSocket: WebSocket }).protocols).toEqual(['WSS']);
    expect(browser(server.url).transport.viaHost).not.toBe(transport.viaHost);
  });

  it('queues what is sent while the socket opens', async () => {
    const server = await relay();
    const { transport } = browser(server.url);
    const connected = transport.connect();
    expect(transport.state).toBe('connecting');
    expect(transport.flowTo(anywhere).send(Buffer.from(requestText({ callId: 'early' })))).toBe(true);
    await connected;
    expect((await server.recorder.messages.next()).message.callId).toBe('early');
  });

  it('connects over WSS; Via says WSS', async () => {
    const { cert, key } = await selfSignedCert();
    const server = new NodeTransport({ listeners: [{ protocol: 'WSS', host: '127.0.0.1', port: 0, cert, key }] });
    const recorder = new RecordingListener();
    server.listen(recorder);
    await server.start();
    open.push(server);
    // The browser trusts the relay's certificate; in Node the test says so.
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca: cert });
      }
    }
    const { transport } = browser(`wss://localhost:${server.boundAddresses()[0].port}/sip`, { WebSocket: TrustingWebSocket });
    await transport.connect();
    const flow = transport.flowTo(anywhere);
    expect(flow.protocol).toBe('WSS');
    flow.send(Buffer.from(requestText({ callId: 'secure' })));
    const inbound = await recorder.messages.next();
    expect(inbound.flow.protocol).toBe('WSS');
  });

  describe('connection state', () => {
    it('throws SIP_ERR_TRANSPORT_CLOSED from flowTo before connect() and after close()', async () => {
      const server = await relay();
      const { transport } = browser(server.url);
      expect(() => transport.flowTo(anywhere)).toThrow(TransportError);
      await transport.connect();
      const flow = transport.flowTo(anywhere);
      await transport.close();
      expect(transport.state).toBe('closed');
      expect(flow.isOpen).toBe(false);
      expect(flow.send(Buffer.from(requestText()))).toBe(false);
      expect(() => transport.flowTo(anywhere)).toThrow(expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_CLOSED' }));
      await expect(transport.connect()).rejects.toMatchObject({ code: 'SIP_ERR_TRANSPORT_CLOSED' });
      await waitFor(() => server.transport.connectionCount === 0);
    });

    it('rejects connect() when the relay cannot be reached and reconnecting is off', async () => {
      const server = await relay();
      const url = server.url;
      await server.transport.close();
      const { transport, events } = browser(url);
      await expect(transport.connect()).rejects.toMatchObject({ code: 'SIP_ERR_TRANSPORT_CONNECT' });
      expect(transport.state).toBe('closed');
      expect(await events.next()).toMatchObject({ type: 'disconnected', willReconnect: false });
    });

    it('refuses a server that does not agree to subprotocol sip', async () => {
      const plain = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
      await new Promise((r) => plain.once('listening', r));
      open.push({ close: () => new Promise((r) => plain.close(r)) });
      const { transport } = browser(`ws://127.0.0.1:${(plain.address() as AddressInfo).port}/sip`);
      await expect(transport.connect()).rejects.toBeInstanceOf(TransportError);
    });

    it('reports the flow closed and "disconnected" when the relay drops the connection', async () => {
      const server = await relay();
      const { transport, recorder, events } = browser(server.url);
      await transport.connect();
      expect(await events.next()).toMatchObject({ type: 'connected' });
      const flow = transport.flowTo(anywhere);
      flow.send(Buffer.from(requestText()));
      (await server.recorder.messages.next()).flow.close();
      expect(await recorder.closed.next()).toBe(flow);
      expect(await events.next()).toMatchObject({ type: 'disconnected', flow, code: 1000, willReconnect: false });
      expect(transport.state).toBe('closed');
    });

    it('reconnects with backoff on a new flow, announcing reconnecting and connected', async () => {
      const server = await relay();
      const { transport, recorder, events } = browser(server.url, { reconnect: { initialDelayMs: 20, jitter: 0 } });
      await transport.connect();
      await events.next(); // connected
      const first = transport.flowTo(anywhere);
      first.send(Buffer.from(requestText()));
      (await server.recorder.messages.next()).flow.close();

      expect(await events.next()).toMatchObject({ type: 'disconnected', flow: first, willReconnect: true });
      expect(await events.next()).toEqual({ type: 'reconnecting', attempt: 1, delayMs: 20 });
      const again = await events.next();
      expect(again.type).toBe('connected');
      const second = (again as { flow: Flow }).flow;
      expect(second.id).not.toBe(first.id);
      expect(transport.flowTo(anywhere)).toBe(second);
      expect(await recorder.closed.next()).toBe(first);
      second.send(Buffer.from(requestText({ callId: 'after-reconnect' })));
      expect((await server.recorder.messages.next()).message.callId).toBe('after-reconnect');
    });

    it('grows the delay between failed attempts and gives up after maxAttempts', async () => {
      const server = await relay();
      const url = server.url;
      await server.transport.close();
      const { transport, events } = browser(url, { reconnect: { initialDelayMs: 5, factor: 3, jitter: 0, maxAttempts: 3 } });
      const connecting = transport.connect();
      const delays: number[] = [];
      for (;;) {
        const e = await events.next();
        if (e.type === 'reconnecting') delays.push((e as { delayMs: number }).delayMs);
        if (e.type === 'disconnected' && !(e as { willReconnect: boolean }).willReconnect) break;
      }
      expect(delays).toEqual([5, 15, 45]);
      await expect(connecting).rejects.toMatchObject({ code: 'SIP_ERR_TRANSPORT_CONNECT' });
      expect(transport.state).toBe('closed');
    });
  });

  describe('keep-alive', () => {
    it('sends CRLF CRLF when idle; the relay answers and the connection stays up', async () => {
      const server = await relay({ idleTimeoutMs: 300 });
      const { transport, events } = browser(server.url, { keepAliveIntervalMs: 50, keepAliveTimeoutMs: 500 });
      await transport.connect();
      await events.next(); // connected
      // Without keep-alives the relay's idle timeout would close the connection at 300 ms.
      await sleep(800);
      expect(transport.state).toBe('connected');
      expect(events.items).toHaveLength(1);
      expect(server.recorder.messages.items).toHaveLength(0);
      expect(server.recorder.errors.items).toHaveLength(0);
    });

    it('answers the server’s CRLF CRLF ping with CRLF (RFC 5626 §3.5.1)', async () => {
      const replies = new Inbox<string>();
      const pinger = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'sip' });
      pinger.on('connection', (ws) => {
        ws.on('message', (d) => replies.push(d.toString()));
        ws.send('\r\n\r\n');
      });
      await new Promise((r) => pinger.once('listening', r));
      open.push({ close: () => new Promise((r) => (pinger.clients.forEach((c) => c.terminate()), pinger.close(r))) });
      const { transport, recorder } = browser(`ws://127.0.0.1:${(pinger.address() as AddressInfo).port}/sip`, { keepAliveIntervalMs: 0 });
      await transport.connect();
      expect(await replies.next()).toBe('\r\n');
      expect(recorder.messages.items).toHaveLength(0);
      expect(recorder.errors.items).toHaveLength(0);
    });

    it('drops the connection when a keep-alive gets no answer, and reconnects', async () => {
      // A server that accepts "sip" and then never says anything.
      const mute = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'sip' });
      await new Promise((r) => mute.once('listening', r));
      open.push({ close: () => new Promise((r) => (mute.clients.forEach((c) => c.terminate()), mute.close(r))) });
      const url = `ws://127.0.0.1:${(mute.address() as AddressInfo).port}/sip`;
      const { transport, events } = browser(url, { keepAliveIntervalMs: 30, keepAliveTimeoutMs: 50, reconnect: { initialDelayMs: 10, jitter: 0 } });
      await transport.connect();
      expect(await events.next()).toMatchObject({ type: 'connected' });
      expect(await events.next(2000)).toMatchObject({ type: 'disconnected', reason: 'keep-alive timeout', willReconnect: true });
      expect(await events.next()).toMatchObject({ type: 'reconnecting', attempt: 1 });
      expect(await events.next()).toMatchObject({ type: 'connected' });
    });
  });

  describe('options', () => {
    it('throws TypeError for a URL that is not ws: or wss:, and for bad limits', () => {
      const WS = WebSocket;
      expect(() => new WebSocketTransport({ url: 'http://relay.test/sip', WebSocket: WS })).toThrow(TypeError);
      expect(() => new WebSocketTransport({ url: 'not a url', WebSocket: WS })).toThrow(TypeError);
      expect(() => new WebSocketTransport({ url: 'ws://relay.test/sip', WebSocket: WS, keepAliveIntervalMs: -5 })).toThrow(TypeError);
      expect(() => new WebSocketTransport({ url: 'ws://relay.test/sip', WebSocket: WS, reconnect: { jitter: 2 } })).toThrow(TypeError);
    });

    it('uses globalThis.WebSocket when none is given, and says so when there is none', async () => {
      const server = await relay();
      vi.stubGlobal('WebSocket', undefined);
      try {
        expect(() => new WebSocketTransport({ url: server.url })).toThrow(TypeError);
        vi.stubGlobal('WebSocket', WebSocket);
        const t = new WebSocketTransport({ url: server.url, reconnect: false });
        open.push(t);
        await t.connect();
        t.flowTo(anywhere).send(Buffer.from(requestText({ callId: 'global' })));
        expect((await server.recorder.messages.next()).message.callId).toBe('global');
      } finally {
        vi.unstubAllGlobals();
      }
    });
  });
});
