import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { NodeTransportOptions } from '../../../sip/node/node-transport-options.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { SipResponse } from '../../../sip/message/sip-response.js';
import { Inbox, RecordingListener, requestText, responseText, sleep } from './transport-test-kit.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function startTransport(options: Partial<NodeTransportOptions> & Pick<NodeTransportOptions, 'listeners'>) {
  const transport = new NodeTransport(options);
  const recorder = new RecordingListener();
  transport.listen(recorder);
  await transport.start();
  open.push(transport);
  return { transport, recorder, port: (i = 0) => transport.boundAddresses()[i].port };
}

/** A plain UDP peer that records datagrams. */
async function udpPeer(type: 'udp4' | 'udp6' = 'udp4', host = type === 'udp4' ? '127.0.0.1' : '::1') {
  const socket = dgram.createSocket(type);
  const inbox = new Inbox<{ data: Buffer; port: number; address: string }>();
  socket.on('message', (data, rinfo) => inbox.push({ data, port: rinfo.port, address: rinfo.address }));
  await new Promise<void>((r) => socket.bind(0, host, r));
  const peer = {
    socket,
    inbox,
    port: socket.address().port,
    send: (text: string | Buffer, port: number, to = host) => socket.send(text, port, to),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
  open.push(peer);
  return peer;
}

/** Sends `count` padded datagrams at once while the event loop is blocked for `blockMs`; resolves with how many arrived. */
async function burstWhileBusy(receiveBufferBytes: number | undefined, count: number, blockMs: number): Promise<number> {
  const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0, receiveBufferBytes }] });
  const peer = await udpPeer();
  let arrived = 0;
  recorder.onMessage = () => {
    arrived++;
  };
  const padding = 'X-Padding: ' + 'p'.repeat(1000);
  for (let i = 0; i < count; i++) peer.send(requestText({ callId: `burst-${i}` }).replace('\r\n\r\n', `\r\n${padding}\r\n\r\n`), port());
  // The sends leave on this turn's ticks; then the loop is busy, as under load, and the kernel holds what fits.
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      const until = Date.now() + blockMs;
      while (Date.now() < until) {
        // busy
      }
      resolve();
    }),
  );
  await sleep(300);
  return arrived;
}

