import { describe, expect, it } from 'vitest';
import { parseVia } from '../../../sip/grammar/via.js';
import { responseDestination, responseFlow } from '../../../sip/transaction/response-destination.js';
import { FakeFlow, FakeTransport } from './fakes.js';

const via = parseVia;

describe('response destination (§18.2.2, RFC 3581 §4)', () => {
  describe('over a reliable flow', () => {
    it('uses the connection the request came on while it is open', () => {
      const flow = new FakeFlow('TCP', { host: '192.0.2.1', port: 40312 });
      expect(responseDestination(via('SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1'), flow)).toBe(flow);
    });

    it('opens a new connection to received and the sent-by port when it closed', () => {
      const flow = new FakeFlow('TLS', { host: '203.0.113.7', port: 40312 });
      flow.isOpen = false;
      expect(responseDestination(via('SIP/2.0/TLS client.example.org:5071;branch=z9hG4bK1;received=203.0.113.7'), flow)).toEqual({
        protocol: 'TLS',
        host: '203.0.113.7',
        port: 5071,
      });
    });

    it("opens a new connection to the sent-by host and the protocol's default port without received", () => {
      const tcp = new FakeFlow('TCP', { host: '192.0.2.1', port: 40312 });
      tcp.isOpen = false;
      expect(responseDestination(via('SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1'), tcp)).toEqual({ protocol: 'TCP', host: '192.0.2.1', port: 5060 });
      const tls = new FakeFlow('TLS', { host: '192.0.2.1', port: 40312 });
      tls.isOpen = false;
      expect(responseDestination(via('SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1'), tls)).toEqual({ protocol: 'TLS', host: '192.0.2.1', port: 5061 });
    });
  });

  it('has no destination once a WebSocket closed: its peer accepts no connections (RFC 7118)', () => {
    for (const protocol of ['WS', 'WSS'] as const) {
      const flow = new FakeFlow(protocol, { host: '192.0.2.15', port: 53461 });
      flow.isOpen = false;
      expect(responseDestination(via(`SIP/2.0/${protocol} df7jal23ls0d.invalid;branch=z9hG4bK1;received=192.0.2.15`), flow)).toBeUndefined();
    }
  });

  describe('over UDP', () => {
    it('sends to received and the rport value (RFC 3581), on the request flow when that is where it came from', () => {
      const flow = new FakeFlow('UDP', { host: '203.0.113.7', port: 61000 });
      expect(responseDestination(via('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=61000;received=203.0.113.7'), flow)).toBe(flow);
    });

    it('sends to received and the sent-by port when there is no rport', () => {
      const flow = new FakeFlow('UDP', { host: '203.0.113.7', port: 61000 });
      expect(responseDestination(via('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK1;received=203.0.113.7'), flow)).toEqual({
        protocol: 'UDP',
        host: '203.0.113.7',
        port: 5070,
      });
    });

    it('sends to received and port 5060 when sent-by has no port', () => {
      const flow = new FakeFlow('UDP', { host: '203.0.113.7', port: 61000 });
      expect(responseDestination(via('SIP/2.0/UDP pc33.example.org;branch=z9hG4bK1;received=203.0.113.7'), flow)).toEqual({
        protocol: 'UDP',
        host: '203.0.113.7',
        port: 5060,
      });
    });

    it('sends to the sent-by address when there is no received, using the request flow if it matches', () => {
      const flow = new FakeFlow('UDP', { host: '192.0.2.1', port: 5060 });
      expect(responseDestination(via('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1'), flow)).toBe(flow);
      expect(responseDestination(via('SIP/2.0/UDP 192.0.2.1:5080;branch=z9hG4bK1'), flow)).toEqual({ protocol: 'UDP', host: '192.0.2.1', port: 5080 });
    });

    it('sends to maddr at the sent-by port or 5060', () => {
      const flow = new FakeFlow('UDP', { host: '192.0.2.1', port: 5060 });
      expect(responseDestination(via('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;maddr=239.255.255.1;ttl=1'), flow)).toEqual({
        protocol: 'UDP',
        host: '239.255.255.1',
        port: 5060,
      });
    });

    it('takes IPv6 received without brackets and compares it with the flow', () => {
      const flow = new FakeFlow('UDP', { host: '2001:db8::9', port: 5060 });
      expect(responseDestination(via('SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1;received=2001:db8::9'), flow)).toBe(flow);
    });
  });

  describe('without a request flow (stateless forwarding)', () => {
    it("uses the Via's own transport", () => {
      expect(responseDestination(via('SIP/2.0/TCP 192.0.2.1:5062;branch=z9hG4bK1'))).toEqual({ protocol: 'TCP', host: '192.0.2.1', port: 5062 });
      expect(responseDestination(via('SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1'))).toBeUndefined();
    });
  });

  describe('responseFlow()', () => {
    it('asks the transport for a flow to another address', () => {
      const transport = new FakeTransport();
      const flow = transport.peer('UDP', '203.0.113.7', 61000);
      const out = responseFlow(via('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK1;received=203.0.113.7'), flow, transport);
      expect(out).not.toBe(flow);
      expect(out.remote).toEqual({ host: '203.0.113.7', port: 5070 });
    });

    it('throws TransportError for a transport it cannot use', () => {
      expect(() => responseFlow(via('SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1'), undefined, new FakeTransport())).toThrow(
        expect.objectContaining({ code: 'SIP_ERR_TRANSPORT_UNAVAILABLE' }),
      );
    });
  });
});
