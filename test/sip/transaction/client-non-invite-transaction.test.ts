import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import { TransactionLayer } from '../../../sip/transaction/transaction-layer.js';
import type { TransportProtocol } from '../../../sip/transport/transport.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { FakeTransport, RecordingClientUser, RecordingHandler } from './fakes.js';
import { outgoing, responseTo } from './messages.js';

const layerErrors: unknown[] = [];
afterEach(() => {
  expect(layerErrors).toEqual([]);
  layerErrors.length = 0;
});

function setup(protocol: TransportProtocol = 'UDP', method = 'OPTIONS') {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const handler = new RecordingHandler();
  const layer = new TransactionLayer({ transport, handler, clock, onError: (e) => layerErrors.push(e) });
  const flow = transport.peer(protocol, '192.0.2.20', 5060);
  const user = new RecordingClientUser();
  const tx = layer.sendRequest(outgoing(method), flow, user);
  const sent = flow.take()[0] as SipRequest;
  const respond = (status: number) => transport.deliverMessage(responseTo(sent, status), flow);
  return { clock, transport, handler, layer, flow, user, tx, sent, respond };
}

/** Instants (ms) at which something was sent during `until` ms, polled every 100 ms. */
function sendTimes(clock: ManualClock, flow: { sent: unknown[] }, until: number): number[] {
  const times: number[] = [];
  for (let t = 0; t < until; t += 100) {
    clock.advance(100);
    if (flow.sent.length) {
      times.push(clock.now());
      flow.sent.length = 0;
    }
  }
  return times;
}

describe('non-INVITE client transaction', () => {
  describe('when the TU sends a request', () => {
    it("sends it with this hop's Via and starts in 'Trying'", () => {
      const { sent, tx } = setup('UDP', 'BYE');
      expect(sent.method).toBe('BYE');
      expect(sent.topVia.branch).toBe(tx.branch);
      expect(tx.state).toBe('Trying');
    });

    it('refuses INVITE and ACK', () => {
      const transport = new FakeTransport();
      const layer = new TransactionLayer({ transport, handler: new RecordingHandler(), clock: new ManualClock() });
      const flow = transport.peer('UDP');
      expect(() => layer.sendRequest(outgoing('INVITE'), flow, new RecordingClientUser())).toThrow(/sendInvite/);
      expect(() => layer.sendRequest(outgoing('ACK'), flow, new RecordingClientUser())).toThrow(/sendStateless/);
    });

    it('refuses a second transaction with the same branch and method', () => {
      const transport = new FakeTransport();
      const layer = new TransactionLayer({ transport, handler: new RecordingHandler(), clock: new ManualClock() });
      const flow = transport.peer('UDP');
      layer.sendRequest(outgoing('OPTIONS'), flow, new RecordingClientUser(), { branch: 'z9hG4bKsame' });
      expect(() => layer.sendRequest(outgoing('OPTIONS'), flow, new RecordingClientUser(), { branch: 'z9hG4bKsame' })).toThrow(/already running/);
    });
  });

  describe("in 'Trying'", () => {
    it('retransmits over UDP when timer E fires, doubling from T1 up to T2', () => {
      const { clock, flow } = setup();
      // 500, 1000, 2000, 4000, 4000, 4000 … after the first send at 0.
      expect(sendTimes(clock, flow, 20_000)).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500]);
    });

    it('never retransmits over a reliable flow', () => {
      const { clock, flow } = setup('TCP');
      clock.advance(31_999);
      expect(flow.sent).toHaveLength(0);
    });

    it.each(['UDP', 'WS'] as const)('over %s times out when timer F fires at 64*T1, tells the TU and terminates', (protocol) => {
      const { clock, tx, user, layer } = setup(protocol);
      clock.advance(31_999);
      expect(tx.state).toBe('Trying');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['timeout', 'terminated Terminated']);
      expect(layer.clientTransactionCount).toBe(0);
    });

    it("passes 1xx to the TU and enters 'Proceeding'", () => {
      const { respond, tx, user } = setup();
      respond(100);
      expect(tx.state).toBe('Proceeding');
      expect(user.events).toEqual(['response 100']);
    });

    it("passes a final response to the TU and enters 'Completed'", () => {
      const { respond, tx, user } = setup();
      respond(200);
      expect(tx.state).toBe('Completed');
      expect(user.events).toEqual(['response 200']);
    });

    it('fails with a transport error when a retransmission cannot be sent', () => {
      const { clock, flow, tx, user } = setup();
      flow.accept = false;
      clock.advance(500);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });

    it('fails with a transport error when its reliable flow closes', () => {
      const { transport, flow, tx, user } = setup('TCP');
      transport.dropFlow(flow);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });
  });

  describe("in 'Proceeding'", () => {
    it('keeps retransmitting over UDP, every T2 instead of doubling (§17.1.2.2)', () => {
      const { clock, flow, respond } = setup();
      respond(100);
      // Timer E still fires at T1 as set in 'Trying'; from then on every T2 = 4000.
      expect(sendTimes(clock, flow, 13_000)).toEqual([500, 4500, 8500, 12500]);
    });

    it('passes further 1xx to the TU', () => {
      const { respond, user } = setup();
      respond(100);
      respond(183);
      expect(user.events).toEqual(['response 100', 'response 183']);
    });

    it('still times out with timer F', () => {
      const { respond, clock, tx, user } = setup();
      respond(100);
      clock.advance(32_000);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['response 100', 'timeout', 'terminated Terminated']);
    });

    it("passes a final response to the TU and enters 'Completed'", () => {
      const { respond, tx, user } = setup();
      respond(100);
      respond(481);
      expect(tx.state).toBe('Completed');
      expect(user.events).toEqual(['response 100', 'response 481']);
    });

    it('fails with a transport error when a retransmission cannot be sent', () => {
      const { clock, flow, tx, user, respond } = setup();
      respond(100);
      flow.accept = false;
      clock.advance(500);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['response 100', 'transport-error SIP_ERR_TRANSPORT_CLOSED', 'terminated Terminated']);
    });
  });

  describe("in 'Completed'", () => {
    it('absorbs retransmitted responses and stops retransmitting the request', () => {
      const { respond, user, clock, flow } = setup();
      respond(200);
      respond(200);
      respond(100);
      clock.advance(4000);
      expect(user.events).toEqual(['response 200']);
      expect(flow.sent).toHaveLength(0);
    });

    it('terminates over UDP when timer K fires at T4', () => {
      const { respond, clock, tx, layer } = setup();
      respond(200);
      clock.advance(4999);
      expect(tx.state).toBe('Completed');
      clock.advance(1);
      expect(tx.state).toBe('Terminated');
      expect(layer.clientTransactionCount).toBe(0);
    });

    it('terminates at once over a reliable flow (timer K is zero), after the TU saw the response', () => {
      const { respond, tx, user, layer } = setup('TCP');
      respond(200);
      expect(tx.state).toBe('Terminated');
      expect(user.events).toEqual(['response 200', 'terminated Terminated']);
      expect(layer.clientTransactionCount).toBe(0);
    });
  });

  describe('stateTransition()', () => {
    const move = (tx: object, state: string) => (tx as { stateTransition(s: string): void }).stateTransition(state);

    it('refuses moves Figure 6 does not have', () => {
      const { respond, tx } = setup();
      expect(() => move(tx, 'Trying')).toThrow(TypeError);
      respond(100);
      expect(() => move(tx, 'Trying')).toThrow(/invalid state transition from Proceeding to Trying/);
      respond(200);
      expect(() => move(tx, 'Proceeding')).toThrow(TypeError);
    });
  });
});
