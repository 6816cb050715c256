import { describe, expect, it } from 'vitest';
import { RelayAddresses } from '../../../server/proxy/relay-addresses.js';
import { processRoutes, recordRouteValue } from '../../../server/proxy/route-processing.js';
import { parseVia } from '../../../sip/grammar/via.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import type { Transport, TransportProtocol } from '../../../sip/transport/transport.js';

const fakeTransport = {
  protocols: ['UDP', 'WS'] as TransportProtocol[],
  localAddress: (p: TransportProtocol) => (p === 'UDP' ? { host: '10.0.0.1', port: 5060 } : { host: '10.0.0.1', port: 8080 }),
} as unknown as Transport;

const addresses = new RelayAddresses(fakeTransport, { domains: ['portal.test'], aliases: ['relay.example'] });

function request(uri: string, routes: string[]): SipRequest {
  return new SipRequest('BYE', uri, [
    ['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc'],
    ...routes.map((r) => ['Route', r] as [string, string]),
    ['Max-Forwards', '70'],
    ['From', '<sip:a@x>;tag=1'],
    ['To', '<sip:b@x>;tag=2'],
    ['Call-ID', 'c'],
    ['CSeq', '2 BYE'],
  ]);
}

describe('relay addresses', () => {
  it('knows its listener addresses, aliases and domains', () => {
    expect(addresses.isLocalHost('10.0.0.1')).toBe(true);
    expect(addresses.isLocalHost('RELAY.example')).toBe(true);
    expect(addresses.isDomain('Portal.Test')).toBe(true);
    expect(addresses.isServedHost('10.0.0.1')).toBe(true);
    expect(addresses.isServedHost('other.test')).toBe(false);
    expect(addresses.isOwnVia(parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx'))).toBe(true);
    expect(addresses.isOwnVia(parseVia('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx'))).toBe(false);
  });
});

describe('Route processing (RFC 3261 §16.4)', () => {
  it('removes a top Route naming the relay and returns its token', () => {
    const r = request('sip:bob@192.0.2.2', ['<sip:tok.mac@10.0.0.1:5060;transport=udp;lr>', '<sip:other@192.0.2.9;lr>']);
    expect(processRoutes(r, addresses)).toEqual({ token: 'tok.mac', removed: 1, strict: false });
    expect(r.headerList('route')).toEqual(['<sip:other@192.0.2.9;lr>']);
  });

  it('removes both entries of a double record-route (RFC 5658), in one or in separate lines', () => {
    const r = request('sip:bob@192.0.2.2', ['<sip:tok.mac@10.0.0.1:8080;transport=ws;lr>, <sip:tok.mac@10.0.0.1:5060;transport=udp;lr>']);
    expect(processRoutes(r, addresses)).toMatchObject({ token: 'tok.mac', removed: 2 });
    expect(r.hasHeader('route')).toBe(false);
  });

  it('removes an outbound-proxy Route naming a served domain', () => {
    const r = request('sip:wine@portal.test', ['<sip:portal.test;lr>']);
    expect(processRoutes(r, addresses)).toEqual({ token: undefined, removed: 1, strict: false });
  });

  it('leaves Routes of other elements alone, including the relay host on another port', () => {
    const r = request('sip:bob@192.0.2.2', ['<sip:10.0.0.1:5999;lr>']);
    expect(processRoutes(r, addresses).removed).toBe(0);
    expect(r.headerList('route')).toHaveLength(1);
  });

  it('undoes a strict router: its Record-Route URI in the Request-URI is replaced by the last Route', () => {
    const r = request('sip:tok.mac@10.0.0.1:5060;transport=udp;lr', ['<sip:p2@192.0.2.9;lr>', '<sip:bob@192.0.2.2:5070>']);
    expect(processRoutes(r, addresses)).toEqual({ token: 'tok.mac', removed: 0, strict: true });
    expect(r.rawUri).toBe('sip:bob@192.0.2.2:5070');
    expect(r.headerList('route')).toEqual(['<sip:p2@192.0.2.9;lr>']);
  });

  it('writes Record-Route values with the transport, lr and IPv6 brackets', () => {
    expect(recordRouteValue({ host: '10.0.0.1', port: 5060 }, 'UDP', 't.m')).toBe('<sip:t.m@10.0.0.1:5060;transport=udp;lr>');
    expect(recordRouteValue({ host: '::1', port: 8080 }, 'WS', 't.m')).toBe('<sip:t.m@[::1]:8080;transport=ws;lr>');
  });
});
