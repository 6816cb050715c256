import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import { TransactionLayer } from '../../../sip/transaction/transaction-layer.js';
import type { TimerOptions } from '../../../sip/transaction/timer-config.js';
import type { TransportProtocol } from '../../../sip/transport/transport.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { FakeTransport, RecordingClientUser, RecordingHandler } from './fakes.js';
import { outgoing, responseTo } from './messages.js';

/** Exceptions the layer caught; a passing test leaves none. */
const layerErrors: unknown[] = [];
afterEach(() => {
  expect(layerErrors).toEqual([]);
  layerErrors.length = 0;
});

function setup(protocol: TransportProtocol = 'UDP', timers?: TimerOptions, extra: string[] = []) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const handler = new RecordingHandler();
  const layer = new TransactionLayer({ transport, handler, clock, timers, onError: (e) => layerErrors.push(e) });
  const flow = transport.peer(protocol, '192.0.2.20', 5060);
  const user = new RecordingClientUser();
  const tx = layer.sendInvite(outgoing('INVITE', extra), flow, user);
  const sent = flow.take()[0] as SipRequest;
  const respond = (status: number, toTag?: string) => transport.deliverMessage(responseTo(sent, status, { toTag }), flow);
  return { clock, transport, handler, layer, flow, user, tx, sent, respond };
}