describe('UDP listener (RFC 3261 §18)', () => {
  it('keeps a burst that arrives while the event loop is busy: 4 MiB receive buffer by default, as Kamailio', async () => {
    expect(await burstWhileBusy(undefined, 800, 300)).toBe(800);
    // The same burst with a small buffer loses datagrams: the kernel drops what does not fit.
    expect(await burstWhileBusy(64 * 1024, 800, 300)).toBeLessThan(800);
  });

  it('refuses a receive or send buffer size that is not a positive integer', () => {
    expect(() => new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0, receiveBufferBytes: 0 }] })).toThrow(TypeError);
    expect(() => new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0, sendBufferBytes: 1.5 }] })).toThrow(TypeError);
  });

  it('delivers a datagram as a request on a UDP flow and sends the response back to its source', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    const peer = await udpPeer();
    peer.send(requestText({ callId: 'udp-1' }), port());
    const { message, flow } = await recorder.messages.next();
    expect(message).toBeInstanceOf(SipRequest);
    expect(message.callId).toBe('udp-1');
    expect(flow.protocol).toBe('UDP');
    expect(flow.reliable).toBe(false);
    expect(flow.isOpen).toBe(true);
    expect(flow.remote).toEqual({ host: '127.0.0.1', port: peer.port });
    expect(flow.local).toEqual({ host: '127.0.0.1', port: port() });

    expect(flow.send(Buffer.from(responseText({ callId: 'udp-1' })))).toBe(true);
    const got = await peer.inbox.next();
    expect(got.port).toBe(port());
    expect(got.data.toString()).toMatch(/^SIP\/2\.0 200 OK\r\n[\s\S]*Call-ID: udp-1\r\n/);
  });

  it('sends a request with flowTo and hands the response up on the same flow', async () => {
    const { transport, recorder } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    const peer = await udpPeer();
    const flow = transport.flowTo({ protocol: 'UDP', host: '127.0.0.1', port: peer.port });
    expect(flow.send(Buffer.from(requestText({ callId: 'out-1' })))).toBe(true);
    const req = await peer.inbox.next();
    expect(req.data.toString()).toContain('Call-ID: out-1');
    peer.send(responseText({ callId: 'out-1' }), req.port);
    const res = await recorder.messages.next();
    expect(res.message).toBeInstanceOf(SipResponse);
    expect(res.flow.id).toBe(flow.id);
    expect(transport.flowTo({ protocol: 'UDP', host: '127.0.0.1', port: peer.port })).toBe(flow);
  });

  it('works over IPv6 (::1)', async () => {
    const { transport, recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '::1', port: 0 }] });
    const peer = await udpPeer('udp6');
    peer.send(requestText({ callId: 'v6' }), port());
    const { message, flow } = await recorder.messages.next();
    expect(message.callId).toBe('v6');
    expect(flow.remote).toEqual({ host: '::1', port: peer.port });
    flow.send(Buffer.from(responseText()));
    expect((await peer.inbox.next()).data.toString()).toMatch(/^SIP\/2\.0 200/);
    expect(transport.localAddress('UDP')).toEqual({ host: '::1', port: port() });
  });

  it('chooses the listener socket of the destination address family', async () => {
    const { transport, port } = await startTransport({
      listeners: [
        { protocol: 'UDP', host: '127.0.0.1', port: 0 },
        { protocol: 'UDP', host: '::1', port: 0 },
      ],
    });
    const v4 = await udpPeer('udp4');
    const v6 = await udpPeer('udp6');
    transport.flowTo({ protocol: 'UDP', host: '::1', port: v6.port }).send(Buffer.from(requestText()));
    transport.flowTo({ protocol: 'UDP', host: '127.0.0.1', port: v4.port }).send(Buffer.from(requestText()));
    expect((await v6.inbox.next()).port).toBe(port(1));
    expect((await v4.inbox.next()).port).toBe(port(0));
  });

  it('names IPv4 peers of a dual-stack socket by their IPv4 address and still reaches them', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '::', port: 0 }], advertisedHost: 'relay.test' });
    const peer = await udpPeer('udp4');
    peer.send(requestText(), port());
    const { flow } = await recorder.messages.next();
    expect(flow.remote.host).toBe('127.0.0.1');
    expect(flow.local.host).toBe('relay.test');
    flow.send(Buffer.from(responseText()));
    expect((await peer.inbox.next()).data.toString()).toMatch(/^SIP\/2\.0 200/);
  });

  it('takes the rest of the datagram as the body when Content-Length is absent (§18.3)', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    const peer = await udpPeer();
    peer.send(requestText({ method: 'MESSAGE', body: 'hello there', contentLength: 'none' }), port());
    const { message } = await recorder.messages.next();
    expect(message.bodyText).toBe('hello there');
  });

  it('ignores bytes after the body that Content-Length announces (§18.3)', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    const peer = await udpPeer();
    peer.send(requestText({ method: 'MESSAGE', body: 'hello there', contentLength: 5 }), port());
    const { message } = await recorder.messages.next();
    expect(message.bodyText).toBe('hello');
  });

  it('drops a datagram larger than maxMessageSize and reports SIP_ERR_TOO_LARGE', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], maxMessageSize: 1000 });
    const peer = await udpPeer();
    peer.send(requestText({ method: 'MESSAGE', body: 'x'.repeat(1500) }), port());
    const { error, flow, bytes } = await recorder.errors.next();
    expect(error.code).toBe('SIP_ERR_TOO_LARGE');
    expect(flow.remote.port).toBe(peer.port);
    expect(bytes.length).toBeGreaterThan(1000);
    // The listener keeps serving.
    peer.send(requestText({ callId: 'after' }), port());
    expect((await recorder.messages.next()).message.callId).toBe('after');
    expect(recorder.messages.items).toHaveLength(1);
  });

  it('reports an unparsable datagram with what was parsed, so the layer above can answer 400', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    const peer = await udpPeer();
    peer.send(requestText({ callId: 'bad-cseq' }).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS'), port());
    const { error } = await recorder.errors.next();
    expect(error.status).toBe(400);
    expect((error.partial as SipRequest).method).toBe('OPTIONS');
  });

  it('ignores CRLF keep-alive datagrams', async () => {
    const { recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    const peer = await udpPeer();
    peer.send('\r\n\r\n', port());
    peer.send(requestText({ callId: 'real' }), port());
    expect((await recorder.messages.next()).message.callId).toBe('real');
    expect(recorder.errors.items).toHaveLength(0);
  });

  it('remembers at most maxUdpFlows flows, and flowById rebuilds a forgotten one with the same id', async () => {
    const { transport, recorder, port } = await startTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], maxUdpFlows: 2 });
    const peers = [await udpPeer(), await udpPeer(), await udpPeer()];
    for (const p of peers) {
      p.send(requestText(), port());
      await recorder.messages.next();
    }
    const first = recorder.messages.items[0].flow;
    const again = transport.flowById(first.id);
    expect(again).toBeDefined();
    expect(again).not.toBe(first);
    expect(again!.id).toBe(first.id);
    again!.send(Buffer.from(responseText()));
    expect((await peers[0].inbox.next()).data.toString()).toMatch(/^SIP\/2\.0 200/);
    expect(transport.flowById('udp/127.0.0.1:' + port() + '/relay.example.com:5060')).toBeUndefined();
    expect(transport.flowById('udp/nonsense')).toBeUndefined();
  });

  it('reports nothing for a datagram when no listener is set, and keeps serving', async () => {
    const transport = new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    await transport.start();
    open.push(transport);
    const peer = await udpPeer();
    peer.send(requestText(), transport.boundAddresses()[0].port);
    await sleep(50);
    const recorder = new RecordingListener();
    transport.listen(recorder);
    peer.send(requestText({ callId: 'late' }), transport.boundAddresses()[0].port);
    expect((await recorder.messages.next()).message.callId).toBe('late');
  });
});
