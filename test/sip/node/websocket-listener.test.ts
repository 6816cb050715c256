import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { NodeTransportOptions } from '../../../sip/node/node-transport-options.js';
import { RecordingListener, requestText, responseText, selfSignedCert, waitFor, WsClient } from './transport-test-kit.js';

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

async function connect(url: string, protocols: string | string[] = 'sip', options = {}) {
  const c = await WsClient.connect(url, protocols, options);
  open.push(c);
  return c;
}

/** An application HTTP server the listener attaches to. */
async function appServer(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`app says hello from ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) });
  return { server, port: (server.address() as AddressInfo).port };
}

describe('WebSocket listener (RFC 7118)', () => {
  describe('handshake', () => {
    it('accepts a client offering subprotocol sip and selects it (§4)', async () => {
      const { url } = await startTransport();
      const c = await connect(url, ['chat', 'sip']);
      expect(c.ws.protocol).toBe('sip');
    });

    it('refuses a handshake that offers no subprotocol', async () => {
      const { url, transport } = await startTransport();
      await expect(WsClient.connect(url, [])).rejects.toMatchObject({ status: 400 });
      expect(transport.connectionCount).toBe(0);
    });

    it('refuses a handshake that offers only other subprotocols', async () => {
      const { url } = await startTransport();
      await expect(WsClient.connect(url, 'chat')).rejects.toMatchObject({ status: 400 });
    });

    it('refuses other paths with 404', async () => {
      const { port } = await startTransport();
      await expect(WsClient.connect(`ws://127.0.0.1:${port}/other`)).rejects.toMatchObject({ status: 404 });
    });

    it('answers a plain HTTP request with 426 Upgrade Required', async () => {
      const { port } = await startTransport();
      const res = await fetch(`http://127.0.0.1:${port}/sip`);
      expect(res.status).toBe(426);
      expect(res.headers.get('upgrade')).toBe('websocket');
    });

    it('refuses an origin that verifyOrigin rejects with 403', async () => {
      const { url } = await startTransport({
        listeners: [{ protocol: 'WS', host: '127.0.0.1', port: 0, verifyOrigin: (o) => o === 'https://portal.test' }],
      });
      await expect(WsClient.connect(url, 'sip', { origin: 'https://evil.test' })).rejects.toMatchObject({ status: 403 });
      const ok = await connect(url, 'sip', { origin: 'https://portal.test' });
      expect(ok.ws.protocol).toBe('sip');
    });

    it('refuses handshakes from one address beyond maxConnectionsPerAddress with 503', async () => {
      const { url, transport } = await startTransport({ maxConnectionsPerAddress: 1 });
      await connect(url);
      await waitFor(() => transport.connectionCount === 1);
      await expect(WsClient.connect(url)).rejects.toMatchObject({ status: 503 });
    });
  });

  describe('attached to an existing http.Server', () => {
    it('upgrades /sip while every other path still serves HTTP on the same port', async () => {
      const { server, port } = await appServer();
      const { recorder, transport } = await startTransport({ listeners: [{ protocol: 'WS', server }] });
      expect(transport.boundAddresses()).toEqual([{ protocol: 'WS', host: '127.0.0.1', port, path: '/sip' }]);
      expect(transport.localAddress('WS')).toEqual({ host: '127.0.0.1', port });

      const c = await connect(`ws://127.0.0.1:${port}/sip`);
      c.send(requestText({ callId: 'shared-port', via: 'SIP/2.0/WS abc.invalid' }));
      const { message, flow } = await recorder.messages.next();
      expect(message.callId).toBe('shared-port');
      expect(flow.protocol).toBe('WS');
      flow.send(Buffer.from(responseText({ callId: 'shared-port' })));
      expect((await c.frames.next()).text).toContain('Call-ID: shared-port');

      const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      expect(await res.text()).toBe('app says hello from /api/v1/health');
    });

    it('uses the configured path', async () => {
      const { server, port } = await appServer();
      await startTransport({ listeners: [{ protocol: 'WS', server, path: '/ws/sip' }] });
      expect((await connect(`ws://127.0.0.1:${port}/ws/sip`)).ws.protocol).toBe('sip');
      await expect(WsClient.connect(`ws://127.0.0.1:${port}/sip`)).rejects.toMatchObject({ status: 404 });
    });

    it('leaves upgrades on other paths to the server’s other upgrade listeners', async () => {
      const { server, port } = await appServer();
      await startTransport({ listeners: [{ protocol: 'WS', server }] });
      const other = new WebSocketServer({ noServer: true });
      server.on('upgrade', (req, socket, head) => {
        if (req.url === '/live') other.handleUpgrade(req, socket, head, (ws) => ws.send('live feed'));
      });
      open.push({ close: () => new Promise((r) => other.close(r)) });
      const live = await connect(`ws://127.0.0.1:${port}/live`, []);
      expect((await live.frames.next()).text).toBe('live feed');
      expect((await connect(`ws://127.0.0.1:${port}/sip`)).ws.protocol).toBe('sip');
    });

    it('detaches on close() and leaves the shared server running', async () => {
      const { server, port } = await appServer();
      const { transport } = await startTransport({ listeners: [{ protocol: 'WS', server }] });
      const c = await connect(`ws://127.0.0.1:${port}/sip`);
      await transport.close();
      expect(await c.waitClosed()).toBe(1001);
      expect(server.listenerCount('upgrade')).toBe(0);
      expect(await (await fetch(`http://127.0.0.1:${port}/x`)).text()).toBe('app says hello from /x');
    });

    it('refuses to attach WS to an https server, or WSS to an http server', async () => {
      const { server } = await appServer();
      expect(() => new NodeTransport({ listeners: [{ protocol: 'WSS', server }] })).toThrow(TypeError);
      const { cert, key } = await selfSignedCert();
      const secure = https.createServer({ cert, key });
      expect(() => new NodeTransport({ listeners: [{ protocol: 'WS', server: secure }] })).toThrow(TypeError);
    });
  });

  describe('WSS', () => {
    it('carries SIP over TLS with a self-signed certificate, on its own port', async () => {
      const { cert, key } = await selfSignedCert();
      const { recorder, port } = await startTransport({ listeners: [{ protocol: 'WSS', host: '127.0.0.1', port: 0, cert, key }] });
      const c = await connect(`wss://localhost:${port}/sip`, 'sip', { ca: cert });
      c.send(requestText({ callId: 'wss-1', via: 'SIP/2.0/WSS abc.invalid' }));
      const { message, flow } = await recorder.messages.next();
      expect(message.callId).toBe('wss-1');
      expect(flow).toMatchObject({ protocol: 'WSS', reliable: true });
      flow.send(Buffer.from(responseText({ callId: 'wss-1' })));
      expect((await c.frames.next()).text).toContain('Call-ID: wss-1');
    });

    it('attaches to an existing https.Server', async () => {
      const { cert, key } = await selfSignedCert();
      const server = https.createServer({ cert, key }, (_req, res) => res.end('secure app'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      open.push({ close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) });
      const port = (server.address() as AddressInfo).port;
      const { recorder } = await startTransport({ listeners: [{ protocol: 'WSS', server }] });
      const c = await connect(`wss://localhost:${port}/sip`, 'sip', { ca: cert });
      c.send(requestText({ callId: 'wss-shared' }));
      expect((await recorder.messages.next()).flow.protocol).toBe('WSS');
    });
  });
});