describe('INVITE client transaction', () => {
  describe('when the TU sends an INVITE', () => {
    it("adds a Via with the flow's protocol, the transport's sent-by, a new magic-cookie branch and rport", () => {
      const { sent, tx } = setup('TCP');
      const via = sent.topVia;
      expect(via.transport).toBe('TCP');
      expect(via.sentBy).toBe('192.0.2.10:5060');
      expect(via.hasRfc3261Branch).toBe(true);
      expect(via.branch).toBe(tx.branch);
      expect(via.params.has('rport')).toBe(true);
      expect(sent.via).toHaveLength(1);
    });

    it("sends the INVITE on the TU's flow and starts in 'Calling'", () => {
      const { sent, tx, flow } = setup();
      expect(sent.startLine()).toBe('INVITE sip:bob@example.com SIP/2.0');
      expect(tx.state).toBe('Calling');
      expect(tx.flow).toBe(flow);
    });

    it('uses the branch the TU gives', () => {
      const transport = new FakeTransport();
      const layer = new TransactionLayer({ transport, handler: new RecordingHandler(), clock: new ManualClock() });
      const flow = transport.peer('UDP');
      const tx = layer.sendInvite(outgoing(), flow, new RecordingClientUser(), { branch: 'z9hG4bKmine1' });
      expect(tx.branch).toBe('z9hG4bKmine1');
      expect((flow.take()[0] as SipRequest).topVia.branch).toBe('z9hG4bKmine1');
    });

    it('refuses a branch without the magic cookie, a request that is not INVITE, and a TU without onResponse', () => {
      const transport = new FakeTransport();
      const layer = new TransactionLayer({ transport, handler: new RecordingHandler(), clock: new ManualClock() });
      const flow = transport.peer('UDP');
      expect(() => layer.sendInvite(outgoing(), flow, new RecordingClientUser(), { branch: 'abc' })).toThrow(TypeError);
      expect(() => layer.sendInvite(outgoing('OPTIONS'), flow, new RecordingClientUser())).toThrow(TypeError);
      expect(() => layer.sendInvite(outgoing(), flow, {} as RecordingClientUser)).toThrow(TypeError);
    });
  });

  describe("in 'Calling'", () => {
    it('retransmits over UDP when timer A fires at T1, 2*T1, 4*T1 … until timer B', () => {
      const { clock, flow } = setup();
      const sendTimes: number[] = [];
      for (let t = 0; t < 32_000; t += 100) {
        clock.advance(100);
        if (flow.sent.length) {
          sendTimes.push(clock.now());
          flow.sent.length = 0;
        }
      }
      expect(sendTimes).toEqual([500, 1500, 3500, 7500, 15500, 31500]);
    });

    it('sends a byte-identical INVITE on each retransmission', () => {
      const { clock, flow, sent } = setup();
      clock.advance(500);
      expect(flow.take()[0].toString()).toBe(sent.toString());
    });

    it('never retransmits over a reliable flow', () => {
      const { clock, flow, tx } = setup('TCP');
      clock.advance(31_999);
      expect(flow.sent).toHaveLength(0);
      expect(tx.state).toBe('Calling');
    });

    it.each(['UDP', 'TCP'] as const)('over %s times out when timer B fires at 64*T1, tells the TU and terminates', (protocol) => {
      const { clock, tx, user, layer } = setup(protocol);
      clock.advance(31_999);
      expect(tx.state).toBe('Calling');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['timeout', 'terminated Terminated']);
      expect(layer.clientTransactionCount).toBe(0);
    });

    it("passes 1xx to the TU and enters 'Proceeding'", () => {
      const { respond, tx, user } = setup();
      respond(180);
      expect(tx.state).toBe('Proceeding');
      expect(user.events).toEqual(['response 180']);
    });

    it("passes 2xx to the TU and enters 'Accepted' without sending an ACK", () => {
      const { respond, tx, user, flow } = setup();
      respond(200);
      expect(tx.state).toBe('Accepted');
      expect(user.events).toEqual(['response 200']);
      expect(flow.sent).toHaveLength(0);
    });

    it("acknowledges 300-699 itself, then passes it to the TU and enters 'Completed'", () => {
      const { respond, tx, user, flow } = setup();
      respond(486);
      expect(flow.takeLines()).toEqual(['ACK sip:bob@example.com SIP/2.0']);
      expect(tx.state).toBe('Completed');
      expect(user.events).toEqual(['response 486']);
    });

    it('reports a failed first send as a transport error after sendInvite() returned', () => {
      const transport = new FakeTransport();
      const clock = new ManualClock();
      const layer = new TransactionLayer({ transport, handler: new RecordingHandler(), clock });
      const flow = transport.peer('TCP');
      flow.accept = false;
      const user = new RecordingClientUser();
      const tx = layer.sendInvite(outgoing(), flow, user);
      expect(user.events).toEqual([]);
      clock.advance(0);
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
      expect(tx.state).toBe('Terminated');
      expect(layer.clientTransactionCount).toBe(0);
    });

    it('reports a retransmission that cannot be sent as a transport error', () => {
      const { clock, flow, user, tx } = setup();
      flow.accept = false;
      clock.advance(500);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });

    it('fails with a transport error when its reliable flow closes before any response (§17.1.4)', () => {
      const { transport, flow, user, tx, layer } = setup('TCP');
      transport.dropFlow(flow);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
      expect(layer.clientTransactionCount).toBe(0);
    });
  });

  describe("in 'Proceeding'", () => {
    it('passes every further 1xx to the TU', () => {
      const { respond, user } = setup();
      respond(100);
      respond(180);
      respond(183);
      expect(user.events).toEqual(['response 100', 'response 180', 'response 183']);
    });

    it('stops retransmitting and is no longer bound by timer B', () => {
      const { respond, clock, flow, tx } = setup();
      clock.advance(500);
      flow.take();
      respond(180);
      clock.advance(120_000);
      expect(flow.sent).toHaveLength(0);
      expect(tx.state).toBe('Proceeding');
    });

    it("passes 2xx to the TU and enters 'Accepted'", () => {
      const { respond, tx, user } = setup();
      respond(180);
      respond(200);
      expect(tx.state).toBe('Accepted');
      expect(user.events).toEqual(['response 180', 'response 200']);
    });

    it("acknowledges 300-699, passes it to the TU and enters 'Completed'", () => {
      const { respond, tx, user, flow } = setup();
      respond(180);
      respond(603);
      expect(flow.takeLines()).toEqual(['ACK sip:bob@example.com SIP/2.0']);
      expect(tx.state).toBe('Completed');
      expect(user.events).toEqual(['response 180', 'response 603']);
    });

    it('ignores the close of its reliable flow: the answer may come over a new connection (§18.2.2)', () => {
      const { respond, transport, flow, tx, user } = setup('TCP');
      respond(180);
      transport.dropFlow(flow);
      expect(tx.state).toBe('Proceeding');
      expect(user.events).toEqual(['response 180']);
    });
  });

  describe("in 'Accepted' (RFC 6026)", () => {
    it('passes every further 2xx to the TU: retransmissions and other forks alike', () => {
      const { respond, user, flow } = setup();
      respond(200, 'fork1');
      respond(200, 'fork1');
      respond(200, 'fork2');
      expect(user.responses.map((r) => r.to.tag)).toEqual(['fork1', 'fork1', 'fork2']);
      expect(flow.sent).toHaveLength(0);
    });

    it('absorbs provisional and non-2xx responses', () => {
      const { respond, user } = setup();
      respond(200);
      respond(180);
      respond(486);
      expect(user.events).toEqual(['response 200']);
    });

    it.each(['UDP', 'TCP'] as const)('over %s terminates when timer M fires at 64*T1', (protocol) => {
      const { respond, clock, tx, layer, user } = setup(protocol);
      respond(200);
      clock.advance(31_999);
      expect(tx.state).toBe('Accepted');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(layer.clientTransactionCount).toBe(0);
      expect(user.events).toEqual(['response 200', 'terminated Terminated']);
    });

    it('leaves a 2xx that arrives after timer M to the stray-response handler', () => {
      const { respond, clock, handler, user } = setup();
      respond(200);
      clock.advance(32_000);
      respond(200);
      expect(handler.strays.map((r) => r.status)).toEqual([200]);
      expect(user.responses).toHaveLength(1);
    });
  });

  describe("in 'Completed'", () => {
    it('has sent an ACK built by §17.1.1.3', () => {
      const extra = ['Route: <sip:p1.example.com;lr>', 'Route: <sip:p2.example.com;lr>', 'Subject: not copied'];
      const { respond, flow, sent } = setup('UDP', undefined, extra);
      respond(404, 'uas-tag');
      const ack = flow.take()[0] as SipRequest;
      expect(ack.method).toBe('ACK');
      expect(ack.rawUri).toBe(sent.rawUri);
      expect(ack.callId).toBe(sent.callId);
      expect(ack.header('from')).toBe(sent.header('from'));
      expect(ack.to.tag).toBe('uas-tag');
      expect(ack.to.uri.toString()).toBe(sent.to.uri.toString());
      expect(ack.via).toHaveLength(1);
      expect(ack.topVia.toString()).toBe(sent.topVia.toString());
      expect(ack.cseq).toEqual({ seq: sent.cseq.seq, method: 'ACK' });
      expect(ack.headerList('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
      expect(ack.hasHeader('subject')).toBe(false);
      expect(ack.maxForwards).toBe(70);
    });

    it('resends the ACK for each retransmitted final response and does not pass it to the TU', () => {
      const { respond, flow, user } = setup();
      respond(486);
      const first = flow.take()[0].toString();
      respond(486);
      respond(486);
      const again = flow.take().map((m) => m.toString());
      expect(again).toEqual([first, first]);
      expect(user.events).toEqual(['response 486']);
    });

    it('terminates over UDP when timer D fires at 32 s', () => {
      const { respond, clock, tx, layer } = setup();
      respond(486);
      clock.advance(31_999);
      expect(tx.state).toBe('Completed');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(layer.clientTransactionCount).toBe(0);
    });

    it('terminates at once over a reliable flow (timer D is zero), after the TU saw the response', () => {
      const { respond, tx, user, layer } = setup('TLS');
      respond(486);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['response 486', 'terminated Terminated']);
      expect(layer.clientTransactionCount).toBe(0);
    });

    it('leaves a 2xx after the non-2xx to the stray-response handler', () => {
      const { respond, handler, user } = setup();
      respond(486);
      respond(200, 'other');
      expect(handler.strays.map((r) => r.status)).toEqual([200]);
      expect(user.events).toEqual(['response 486']);
    });

    it('ends with a transport error when the ACK cannot be sent', () => {
      const { respond, flow, tx, user } = setup();
      respond(486);
      flow.accept = false;
      respond(486);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['response 486', 'transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });
  });

  describe('stateTransition()', () => {
    const move = (tx: object, state: string) => (tx as { stateTransition(s: string): void }).stateTransition(state);

    it('refuses moves RFC 6026 Figure 5 does not have', () => {
      const { respond, tx } = setup();
      expect(() => move(tx, 'Calling')).toThrow(TypeError);
      respond(486);
      expect(() => move(tx, 'Proceeding')).toThrow(/invalid state transition from Completed to Proceeding/);
      expect(() => move(tx, 'Accepted')).toThrow(TypeError);
    });

    it("refuses to leave 'Accepted' for anything but 'Terminated'", () => {
      const { respond, tx } = setup();
      respond(200);
      expect(() => move(tx, 'Completed')).toThrow(TypeError);
      expect(() => move(tx, 'Proceeding')).toThrow(TypeError);
    });

    it("refuses every move out of 'Terminated'", () => {
      const { clock, tx } = setup();
      clock.advance(32_000);
      for (const s of ['Calling', 'Proceeding', 'Accepted', 'Completed', 'Terminated']) expect(() => move(tx, s)).toThrow(TypeError);
    });
  });

  describe('cancel()', () => {
    it("waits in 'Calling' for a provisional response before sending the CANCEL (§9.1)", () => {
      const { tx, flow, respond, clock } = setup('TCP');
      expect(tx.cancel()).toBe('pending');
      expect(tx.cancelRequested).toBe(true);
      clock.advance(1000);
      expect(flow.sent).toHaveLength(0);
      respond(180);
      expect(flow.takeLines()).toEqual(['CANCEL sip:bob@example.com SIP/2.0']);
      expect(tx.cancelTransaction?.state).toBe('Trying');
    });

    it("sends the CANCEL at once in 'Proceeding', with the fields §9.1 prescribes", () => {
      const extra = ['Route: <sip:p1.example.com;lr>'];
      const { tx, flow, respond, sent } = setup('UDP', undefined, extra);
      respond(180);
      expect(tx.cancel({ headers: [['Reason', 'SIP;cause=200;text="Call completed elsewhere"']] })).toBe('sent');
      const cancel = flow.take()[0] as SipRequest;
      expect(cancel.method).toBe('CANCEL');
      expect(cancel.rawUri).toBe(sent.rawUri);
      expect(cancel.callId).toBe(sent.callId);
      expect(cancel.header('to')).toBe(sent.header('to'));
      expect(cancel.header('from')).toBe(sent.header('from'));
      expect(cancel.cseq).toEqual({ seq: sent.cseq.seq, method: 'CANCEL' });
      expect(cancel.via).toHaveLength(1);
      expect(cancel.topVia.toString()).toBe(sent.topVia.toString());
      expect(cancel.headerList('route')).toEqual(['<sip:p1.example.com;lr>']);
      expect(cancel.header('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    });

    it('runs the CANCEL in its own transaction that shares the branch and is matched by CSeq method', () => {
      const { tx, flow, respond, transport, user } = setup();
      respond(180);
      const cancelUser = new RecordingClientUser();
      tx.cancel({ user: cancelUser });
      const cancel = flow.take()[0] as SipRequest;
      expect(cancel.topVia.branch).toBe(tx.branch);
      transport.deliverMessage(responseTo(cancel, 200), flow);
      expect(cancelUser.events).toEqual(['response 200']);
      expect(tx.cancelTransaction?.state).toBe('Completed');
      respond(487);
      expect(user.events).toEqual(['response 180', 'response 487']);
      expect(tx.state).toBe('Completed');
    });

    it('sends one CANCEL however often it is asked', () => {
      const { tx, flow, respond } = setup();
      tx.cancel();
      tx.cancel();
      respond(180);
      expect(tx.cancel()).toBe('sent');
      expect(flow.takeLines()).toEqual(['CANCEL sip:bob@example.com SIP/2.0']);
    });

    it('does nothing once a final response arrived, and drops a waiting CANCEL then', () => {
      const { tx, flow, respond } = setup();
      tx.cancel();
      respond(486);
      flow.take();
      expect(tx.cancel()).toBe('too-late');
      expect(tx.cancelTransaction).toBeUndefined();
      expect(flow.sent).toHaveLength(0);
    });

    it('drops a waiting CANCEL when the 2xx comes first', () => {
      const { tx, flow, respond } = setup();
      tx.cancel();
      respond(200);
      expect(tx.cancelRequested).toBe(false);
      respond(180);
      expect(flow.sent).toHaveLength(0);
      expect(tx.cancel()).toBe('too-late');
    });
  });
});
