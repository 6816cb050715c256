import { describe, expect, it } from 'vitest';
import { describeInviteFailure, describeRegistrationFailure } from '../../../../web-client/src/model/describe-failure.js';
import { response } from './sip-fixtures.js';

describe('failures in words', () => {
  describe('opening a service', () => {
    it.each([
      [404, 'No Such Service', [], 'no-such-service'],
      [404, 'No Such Category', [], 'nothing-found'],
      [486, 'Busy Here', ['Retry-After: 60'], 'service-busy'],
      [500, 'Service Unavailable', ['Retry-After: 30'], 'service-busy'],
      [503, 'Service Unavailable', [], 'service-busy'],
      [480, 'Temporarily Unavailable', ['Retry-After: 30'], 'service-unavailable'],
      [402, 'insufficient credit: needs 0.50 EUR', [], 'no-credit'],
      [408, 'Request Timeout', [], 'timeout'],
      [500, 'Server Internal Error', [], 'relay-error'],
      [488, 'Not Acceptable Here', [], 'refused'],
    ] as const)('%i %s → %s', (status, reason, headers, code) => {
      const p = describeInviteFailure('wine', response(status, reason, [...headers]));
      expect(p.code).toBe(code);
      expect(p.status).toBe(status);
    });
    it('says when to try again from Retry-After', () => {
      expect(describeInviteFailure('lesson', response(486, 'Busy Here', ['Retry-After: 60'])).detail).toContain('Try again in 60 s');
    });
  });
  describe('signing in', () => {
    it('says a refused digest plainly: wrong username or password', () => {
      const p = describeRegistrationFailure(response(401, 'Unauthorized'));
      expect(p.code).toBe('wrong-credentials');
      expect(p.title).toBe('Wrong username or password');
    });
    it('says a throttled sign-in is blocked, and for how long', () => {
      const p = describeRegistrationFailure(response(403, 'Too Many Failed Authentications', ['Retry-After: 280']));
      expect(p.code).toBe('sign-in-blocked');
      expect(p.detail).toContain('280 s');
    });
  });
});
