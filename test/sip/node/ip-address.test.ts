import { describe, expect, it } from 'vitest';
import { canonicalHost, isWildcardHost, urlHost } from '../../../sip/node/ip-address.js';

describe('IP address helpers', () => {
  it('names an IPv4-mapped IPv6 peer by its IPv4 address', () => {
    expect(canonicalHost('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalHost('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalHost('::ffff:c000:201')).toBe('::ffff:c000:201');
    expect(canonicalHost('2001:DB8::1')).toBe('2001:db8::1');
    expect(canonicalHost('Relay.Example')).toBe('relay.example');
  });

  it('knows the any-addresses', () => {
    expect(isWildcardHost('0.0.0.0')).toBe(true);
    expect(isWildcardHost('::')).toBe(true);
    expect(isWildcardHost('127.0.0.1')).toBe(false);
  });

  it('brackets IPv6 in URLs (RFC 3986 §3.2.2)', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('relay.example')).toBe('relay.example');
  });
});
