import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../../sip/message/create-response.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { ServerNonInviteTransaction } from '../../../sip/transaction/server-non-invite-transaction.js';
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

function setup(protocol: TransportProtocol = 'UDP', method = 'BYE') {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const handler = new RecordingHandler();
  const layer = new TransactionLayer({ transport, handler, clock, onError: (e) => layerErrors.push(e) });
  const flow = transport.peer(protocol, '192.0.2.1', 5060);
  const text = requestText({ method, via: `SIP/2.0/${protocol} 192.0.2.1:5060;branch=z9hG4bKbye1`, toTag: 'uas-tag' });
  const req = transport.deliver(text, flow) as SipRequest;
  const tx = handler.requests[0].transaction as ServerNonInviteTransaction;
  const user = new RecordingServerUser();
  tx.user = user;
  const respond = (status: number) => tx.respond(createResponse(req, status));
  const retransmit = () => transport.deliver(text, flow);
  return { clock, transport, handler, layer, flow, tx, user, req, respond, retransmit };
}

const statuses = (flow: { take(): unknown[] }) => (flow.take() as SipResponse[]).map((r) => r.status);

describe('non-INVITE server transaction', () => {
  describe('when a new request arrives', () => {
    it("hands it to the TU with the transaction in 'Trying'", () => {
      const { handler, tx } = setup();
      expect(handler.requests[0].request.method).toBe('BYE');
      expect(tx.state).toBe('Trying');
      expect(tx.isInvite).toBe(false);
    });

    it('never sends 100 Trying on its own', () => {
      const { clock, flow } = setup();
      clock.advance(10_000);
      expect(flow.sent).toHaveLength(0);
    });
  });

  describe("in 'Trying'", () => {
    it('absorbs a retransmitted request without telling the TU', () => {
      const { retransmit, flow, handler } = setup();
      retransmit();
      expect(flow.sent).toHaveLength(0);
      expect(handler.requests).toHaveLength(1);
    });

    it("sends a provisional response and enters 'Proceeding'", () => {
      const { respond, flow, tx } = setup();
      respond(100);
      expect(statuses(flow)).toEqual([100]);
      expect(tx.state).toBe('Proceeding');
    });

    it("sends a final response and enters 'Completed'", () => {
      const { respond, flow, tx } = setup();
      respond(200);
      expect(statuses(flow)).toEqual([200]);
      expect(tx.state).toBe('Completed');
    });
  });

  describe("in 'Proceeding'", () => {
    it('answers a retransmitted request with the last provisional response', () => {
      const { respond, retransmit, flow } = setup();
      respond(100);
      flow.take();
      retransmit();
      expect(statuses(flow)).toEqual([100]);
    });

    it("sends a final response and enters 'Completed'", () => {
      const { respond, flow, tx } = setup();
      respond(100);
      respond(481);
      expect(statuses(flow)).toEqual([100, 481]);
      expect(tx.state).toBe('Completed');
    });

    it('ends with a transport error, telling the TU (§17.2.2)', () => {
      const { respond, flow, tx, user } = setup('TCP');
      respond(100);
      flow.accept = false;
      expect(respond(100)).toBe(false);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });
  });

  describe("in 'Completed'", () => {
    it('answers each retransmitted request with the final response, without telling the TU', () => {
      const { respond, retransmit, flow, handler } = setup();
      respond(200);
      flow.take();
      retransmit();
      retransmit();
      expect(statuses(flow)).toEqual([200, 200]);
      expect(handler.requests).toHaveLength(1);
    });

    it('does not retransmit the final response on its own', () => {
      const { respond, clock, flow } = setup();
      respond(200);
      flow.take();
      clock.advance(31_000);
      expect(flow.sent).toHaveLength(0);
    });

    it('terminates over UDP when timer J fires at 64*T1', () => {
      const { respond, clock, tx, layer, user } = setup();
      respond(200);
      clock.advance(31_999);
      expect(tx.state).toBe('Completed');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(layer.serverTransactionCount).toBe(0);
      expect(user.events).toEqual(['terminated Terminated']);
    });

    it('terminates at once over a reliable flow (timer J is zero)', () => {
      const { respond, tx, layer } = setup('TCP');
      respond(200);
      expect(tx.state).toBe('Terminated');
      expect(layer.serverTransactionCount).toBe(0);
    });

    it('ends with a transport error when the answer to a retransmission cannot be sent', () => {
      const { respond, retransmit, flow, tx, user } = setup();
      respond(200);
      flow.accept = false;
      retransmit();
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });

    it('refuses a second final response (TypeError)', () => {
      const { respond } = setup();
      respond(200);
      expect(() => respond(500)).toThrow(TypeError);
    });
  });

  describe("in 'Terminated'", () => {
    it('refuses to send, returning false', () => {
      const { respond, clock } = setup();
      respond(200);
      clock.advance(32_000);
      expect(respond(200)).toBe(false);
    });
  });

  describe('stateTransition()', () => {
    const move = (tx: object, state: string) => (tx as { stateTransition(s: string): void }).stateTransition(state);

    it('refuses moves Figure 8 does not have', () => {
      const { respond, tx } = setup();
      expect(() => move(tx, 'Trying')).toThrow(TypeError);
      respond(100);
      expect(() => move(tx, 'Trying')).toThrow(/invalid state transition from Proceeding to Trying/);
      respond(200);
      expect(() => move(tx, 'Proceeding')).toThrow(TypeError);
    });
  });
});
