import { describe, expect, it } from 'vitest';
import { checkServiceName, checkUsername, normalizeDomain } from '../../../server/store/account-names.js';

describe('account names', () => {
  it('accepts SIP user-part characters in a username', () => {
    expect(checkUsername("alice.o'neil+test-1")).toBe("alice.o'neil+test-1");
  });

  it.each(['', 'a b', 'a:b', 'a@b', 'caf\u00e9', 'x'.repeat(65)])('refuses the username %j', (name) => {
    expect(() => checkUsername(name)).toThrow(expect.objectContaining({ code: 'STORE_ERR_INVALID' }));
  });

  it('lower-cases hostnames and accepts IPv4 and bracketed IPv6', () => {
    expect(normalizeDomain('Portal.Test')).toBe('portal.test');
    expect(normalizeDomain('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeDomain('[2001:DB8::1]')).toBe('[2001:db8::1]');
  });

  it.each(['', 'a b', '-bad.test', 'under_score.test', 'a..b'])('refuses the domain %j', (d) => {
    expect(() => normalizeDomain(d)).toThrow(expect.objectContaining({ code: 'STORE_ERR_INVALID' }));
  });

  it('accepts lower-case service tokens and refuses others', () => {
    expect(checkServiceName('bookstore')).toBe('bookstore');
    expect(checkServiceName('wine.v2_x-y')).toBe('wine.v2_x-y');
    for (const bad of ['Wine', 'wine shop', '-wine', '', 'w'.repeat(65)]) {
      expect(() => checkServiceName(bad)).toThrow(expect.objectContaining({ code: 'STORE_ERR_INVALID' }));
    }
  });
});
