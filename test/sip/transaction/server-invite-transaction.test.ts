import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../../sip/message/create-response.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { ServerInviteTransaction } from '../../../sip/transaction/server-invite-transaction.js';
import type { TimerOptions } from '../../../sip/transaction/timer-config.js';
import { TransactionLayer } from '../../../sip/transaction/transaction-layer.js';
import type { TransportProtocol } from '../../../sip/transport/transport.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { FakeTransport, RecordingHandler, RecordingServerUser } from './fakes.js';
import { requestText } from './messages.js';

const layerErrors: unknown[] = [];
afterEach(() => {
  expect(layerErrors).toEqual([]);
  layerErrors.length = 0;
});

const VIA = (protocol: string) => `SIP/2.0/${protocol} 192.0.2.1:5060;branch=z9hG4bKnashds8`;

function setup(protocol: TransportProtocol = 'UDP', timers?: TimerOptions, answer?: (req: SipRequest, tx: ServerInviteTransaction) => void) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const handler = new RecordingHandler();
  if (answer) handler.respond = (req, tx) => answer(req, tx as ServerInviteTransaction);
  const layer = new TransactionLayer({ transport, handler, clock, timers, onError: (e) => layerErrors.push(e) });
  const flow = transport.peer(protocol, '192.0.2.1', 5060);
  const inviteText = requestText({ via: VIA(protocol) });
  const invite = transport.deliver(inviteText, flow) as SipRequest;
  const tx = handler.requests[0].transaction as ServerInviteTransaction;
  const user = new RecordingServerUser();
  tx.user = user;
  const respond = (status: number) => tx.respond(createResponse(invite, status, { toTag: 'uas-tag' }));
  const retransmit = () => transport.deliver(inviteText, flow);
  const ack = (branch = 'z9hG4bKnashds8', toTag = 'uas-tag') =>
    transport.deliver(requestText({ method: 'ACK', via: `SIP/2.0/${protocol} 192.0.2.1:5060;branch=${branch}`, toTag }), flow);
  return { clock, transport, handler, layer, flow, tx, user, invite, respond, retransmit, ack };
}

const statuses = (flow: { take(): unknown[] }) => (flow.take() as SipResponse[]).map((r) => r.status);

