import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../../sip/message/create-response.js';
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { ServerInviteTransaction } from '../../../sip/transaction/server-invite-transaction.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../../sip/transaction/transaction-layer.js';
import { isSipParseError } from '../../../sip/errors.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { FakeTransport, RecordingClientUser, RecordingHandler, crlf } from './fakes.js';
import { outgoing, requestText, responseTo } from './messages.js';

const layerErrors: unknown[] = [];
afterEach(() => {
  expect(layerErrors).toEqual([]);
  layerErrors.length = 0;
});

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/rfc4475/${name}`, import.meta.url)), 'latin1');
}

function setup(options: Partial<TransactionLayerOptions> = {}) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const handler = new RecordingHandler();
  const layer = new TransactionLayer({ transport, handler, clock, onError: (e) => layerErrors.push(e), ...options });
  const flow = transport.peer('UDP', '192.0.2.1', 5060);
  return { clock, transport, handler, layer, flow };
}

const tx = (handler: RecordingHandler, i: number) => handler.requests[i].transaction;

describe('transaction layer', () => {
  describe('when a request arrives', () => {
    it('stamps received and rport into the top Via before the TU sees it (§18.2.1, RFC 3581)', () => {
      const { transport, handler } = setup();
      const natted = transport.peer('UDP', '203.0.113.7', 61000);
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport' }), natted);
      const via = handler.requests[0].request.topVia;
      expect(via.received).toBe('203.0.113.7');
      expect(via.rport).toBe(61000);
    });

    it('sends the responses of that request back to received:rport over the flow it came on', () => {
      const { transport, handler } = setup();
      const natted = transport.peer('UDP', '203.0.113.7', 61000);
      handler.respond = (req, t) => t.respond(createResponse(req, 200, { toTag: 'x' }));
      transport.deliver(requestText({ method: 'OPTIONS', via: 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport' }), natted);
      const [res] = natted.take() as SipResponse[];
      expect(res.status).toBe(200);
      expect(res.topVia.toString()).toBe('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport=61000;received=203.0.113.7');
    });

    it('sends responses to received and the sent-by port when the Via has no rport', () => {
      const { transport, handler } = setup();
      const natted = transport.peer('UDP', '203.0.113.7', 61000);
      handler.respond = (req, t) => t.respond(createResponse(req, 200, { toTag: 'x' }));
      transport.deliver(requestText({ method: 'OPTIONS', via: 'SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKnat' }), natted);
      expect(natted.sent).toHaveLength(0);
      const other = transport.flows.find((f) => f.remote.host === '203.0.113.7' && f.remote.port === 5070);
      expect(other?.takeLines()).toEqual(['SIP/2.0 200 OK']);
    });

    it('answers over a new connection to the sent-by port when the TCP connection closed', () => {
      const { transport, handler } = setup();
      const tcp = transport.peer('TCP', '192.0.2.1', 40312);
      transport.deliver(requestText({ via: 'SIP/2.0/TCP 192.0.2.1:5062;branch=z9hG4bKtcp' }), tcp);
      transport.dropFlow(tcp);
      tx(handler, 0).respond(createResponse(handler.requests[0].request, 486, { toTag: 'x' }));
      const fresh = transport.flows.find((f) => f.protocol === 'TCP' && f.isOpen);
      expect(fresh?.remote).toEqual({ host: '192.0.2.1', port: 5062 });
      expect(fresh?.takeLines()).toEqual(['SIP/2.0 486 Busy Here']);
    });

    it('tells the TU when the transport cannot give a new connection for a response', () => {
      const { transport, handler } = setup();
      const tcp = transport.peer('TCP', '192.0.2.1', 40312);
      transport.deliver(requestText({ method: 'OPTIONS', via: 'SIP/2.0/TCP 192.0.2.1:5062;branch=z9hG4bKtcp2' }), tcp);
      transport.dropFlow(tcp);
      transport.unavailable.add('TCP');
      const t = tx(handler, 0);
      const events: string[] = [];
      t.user = { onTransportError: (_t, e) => events.push(e.code) };
      expect(t.respond(createResponse(handler.requests[0].request, 200))).toBe(false);
      expect(events).toEqual(['SIP_ERR_TRANSPORT_UNAVAILABLE']);
    });

    it('tells the TU when no flow can be had for a response (a closed WebSocket)', () => {
      const { transport, handler } = setup();
      const ws = transport.peer('WS', '192.0.2.1', 40312);
      transport.deliver(requestText({ method: 'MESSAGE', via: 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws' }), ws);
      transport.dropFlow(ws);
      const t = tx(handler, 0);
      const events: string[] = [];
      t.user = { onTransportError: (_t, e) => events.push(e.code) };
      expect(t.respond(createResponse(handler.requests[0].request, 200))).toBe(false);
      expect(events).toEqual(['SIP_ERR_TRANSPORT_UNAVAILABLE']);
      expect(t.state).toBe('Terminated');
    });
  });

  describe('matching requests to server transactions (§17.2.3)', () => {
    it('absorbs a retransmission: same branch, sent-by and method', () => {
      const { transport, handler, flow, layer } = setup();
      transport.deliver(requestText(), flow);
      transport.deliver(requestText(), flow);
      expect(handler.requests).toHaveLength(1);
      expect(layer.serverTransactionCount).toBe(1);
    });

    it('compares branches without regard to case (§7.3.1)', () => {
      const { transport, handler, flow } = setup();
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKAbC' }), flow);
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc' }), flow);
      expect(handler.requests).toHaveLength(1);
    });

    it('creates a new transaction for the same branch from another sent-by', () => {
      const { transport, handler, flow } = setup();
      transport.deliver(requestText(), flow);
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKnashds8' }), flow);
      expect(handler.requests).toHaveLength(2);
    });

    it('creates a new transaction for the same branch with another method', () => {
      const { transport, handler, flow } = setup();
      transport.deliver(requestText({ method: 'INVITE' }), flow);
      transport.deliver(requestText({ method: 'CANCEL' }), flow);
      expect(handler.requests.map((r) => r.request.method)).toEqual(['INVITE', 'CANCEL']);
      expect(handler.requests.map((r) => r.transaction.isInvite)).toEqual([true, false]);
    });

    it("matches an ACK with the INVITE's branch to the INVITE transaction", () => {
      const { transport, handler, flow } = setup();
      transport.deliver(requestText(), flow);
      const t = tx(handler, 0) as ServerInviteTransaction;
      t.respond(createResponse(handler.requests[0].request, 404, { toTag: 'x' }));
      transport.deliver(requestText({ method: 'ACK', toTag: 'x' }), flow);
      expect(t.state).toBe('Confirmed');
      expect(handler.acks).toHaveLength(0);
    });

    it('hands an ACK that matches no transaction (ACK for 2xx) to onAck', () => {
      const { transport, handler, flow, layer } = setup();
      transport.deliver(requestText({ method: 'ACK', toTag: 'x', via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKack' }), flow);
      expect(handler.acks).toHaveLength(1);
      expect(handler.acks[0].transaction).toBeUndefined();
      expect(handler.acks[0].flow).toBe(flow);
      expect(handler.requests).toHaveLength(0);
      expect(layer.serverTransactionCount).toBe(0);
    });
  });

  describe('RFC 2543 fallback matching (§17.2.3)', () => {
    const inv2543 = fixture('inv2543.dat');

    it('creates a transaction for an INVITE without a branch (RFC 4475 §3.4.1) and absorbs its retransmission', () => {
      const { transport, handler, flow } = setup();
      transport.deliver(inv2543, flow);
      transport.deliver(inv2543, flow);
      expect(handler.requests).toHaveLength(1);
      expect(handler.requests[0].request.callId).toBe('inv2543.1717@ift.client.example.com');
    });

    it('tells requests apart by Request-URI, From tag, Call-ID, CSeq and top Via', () => {
      const { transport, handler, flow } = setup();
      const base = { via: 'SIP/2.0/UDP 192.0.2.1:5060', fromTag: 'f1' };
      transport.deliver(requestText(base), flow);
      transport.deliver(requestText({ ...base, uri: 'sip:carol@example.com' }), flow);
      transport.deliver(requestText({ ...base, fromTag: 'f2' }), flow);
      transport.deliver(requestText({ ...base, callId: 'other@pc33' }), flow);
      transport.deliver(requestText({ ...base, cseq: 2 }), flow);
      transport.deliver(requestText({ ...base, via: 'SIP/2.0/UDP 192.0.2.1:5062' }), flow);
      transport.deliver(requestText(base), flow);
      expect(handler.requests).toHaveLength(6);
    });

    it('includes the To tag for requests other than INVITE', () => {
      const { transport, handler, flow } = setup();
      const base = { method: 'BYE', via: 'SIP/2.0/UDP 192.0.2.1:5060', toTag: 't1' };
      transport.deliver(requestText(base), flow);
      transport.deliver(requestText({ ...base, toTag: 't2' }), flow);
      transport.deliver(requestText(base), flow);
      expect(handler.requests).toHaveLength(2);
    });

    it('matches an ACK whose To tag is that of the response sent, and hands any other ACK to onAck', () => {
      const { transport, handler, flow } = setup();
      transport.deliver(inv2543, flow);
      const t = tx(handler, 0) as ServerInviteTransaction;
      t.respond(createResponse(handler.requests[0].request, 486, { toTag: 'busy' }));
      const invite = parseMessage(inv2543) as SipRequest;
      const ackText = (toTag: string) =>
        crlf(
          [
            'ACK sip:UserB@example.com SIP/2.0',
            'Via: SIP/2.0/UDP iftgw.example.com',
            `To: ${invite.header('to')};tag=${toTag}`,
            `From: ${invite.header('from')}`,
            `Call-ID: ${invite.callId}`,
            'CSeq: 56 ACK',
            'Content-Length: 0',
            '',
            '',
          ].join('\n'),
        );
      transport.deliver(ackText('other'), flow);
      expect(t.state).toBe('Completed');
      expect(handler.acks).toHaveLength(1);
      transport.deliver(ackText('busy'), flow);
      expect(t.state).toBe('Confirmed');
      expect(handler.acks).toHaveLength(1);
    });

    it('treats the bare magic cookie as no RFC 3261 branch (RFC 4475 §3.2.1)', () => {
      const { transport, handler, flow } = setup();
      const badbranch = fixture('badbranch.dat');
      transport.deliver(badbranch, flow);
      transport.deliver(badbranch, flow);
      // The same bare branch on another call is another transaction, not a retransmission.
      transport.deliver(badbranch.replace('badbranch.sadonfo23i420jv0as0derf3j3n', 'another-call'), flow);
      expect(handler.requests.map((r) => r.request.callId)).toEqual(['badbranch.sadonfo23i420jv0as0derf3j3n', 'another-call']);
    });
  });

  describe('CANCEL (§9.2)', () => {
    it('runs each CANCEL in its own non-INVITE transaction handed to onRequest', () => {
      const { transport, handler, flow } = setup();
      transport.deliver(requestText(), flow);
      transport.deliver(requestText({ method: 'CANCEL' }), flow);
      expect(handler.requests[1].request.method).toBe('CANCEL');
      expect(tx(handler, 1).isInvite).toBe(false);
      expect(tx(handler, 1).state).toBe('Trying');
    });

    it('finds the INVITE server transaction with the same branch and sent-by', () => {
      const { transport, handler, flow, layer } = setup();
      transport.deliver(requestText(), flow);
      transport.deliver(requestText({ method: 'CANCEL' }), flow);
      expect(layer.findInviteForCancel(handler.requests[1].request)).toBe(tx(handler, 0));
    });

    it('finds nothing for a CANCEL with another branch (the TU answers 481)', () => {
      const { transport, handler, flow, layer } = setup();
      transport.deliver(requestText(), flow);
      transport.deliver(requestText({ method: 'CANCEL', via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKother' }), flow);
      expect(layer.findInviteForCancel(handler.requests[1].request)).toBeUndefined();
    });

    it('does not take a non-INVITE transaction with that branch for the INVITE', () => {
      const { transport, handler, flow, layer } = setup();
      transport.deliver(requestText({ method: 'OPTIONS' }), flow);
      transport.deliver(requestText({ method: 'CANCEL' }), flow);
      expect(layer.findInviteForCancel(handler.requests[1].request)).toBeUndefined();
    });

    it('finds an RFC 2543 INVITE by Request-URI, tags, Call-ID, CSeq number and top Via', () => {
      const { transport, handler, flow, layer } = setup();
      const base = { via: 'SIP/2.0/UDP 192.0.2.1:5060' };
      transport.deliver(requestText(base), flow);
      transport.deliver(requestText({ ...base, method: 'CANCEL' }), flow);
      transport.deliver(requestText({ ...base, method: 'CANCEL', cseq: 7 }), flow);
      transport.deliver(requestText({ ...base, method: 'CANCEL', toTag: 'not-the-invites' }), flow);
      expect(layer.findInviteForCancel(handler.requests[1].request)).toBe(tx(handler, 0));
      expect(layer.findInviteForCancel(handler.requests[2].request)).toBeUndefined();
      expect(layer.findInviteForCancel(handler.requests[3].request)).toBeUndefined();
    });

    it('refuses a request that is not a CANCEL (TypeError)', () => {
      const { layer } = setup();
      expect(() => layer.findInviteForCancel(parseMessage(requestText()) as SipRequest)).toThrow(TypeError);
    });
  });

  describe('matching responses to client transactions (§17.1.3)', () => {
    function sent(method = 'INVITE') {
      const env = setup();
      const user = new RecordingClientUser();
      const out = env.transport.peer('UDP', '192.0.2.20', 5060);
      if (method === 'INVITE') env.layer.sendInvite(outgoing(), out, user);
      else env.layer.sendRequest(outgoing(method), out, user);
      const request = out.take()[0] as SipRequest;
      return { ...env, user, out, request };
    }

    it('matches by branch and CSeq method', () => {
      const { transport, out, request, user } = sent();
      transport.deliverMessage(responseTo(request, 180), out);
      expect(user.events).toEqual(['response 180']);
    });

    it('does not match a response with the branch but another CSeq method', () => {
      const { transport, out, request, user, handler } = sent();
      const res = responseTo(request, 200);
      res.setHeader('CSeq', `${request.cseq.seq} CANCEL`);
      transport.deliverMessage(res, out);
      expect(user.events).toEqual([]);
      expect(handler.strays.map((r) => r.status)).toEqual([200]);
    });

    it('hands a response with an unknown branch, or none, to onStrayResponse', () => {
      const { transport, out, request, handler } = sent('OPTIONS');
      const unknown = responseTo(request, 200);
      unknown.replaceFirstListElement('via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnobody');
      const none = responseTo(request, 200);
      none.replaceFirstListElement('via', 'SIP/2.0/UDP 192.0.2.10:5060');
      transport.deliverMessage(unknown, out);
      transport.deliverMessage(none, out);
      expect(handler.strays).toHaveLength(2);
    });

    it('works without an onStrayResponse handler', () => {
      const clock = new ManualClock();
      const transport = new FakeTransport();
      new TransactionLayer({ transport, clock, handler: { onRequest() {}, onAck() {} }, onError: (e) => layerErrors.push(e) });
      const res = responseTo(parseMessage(requestText()) as SipRequest, 200);
      transport.deliverMessage(res, transport.peer('UDP'));
    });
  });

  describe('stateless sending', () => {
    it('sendStateless() writes the message as it is on the flow', () => {
      const { layer, flow } = setup();
      const res = createResponse(parseMessage(requestText()) as SipRequest, 200, { toTag: 'x' });
      expect(layer.sendStateless(res, flow)).toBe(true);
      expect(flow.take()[0].toString()).toBe(res.toString());
    });

    it("prependVia() adds this hop's Via for the flow's protocol and returns its branch", () => {
      const { layer, transport } = setup();
      const ack = outgoing('ACK');
      const ws = transport.peer('WSS', '192.0.2.50', 443);
      const branch = layer.prependVia(ack, ws);
      expect(ack.topVia.toString()).toBe(`SIP/2.0/WSS 192.0.2.10:5060;branch=${branch};rport`);
      expect(branch.startsWith('z9hG4bK')).toBe(true);
    });

    it('brackets an IPv6 sent-by and leaves rport out when told to', () => {
      const clock = new ManualClock();
      const transport = new FakeTransport();
      transport.localAddress = () => ({ host: '2001:db8::10', port: 5060 });
      const layer = new TransactionLayer({ transport, clock, handler: new RecordingHandler(), rport: false });
      const req = outgoing('OPTIONS');
      layer.prependVia(req, transport.peer('UDP'), 'z9hG4bKv6');
      expect(req.topVia.toString()).toBe('SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bKv6');
    });

    it('writes the sent-by without a port when the transport has none to advertise (RFC 7118 §5.2)', () => {
      const clock = new ManualClock();
      const transport = new FakeTransport();
      transport.localAddress = () => ({ host: 'df7jal23ls0d.invalid', port: 0 });
      const layer = new TransactionLayer({ transport, clock, handler: new RecordingHandler() });
      const req = outgoing('OPTIONS');
      layer.prependVia(req, transport.peer('WSS', '192.0.2.50', 443), 'z9hG4bKws');
      expect(req.topVia.toString()).toBe('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKws;rport');
    });

    it('keeps a top Via the TU wrote when asked, and refuses one without the magic cookie', () => {
      const { layer, transport } = setup();
      const out = transport.peer('UDP', '192.0.2.20', 5060);
      const req = outgoing('OPTIONS');
      req.prependHeader('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1');
      const t = layer.sendRequest(req, out, new RecordingClientUser(), { keepTopVia: true });
      expect(t.branch).toBe('z9hG4bKproxy1');
      expect((out.take()[0] as SipRequest).via).toHaveLength(1);
      const old = outgoing('OPTIONS');
      old.prependHeader('Via', 'SIP/2.0/UDP proxy.example.com;branch=1234');
      expect(() => layer.sendRequest(old, out, new RecordingClientUser(), { keepTopVia: true })).toThrow(TypeError);
      expect(() => layer.sendRequest(outgoing('OPTIONS'), out, new RecordingClientUser(), { keepTopVia: true })).toThrow(TypeError);
    });
  });

  describe('clean-up', () => {
    it('leaves both maps empty and no timer pending once every transaction ran out (UDP)', () => {
      const { transport, handler, layer, clock, flow } = setup();
      handler.respond = (req, t) => {
        const status = req.method === 'INVITE' ? (req.cseq.seq % 2 ? 200 : 486) : 200;
        t.respond(createResponse(req, status, { toTag: 'uas' }));
      };
      for (let i = 1; i <= 6; i++) {
        transport.deliver(requestText({ method: i % 3 ? 'INVITE' : 'OPTIONS', cseq: i, via: `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKs${i}` }), flow);
      }
      const out = transport.peer('UDP', '192.0.2.20', 5060);
      const users = [new RecordingClientUser(), new RecordingClientUser(), new RecordingClientUser()];
      layer.sendInvite(outgoing(), out, users[0]);
      layer.sendRequest(outgoing('BYE'), out, users[1]);
      layer.sendInvite(outgoing(), out, users[2]);
      const [inv, bye] = out.take() as SipRequest[];
      transport.deliverMessage(responseTo(inv, 200), out);
      transport.deliverMessage(responseTo(bye, 200), out);
      expect(layer.serverTransactionCount).toBe(6);
      expect(layer.clientTransactionCount).toBe(3);
      clock.advance(64 * 500 + 5000);
      expect(layer.serverTransactionCount).toBe(0);
      expect(layer.clientTransactionCount).toBe(0);
      expect(clock.pending).toBe(0);
      expect(users.map((u) => u.events.at(-1))).toEqual(['terminated Terminated', 'terminated Terminated', 'terminated Terminated']);
    });

    it('leaves the maps empty right after the exchange over TCP, except INVITEs waiting for timers L and M', () => {
      const { transport, handler, layer, clock } = setup();
      const tcp = transport.peer('TCP', '192.0.2.1', 40000);
      handler.respond = (req, t) => t.respond(createResponse(req, 200, { toTag: 'uas' }));
      transport.deliver(requestText({ method: 'BYE', via: 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKt1' }), tcp);
      transport.deliver(requestText({ method: 'INVITE', via: 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKt2' }), tcp);
      expect(layer.serverTransactionCount).toBe(1);
      clock.advance(32_000);
      expect(layer.serverTransactionCount).toBe(0);
      expect(clock.pending).toBe(0);
    });

    it('close() ends every transaction, stops every timer, closes the transport and ignores later messages', async () => {
      const { transport, handler, layer, clock, flow } = setup();
      transport.deliver(requestText(), flow);
      const user = new RecordingClientUser();
      layer.sendInvite(outgoing(), transport.peer('UDP', '192.0.2.20'), user);
      await layer.close();
      expect(layer.serverTransactionCount + layer.clientTransactionCount).toBe(0);
      expect(clock.pending).toBe(0);
      expect(transport.closed).toBe(true);
      expect(user.events).toEqual(['terminated Terminated']);
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlate' }), flow);
      expect(handler.requests).toHaveLength(1);
      expect(() => layer.sendRequest(outgoing('OPTIONS'), flow, user)).toThrow(TypeError);
    });
  });

  describe('overload', () => {
    it('answers a new request beyond maxServerTransactions with a stateless 503 and Retry-After', () => {
      const { transport, handler, flow, layer } = setup({ maxServerTransactions: 1, overloadRetryAfter: 9 });
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKo1' }), flow);
      flow.take();
      transport.deliver(requestText({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKo2' }), flow);
      const [res] = flow.take() as SipResponse[];
      expect(res.status).toBe(503);
      expect(res.header('retry-after')).toBe('9');
      expect(handler.requests).toHaveLength(1);
      expect(layer.serverTransactionCount).toBe(1);
    });
  });

  describe('messages that did not parse', () => {
    function parseFailure(text: string) {
      try {
        parseMessage(crlf(text));
      } catch (e) {
        if (isSipParseError(e)) return e;
      }
      throw new Error('expected a parse error');
    }

    const badCSeqMethod = requestText({ extra: [] }).replace('CSeq: 314159 INVITE', 'CSeq: 314159 OPTIONS');

    it('answers a request that got far enough with the status of its error, over the flow it came on', () => {
      const { transport, flow } = setup();
      const error = parseFailure(badCSeqMethod);
      transport.listener?.onParseError?.({ error, flow, bytes: new Uint8Array() });
      const [res] = flow.take() as SipResponse[];
      expect(res.status).toBe(400);
      expect(res.callId).toBe('a84b4c76e66710@pc33.example.org');
    });

    it('drops an ACK and a response that did not parse', () => {
      const { transport, flow } = setup();
      const ack = parseFailure(requestText({ method: 'ACK' }).replace('CSeq: 314159 ACK', 'CSeq: 314159 INVITE'));
      transport.listener?.onParseError?.({ error: ack, flow, bytes: new Uint8Array() });
      const res = parseFailure('SIP/2.0 999 Nope\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n\r\n');
      transport.listener?.onParseError?.({ error: res, flow, bytes: new Uint8Array() });
      expect(flow.sent).toHaveLength(0);
    });

    it("leaves the answer to the handler's onParseError when there is one", () => {
      const seen: string[] = [];
      const { transport, flow } = setup({
        handler: Object.assign(new RecordingHandler(), { onParseError: (i: { error: { code: string } }) => void seen.push(i.error.code) }),
      });
      transport.listener?.onParseError?.({ error: parseFailure(badCSeqMethod), flow, bytes: new Uint8Array() });
      expect(seen).toEqual(['SIP_ERR_CSEQ_METHOD']);
      expect(flow.sent).toHaveLength(0);
    });
  });

  describe('errors from the TU', () => {
    it('go to onError, never back into the transport callback', () => {
      const seen: unknown[] = [];
      const clock = new ManualClock();
      const transport = new FakeTransport();
      const boom = new Error('TU bug');
      new TransactionLayer({
        transport,
        clock,
        onError: (e) => seen.push(e),
        handler: {
          onRequest() {
            throw boom;
          },
          onAck() {},
        },
      });
      const flow = transport.peer('UDP');
      expect(() => transport.deliver(requestText(), flow)).not.toThrow();
      expect(seen).toEqual([boom]);
    });

    it('answer the request with 500 when onRequest threw before a final response', () => {
      const { transport, handler, flow, layer } = setup({ onError: () => {} });
      handler.respond = (req, t) => {
        t.respond(createResponse(req, 180, { toTag: 'x' }));
        throw new Error('TU bug');
      };
      transport.deliver(requestText({ method: 'OPTIONS' }), flow);
      expect(flow.takeLines()).toEqual(['SIP/2.0 180 Ringing', 'SIP/2.0 500 Server Internal Error']);
      expect(tx(handler, 0).state).toBe('Completed');
      expect(layer.serverTransactionCount).toBe(1);
    });

    it('go to onError when a timer ran the TU callback', () => {
      const seen: unknown[] = [];
      const { layer, clock, transport } = setup({ onError: (e) => seen.push(e) });
      layer.sendRequest(outgoing('OPTIONS'), transport.peer('UDP', '192.0.2.20'), {
        onResponse() {},
        onTimeout() {
          throw new Error('TU bug in onTimeout');
        },
      });
      expect(() => clock.advance(32_000)).not.toThrow();
      expect(seen).toHaveLength(1);
      expect(layer.clientTransactionCount).toBe(0);
    });
  });

  describe('options', () => {
    const transport = new FakeTransport();
    const handler = new RecordingHandler();

    it.each([
      ['no transport', { handler } as unknown as TransactionLayerOptions],
      ['a handler without onAck', { transport, handler: { onRequest() {} } } as unknown as TransactionLayerOptions],
      ['maxServerTransactions 0', { transport, handler, maxServerTransactions: 0 }],
      ['a fractional Retry-After', { transport, handler, overloadRetryAfter: 1.5 }],
      ['bad timers', { transport, handler, timers: { t1: -1 } }],
    ])('throw TypeError for %s', (_name, options) => {
      expect(() => new TransactionLayer(options)).toThrow(TypeError);
    });

    it('accept a ready TimerConfig and use it', async () => {
      const { TimerConfig } = await import('../../../sip/transaction/timer-config.js');
      const timers = new TimerConfig({ t1: 100, t2: 400 });
      const layer = new TransactionLayer({ transport: new FakeTransport(), handler, timers });
      expect(layer.timers).toBe(timers);
    });
  });

  describe('reliable flows', () => {
    it('fail only the client transactions still waiting on the closed connection', () => {
      const { layer, transport } = setup();
      const tcp = transport.peer('TCP', '192.0.2.20', 5060);
      const other = transport.peer('TCP', '192.0.2.21', 5060);
      const waiting = new RecordingClientUser();
      const answered = new RecordingClientUser();
      const elsewhere = new RecordingClientUser();
      layer.sendRequest(outgoing('OPTIONS'), tcp, waiting);
      const inv = layer.sendInvite(outgoing(), tcp, answered);
      layer.sendRequest(outgoing('OPTIONS'), other, elsewhere);
      const sentInvite = tcp.take()[1] as SipRequest;
      transport.deliverMessage(responseTo(sentInvite, 180), tcp);
      transport.dropFlow(tcp);
      expect(waiting.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
      expect(inv.state).toBe('Proceeding');
      expect(elsewhere.events).toEqual([]);
    });
  });
});
