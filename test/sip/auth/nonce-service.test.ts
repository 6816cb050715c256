import { describe, expect, it } from 'vitest';
import { NonceService } from '../../../sip/auth/nonce-service.js';
import { ManualClock } from '../../../sip/util/clock.js';

const SECRET = 'cluster-secret-0123456789';

function service(clock: ManualClock, extra: Partial<ConstructorParameters<typeof NonceService>[0]> = {}): NonceService {
  return new NonceService({ secret: SECRET, clock, ...extra });
}

/** Flips one character of a base64url nonce at `at`, keeping it well-formed. */
function tamper(nonce: string, at: number): string {
  const c = nonce[at] === 'A' ? 'B' : 'A';
  return nonce.slice(0, at) + c + nonce.slice(at + 1);
}

describe('Nonce service', () => {
  describe('a nonce just issued', () => {
    it('is valid for the realm it was issued for', () => {
      const clock = new ManualClock();
      const nonces = service(clock);
      expect(nonces.verify(nonces.create('portal.test'), 'portal.test')).toBe('valid');
    });

    it('is 48 base64url characters, safe in a quoted string', () => {
      const nonce = service(new ManualClock()).create('portal.test');
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{48}$/);
    });

    it('differs from every other nonce issued in the same millisecond', () => {
      const nonces = service(new ManualClock());
      const seen = new Set(Array.from({ length: 1000 }, () => nonces.create('portal.test')));
      expect(seen.size).toBe(1000);
    });

    it('is invalid for another realm', () => {
      const nonces = service(new ManualClock());
      expect(nonces.verify(nonces.create('portal.test'), 'other.test')).toBe('invalid');
    });
  });

  describe('a nonce that was altered', () => {
    it('is invalid wherever the change is (version, time, random part or MAC)', () => {
      const nonces = service(new ManualClock());
      const nonce = nonces.create('portal.test');
      for (const at of [0, 3, 10, 20, 30, 47]) expect(nonces.verify(tamper(nonce, at), 'portal.test')).toBe('invalid');
    });

    it('is invalid when truncated, lengthened or not base64url', () => {
      const nonces = service(new ManualClock());
      const nonce = nonces.create('portal.test');
      expect(nonces.verify(nonce.slice(0, 47), 'portal.test')).toBe('invalid');
      expect(nonces.verify(nonce + 'A', 'portal.test')).toBe('invalid');
      expect(nonces.verify(nonce.slice(0, 47) + '=', 'portal.test')).toBe('invalid');
      expect(nonces.verify(nonce.slice(0, 47) + 'é', 'portal.test')).toBe('invalid');
      expect(nonces.verify('', 'portal.test')).toBe('invalid');
    });
  });

  describe('as time passes', () => {
    it('stays valid up to lifetimeMs and becomes stale after', () => {
      const clock = new ManualClock();
      const nonces = service(clock, { lifetimeMs: 60_000 });
      const nonce = nonces.create('portal.test');
      clock.advance(60_000);
      expect(nonces.verify(nonce, 'portal.test')).toBe('valid');
      clock.advance(1);
      expect(nonces.verify(nonce, 'portal.test')).toBe('stale');
    });

    it('defaults to a 5-minute lifetime', () => {
      const clock = new ManualClock();
      const nonces = service(clock);
      const nonce = nonces.create('portal.test');
      clock.advance(300_000);
      expect(nonces.verify(nonce, 'portal.test')).toBe('valid');
      clock.advance(1);
      expect(nonces.verify(nonce, 'portal.test')).toBe('stale');
    });

    it('accepts a nonce from a node whose clock is ahead by less than maxFutureSkewMs, and rejects one further ahead', () => {
      const here = new ManualClock(Date.UTC(2026, 0, 1));
      const aheadSlightly = new ManualClock(Date.UTC(2026, 0, 1) + 2_000);
      const aheadFar = new ManualClock(Date.UTC(2026, 0, 1) + 60_000);
      const verifier = service(here, { maxFutureSkewMs: 5_000 });
      expect(verifier.verify(service(aheadSlightly).create('portal.test'), 'portal.test')).toBe('valid');
      expect(verifier.verify(service(aheadFar).create('portal.test'), 'portal.test')).toBe('invalid');
    });
  });

  describe('in a cluster', () => {
    it('verifies a nonce another node issued with the same secret, without shared state', () => {
      const clock = new ManualClock();
      const nodeA = service(clock);
      const nodeB = service(clock);
      expect(nodeB.verify(nodeA.create('portal.test'), 'portal.test')).toBe('valid');
    });

    it('rejects a nonce signed with a secret it does not hold', () => {
      const clock = new ManualClock();
      const foreign = new NonceService({ secret: 'some-other-secret-xyz', clock });
      expect(service(clock).verify(foreign.create('portal.test'), 'portal.test')).toBe('invalid');
    });
  });

  describe('secret rotation', () => {
    it('signs with the first secret and verifies with any', () => {
      const clock = new ManualClock();
      const before = new NonceService({ secrets: ['old-secret-0123456789'], clock });
      const during = new NonceService({ secrets: ['new-secret-0123456789', 'old-secret-0123456789'], clock });
      const after = new NonceService({ secrets: ['new-secret-0123456789'], clock });
      const oldNonce = before.create('portal.test');
      const newNonce = during.create('portal.test');
      expect(during.verify(oldNonce, 'portal.test')).toBe('valid');
      expect(after.verify(newNonce, 'portal.test')).toBe('valid');
      expect(before.verify(newNonce, 'portal.test')).toBe('invalid');
      expect(after.verify(oldNonce, 'portal.test')).toBe('invalid');
    });

    it('accepts bytes as well as text for a secret', () => {
      const clock = new ManualClock();
      const text = new NonceService({ secret: '0123456789abcdef', clock });
      const bytes = new NonceService({ secret: new TextEncoder().encode('0123456789abcdef'), clock });
      expect(bytes.verify(text.create('r'), 'r')).toBe('valid');
    });
  });

  describe('options', () => {
    it.each([
      ['no secret', {}],
      ['both secret and secrets', { secret: SECRET, secrets: [SECRET] }],
      ['an empty secrets list', { secrets: [] }],
      ['a short secret', { secret: 'short' }],
      ['a non-string secret', { secrets: [42] }],
      ['a zero lifetime', { secret: SECRET, lifetimeMs: 0 }],
      ['a negative skew', { secret: SECRET, maxFutureSkewMs: -1 }],
      ['an infinite lifetime', { secret: SECRET, lifetimeMs: Infinity }],
    ])('throws TypeError for %s', (_name, options) => {
      // Deliberately invalid options: the cast lets the test pass what TypeScript would reject.
      expect(() => new NonceService(options as never)).toThrow(TypeError);
    });

    it('exposes the lifetime it uses', () => {
      expect(new NonceService({ secret: SECRET }).lifetimeMs).toBe(300_000);
    });
  });
});
