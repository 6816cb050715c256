import { describe, expect, it } from 'vitest';
import { throttleAddress } from '../../../server/auth/throttle-address.js';

describe('throttleAddress', () => {
  it('counts an IPv4 address as it is, an IPv4-mapped one as IPv4', () => {
    expect(throttleAddress('198.51.100.7')).toBe('198.51.100.7');
    expect(throttleAddress('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(throttleAddress('[::FFFF:198.51.100.7]')).toBe('198.51.100.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:0:1::/64';
    for (const a of ['2001:db8:0:1::1', '2001:0db8:0000:0001:ffff:0:0:2', '[2001:DB8:0:1:a:b:c:d]', '2001:db8::1:0:0:0:5', 'fe80::1%eth0'.replace('fe80::1', '2001:db8:0:1::9')]) {
      expect(throttleAddress(a), a).toBe(key);
    }
    expect(throttleAddress('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64');
    expect(throttleAddress('::1')).toBe('0:0:0:0::/64');
    expect(throttleAddress('::')).toBe('0:0:0:0::/64');
    expect(throttleAddress('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('leaves anything else as it is, lower-cased', () => {
    expect(throttleAddress('Client.Example')).toBe('client.example');
  });
});
