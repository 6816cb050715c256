import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../sip/util/clock.js';
import { CredentialCache } from '../../../server/auth/credential-cache.js';
import type { Principal } from '../../../server/auth/load-principal.js';

function principal(username: string): Principal {
  return {
    kind: 'subscriber',
    id: 1,
    username,
    domain: 'portal.test',
    displayName: undefined,
    plan: undefined,
    ha1: { MD5: 'a'.repeat(32), 'SHA-256': 'b'.repeat(64) },
  };
}

function cache(options: { ttlMs?: number; maxEntries?: number; known?: string[] } = {}) {
  const clock = new ManualClock();
  const loads: string[] = [];
  const known = new Set(options.known ?? ['alice', 'bob', 'carol']);
  let fail = false;
  const c = new CredentialCache({
    load: async (username, realm) => {
      loads.push(`${username}@${realm}`);
      if (fail) throw new Error('store down');
      return known.has(username) ? principal(username) : undefined;
    },
    clock,
    ttlMs: options.ttlMs,
    maxEntries: options.maxEntries,
  });
  return { c, clock, loads, known, failNext: (v: boolean) => (fail = v) };
}

describe('CredentialCache', () => {
  it('reads the store once per name within the TTL (30 s by default)', async () => {
    const { c, clock, loads } = cache();
    expect((await c.get('alice', 'portal.test'))?.username).toBe('alice');
    await c.get('alice', 'Portal.Test');
    clock.advance(29_999);
    await c.get('alice', 'portal.test');
    expect(loads).toEqual(['alice@portal.test']);
    clock.advance(1);
    await c.get('alice', 'portal.test');
    expect(loads).toHaveLength(2);
  });

  it('caches unknown names too', async () => {
    const { c, loads } = cache();
    expect(await c.get('mallory', 'portal.test')).toBeUndefined();
    expect(await c.get('mallory', 'portal.test')).toBeUndefined();
    expect(loads).toEqual(['mallory@portal.test']);
  });

  it('invalidate makes the next request read the store (admin changes apply at once)', async () => {
    const { c, loads, known } = cache();
    await c.get('alice', 'portal.test');
    known.delete('alice');
    c.invalidate('alice', 'portal.test');
    expect(await c.get('alice', 'portal.test')).toBeUndefined();
    expect(loads).toHaveLength(2);
  });

  it('shares one store read among concurrent misses', async () => {
    const { c, loads } = cache();
    const [a, b] = await Promise.all([c.get('alice', 'portal.test'), c.get('alice', 'portal.test')]);
    expect(a).toBe(b);
    expect(loads).toHaveLength(1);
  });

  it('does not keep an answer read before an invalidation', async () => {
    const { c, loads, known } = cache();
    const before = c.get('alice', 'portal.test');
    known.delete('alice');
    c.invalidate('alice', 'portal.test');
    await before;
    expect(await c.get('alice', 'portal.test')).toBeUndefined();
    expect(loads).toHaveLength(2);
  });

  it('does not cache store errors', async () => {
    const { c, failNext, loads } = cache();
    failNext(true);
    await expect(c.get('alice', 'portal.test')).rejects.toThrow('store down');
    failNext(false);
    expect(await c.get('alice', 'portal.test')).toBeDefined();
    expect(loads).toHaveLength(2);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const { c, loads } = cache({ maxEntries: 2 });
    await c.get('alice', 'portal.test');
    await c.get('bob', 'portal.test');
    await c.get('alice', 'portal.test'); // alice is now the most recent
    await c.get('carol', 'portal.test'); // drops bob
    expect(c.size).toBe(2);
    await c.get('alice', 'portal.test');
    expect(loads).toEqual(['alice@portal.test', 'bob@portal.test', 'carol@portal.test']);
    await c.get('bob', 'portal.test');
    expect(loads).toHaveLength(4);
  });

  it('with ttlMs 0 reads the store every time', async () => {
    const { c, loads } = cache({ ttlMs: 0 });
    await c.get('alice', 'portal.test');
    await c.get('alice', 'portal.test');
    expect(loads).toHaveLength(2);
  });

  it('throws TypeError for bad options', () => {
    expect(() => new CredentialCache({ load: async () => undefined, ttlMs: -1 })).toThrow(TypeError);
    expect(() => new CredentialCache({ load: async () => undefined, maxEntries: 0 })).toThrow(TypeError);
    expect(() => new CredentialCache({} as never)).toThrow(TypeError);
  });
});