describe('INVITE server transaction', () => {
  describe('when a new INVITE arrives', () => {
    it("hands the request, the transaction in 'Proceeding' and the flow to the TU", () => {
      const { handler, tx, flow, layer } = setup();
      expect(handler.requests).toHaveLength(1);
      expect(handler.requests[0].request.method).toBe('INVITE');
      expect(handler.requests[0].flow).toBe(flow);
      expect(tx.state).toBe('Proceeding');
      expect(tx.isInvite && tx.isServer).toBe(true);
      expect(layer.serverTransactionCount).toBe(1);
    });

    it('sends 100 Trying when the TU has not answered within 200 ms (§17.2.1)', () => {
      const { clock, flow, invite } = setup();
      clock.advance(199);
      expect(flow.sent).toHaveLength(0);
      clock.advance(1);
      const [trying] = flow.take() as SipResponse[];
      expect(trying.status).toBe(100);
      expect(trying.to.tag).toBeUndefined();
      expect(trying.topVia.branch).toBe(invite.topVia.branch);
      expect(trying.cseq).toEqual(invite.cseq);
    });

    it('sends no 100 Trying when the TU answered within 200 ms', () => {
      const { clock, flow, respond } = setup();
      clock.advance(150);
      respond(180);
      clock.advance(1000);
      expect(statuses(flow)).toEqual([180]);
    });

    it('starts no timer at all when the TU answers inside onRequest', () => {
      const { clock, flow } = setup('UDP', undefined, (req, tx) => tx.respond(createResponse(req, 100)));
      expect(statuses(flow)).toEqual([100]);
      expect(clock.pending).toBe(0);
    });

    it('sends no automatic 100 when that is turned off', () => {
      const { clock, flow } = setup('UDP', { autoTrying: false });
      clock.advance(10_000);
      expect(flow.sent).toHaveLength(0);
    });

    it('sends the 100 at once when its delay is zero', () => {
      const { flow } = setup('UDP', { autoTrying: 0 });
      expect(statuses(flow)).toEqual([100]);
    });
  });

  describe("in 'Proceeding'", () => {
    it('sends every provisional response from the TU and stays', () => {
      const { respond, flow, tx } = setup();
      respond(180);
      respond(183);
      expect(statuses(flow)).toEqual([180, 183]);
      expect(tx.state).toBe('Proceeding');
    });

    it('absorbs a retransmitted INVITE before any response, without telling the TU', () => {
      const { retransmit, flow, handler } = setup('UDP', { autoTrying: false });
      retransmit();
      expect(flow.sent).toHaveLength(0);
      expect(handler.requests).toHaveLength(1);
    });

    it('answers a retransmitted INVITE with the most recent provisional response', () => {
      const { retransmit, respond, flow, handler } = setup();
      respond(180);
      respond(183);
      flow.take();
      retransmit();
      expect(statuses(flow)).toEqual([183]);
      expect(handler.requests).toHaveLength(1);
    });

    it("sends a 2xx from the TU and enters 'Accepted'", () => {
      const { respond, flow, tx } = setup();
      expect(respond(200)).toBe(true);
      expect(statuses(flow)).toEqual([200]);
      expect(tx.state).toBe('Accepted');
    });

    it("sends a 300-699 from the TU and enters 'Completed'", () => {
      const { respond, flow, tx } = setup();
      respond(486);
      expect(statuses(flow)).toEqual([486]);
      expect(tx.state).toBe('Completed');
    });

    it('tells the TU of a transport error and stays (RFC 6026 Figure 7)', () => {
      const { respond, flow, tx, user } = setup('TCP');
      flow.accept = false;
      expect(respond(180)).toBe(false);
      expect(tx.state).toBe('Proceeding');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED']);
    });

    it('refuses a status code outside 100-699', () => {
      const { tx, invite } = setup();
      const bad = createResponse(invite, 200);
      bad.status = 99;
      expect(() => tx.respond(bad)).toThrow(TypeError);
    });
  });

  describe("in 'Accepted' (RFC 6026)", () => {
    it('absorbs retransmitted INVITEs without resending the 2xx or telling the TU', () => {
      const { respond, retransmit, flow, handler } = setup();
      respond(200);
      flow.take();
      retransmit();
      expect(flow.sent).toHaveLength(0);
      expect(handler.requests).toHaveLength(1);
    });

    it('never retransmits the 2xx by itself', () => {
      const { respond, clock, flow } = setup();
      respond(200);
      flow.take();
      clock.advance(31_999);
      expect(flow.sent).toHaveLength(0);
    });

    it('sends the 2xx retransmissions and further 2xx the TU passes down', () => {
      const { respond, flow, tx, invite } = setup();
      respond(200);
      respond(200);
      expect(tx.respond(createResponse(invite, 200, { toTag: 'second-fork' }))).toBe(true);
      const sent = flow.take() as SipResponse[];
      expect(sent.map((r) => r.to.tag)).toEqual(['uas-tag', 'uas-tag', 'second-fork']);
      expect(tx.state).toBe('Accepted');
    });

    it('passes an ACK that matches it to the TU together with the transaction', () => {
      const { respond, ack, handler, tx } = setup();
      respond(200);
      ack();
      expect(handler.acks).toHaveLength(1);
      expect(handler.acks[0].transaction).toBe(tx);
      expect(tx.state).toBe('Accepted');
    });

    it('leaves an ACK for the 2xx with its own branch to the TU without a transaction', () => {
      const { respond, ack, handler } = setup();
      respond(200);
      ack('z9hG4bKack2xx');
      expect(handler.acks).toHaveLength(1);
      expect(handler.acks[0].transaction).toBeUndefined();
    });

    it('refuses a provisional or non-2xx response from the TU (TypeError)', () => {
      const { respond } = setup();
      respond(200);
      expect(() => respond(180)).toThrow(TypeError);
      expect(() => respond(486)).toThrow(TypeError);
    });

    it('tells the TU of a transport error and stays', () => {
      const { respond, flow, tx, user } = setup('TCP');
      respond(200);
      flow.accept = false;
      expect(respond(200)).toBe(false);
      expect(tx.state).toBe('Accepted');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED']);
    });

    it.each(['UDP', 'TCP'] as const)('over %s terminates when timer L fires at 64*T1', (protocol) => {
      const { respond, clock, tx, layer, user } = setup(protocol);
      respond(200);
      clock.advance(31_999);
      expect(tx.state).toBe('Accepted');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(layer.serverTransactionCount).toBe(0);
      expect(user.events).toEqual(['terminated Terminated']);
    });

    it('after timer L refuses to send (the TU forwards a late 2xx statelessly)', () => {
      const { respond, clock } = setup();
      respond(200);
      clock.advance(32_000);
      expect(respond(200)).toBe(false);
    });
  });

  describe("in 'Completed'", () => {
    it('retransmits the final response over UDP when timer G fires, doubling from T1 up to T2, until timer H', () => {
      const { respond, clock, flow } = setup();
      respond(486);
      flow.take();
      const times: number[] = [];
      for (let t = 0; t < 32_000; t += 100) {
        clock.advance(100);
        for (const r of flow.take() as SipResponse[]) {
          expect(r.status).toBe(486);
          times.push(clock.now());
        }
      }
      expect(times).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    });

    it('never retransmits over a reliable flow', () => {
      const { respond, clock, flow } = setup('TCP');
      respond(486);
      flow.take();
      clock.advance(31_000);
      expect(flow.sent).toHaveLength(0);
    });

    it('answers a retransmitted INVITE with the final response', () => {
      const { respond, retransmit, flow, handler } = setup('TCP');
      respond(486);
      flow.take();
      retransmit();
      expect(statuses(flow)).toEqual([486]);
      expect(handler.requests).toHaveLength(1);
    });

    it("enters 'Confirmed' on the ACK, which does not reach the TU, and stops retransmitting", () => {
      const { respond, ack, clock, flow, tx, handler } = setup();
      respond(486);
      flow.take();
      ack();
      expect(tx.state).toBe('Confirmed');
      expect(handler.acks).toHaveLength(0);
      clock.advance(4000);
      expect(flow.sent).toHaveLength(0);
    });

    it.each(['UDP', 'TCP'] as const)('over %s ends when timer H fires at 64*T1 without an ACK, telling the TU', (protocol) => {
      const { respond, clock, tx, user, layer } = setup(protocol);
      respond(486);
      clock.advance(31_999);
      expect(tx.state).toBe('Completed');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['timeout', 'terminated Terminated']);
      expect(layer.serverTransactionCount).toBe(0);
    });

    it('ends with a transport error when a retransmission cannot be sent', () => {
      const { respond, clock, flow, tx, user } = setup();
      respond(486);
      flow.accept = false;
      clock.advance(500);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });

    it('refuses a second final response (TypeError)', () => {
      const { respond } = setup();
      respond(486);
      expect(() => respond(200)).toThrow(TypeError);
    });
  });

  describe("in 'Confirmed'", () => {
    it('absorbs further ACKs and INVITEs', () => {
      const { respond, ack, retransmit, flow, handler } = setup();
      respond(486);
      ack();
      flow.take();
      ack();
      retransmit();
      expect(flow.sent).toHaveLength(0);
      expect(handler.acks).toHaveLength(0);
      expect(handler.requests).toHaveLength(1);
    });

    it('terminates over UDP when timer I fires at T4', () => {
      const { respond, ack, clock, tx, layer } = setup();
      respond(486);
      ack();
      clock.advance(4999);
      expect(tx.state).toBe('Confirmed');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(layer.serverTransactionCount).toBe(0);
    });

    it('terminates at once over a reliable flow (timer I is zero)', () => {
      const { respond, ack, tx, layer, user } = setup('TCP');
      respond(486);
      ack();
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['terminated Terminated']);
      expect(layer.serverTransactionCount).toBe(0);
    });
  });

  describe('stateTransition()', () => {
    const move = (tx: object, state: string) => (tx as { stateTransition(s: string): void }).stateTransition(state);

    it('refuses moves RFC 6026 Figure 7 does not have', () => {
      const { respond, ack, tx } = setup();
      expect(() => move(tx, 'Confirmed')).toThrow(/invalid state transition from Proceeding to Confirmed/);
      respond(486);
      expect(() => move(tx, 'Accepted')).toThrow(TypeError);
      ack();
      expect(() => move(tx, 'Completed')).toThrow(TypeError);
    });

    it("refuses to leave 'Accepted' for 'Completed' or 'Confirmed'", () => {
      const { respond, tx } = setup();
      respond(200);
      expect(() => move(tx, 'Completed')).toThrow(TypeError);
      expect(() => move(tx, 'Confirmed')).toThrow(TypeError);
    });
  });
});
