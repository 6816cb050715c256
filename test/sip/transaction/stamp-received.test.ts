import { describe, expect, it } from 'vitest';
import { stampReceived } from '../../../sip/transaction/stamp-received.js';
import { FakeFlow } from './fakes.js';
import { request } from './messages.js';

const from = (host: string, port = 5060) => new FakeFlow('UDP', { host, port });

describe('stamping received and rport (§18.2.1, RFC 3581 §4)', () => {
  it('adds received when the packet came from another address than the sent-by host', () => {
    const req = request({ via: 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1' });
    expect(stampReceived(req, from('203.0.113.7', 40000))).toBe(true);
    expect(req.topVia.received).toBe('203.0.113.7');
    expect(req.header('via')).toBe('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.7');
  });

  it('adds received when sent-by is a host name', () => {
    const req = request({ via: 'SIP/2.0/UDP pc33.example.org;branch=z9hG4bK1' });
    stampReceived(req, from('192.0.2.1'));
    expect(req.topVia.received).toBe('192.0.2.1');
  });

  it('leaves the Via untouched when sent-by is the source address and there is no rport', () => {
    const req = request({ via: 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1' });
    expect(stampReceived(req, from('192.0.2.1', 5070))).toBe(false);
    expect(req.headers.find((h) => h.key === 'via')?.raw).toBe('Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1');
  });

  it('fills an empty rport with the source port and adds received even when it equals sent-by', () => {
    const req = request({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport' });
    stampReceived(req, from('192.0.2.1', 61000));
    expect(req.topVia.rport).toBe(61000);
    expect(req.topVia.received).toBe('192.0.2.1');
    expect(req.header('via')).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=61000;received=192.0.2.1');
  });

  it('compares IPv6 sent-by in brackets with the bare source address', () => {
    const same = request({ via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1' });
    expect(stampReceived(same, from('2001:DB8::1'))).toBe(false);
    const other = request({ via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1' });
    stampReceived(other, from('2001:db8::2'));
    expect(other.topVia.received).toBe('2001:db8::2');
  });

  it('touches only the top Via', () => {
    const req = request({ via: 'SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;rport', lowerVias: ['SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0;rport'] });
    stampReceived(req, from('203.0.113.7', 4000));
    expect(req.via[1].toString()).toBe('SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0;rport');
  });
});
