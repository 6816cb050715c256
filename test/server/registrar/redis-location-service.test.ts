import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisLocationService } from '../../../server/registrar/redis-location-service.js';
import { RelayRegistrar } from '../../../server/registrar/relay-registrar.js';
import type { StoredBinding } from '../../../server/registrar/stored-binding.js';
import { parseSipUriStrict } from '../../../sip/grammar/uri.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { randomToken } from '../../../sip/util/random.js';
import { fakeFlow, registerRequest, subscriber } from './registrar-fixtures.js';

/**
 * Against the real Redis of the development and CI machines
 * (127.0.0.1:6379), under a key prefix of its own that is deleted after.
 */
const REDIS_URL = process.env.SIPRELAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

let redis: Redis;
let prefix: string;
let clock: ManualClock;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  const keys = await redis.keys('siprelay-test-*');
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

beforeEach(() => {
  prefix = `siprelay-test-${randomToken(8)}:`;
  // Wall time must be real: Redis expires keys by its own clock.
  clock = new ManualClock(Date.now());
});

function store(nodeId = 'node-a'): RedisLocationService {
  return new RedisLocationService({ redis, keyPrefix: prefix, nodeId, clock });
}

function binding(contact: string, o: Partial<StoredBinding> = {}): StoredBinding {
  return {
    aor: 'alice@portal.test',
    contact: parseSipUriStrict(contact),
    flowId: undefined,
    expiresAt: clock.wallNow() + 60_000,
    callId: 'c',
    cseq: 1,
    contactParams: ';+sip.instance="<urn:uuid:1>"',
    flowBound: false,
    node: 'node-a',
    updatedAt: clock.wallNow(),
    ...o,
  };
}

describe('RedisLocationService', () => {
  it('stores bindings under one key that expires with the last of them', async () => {
    const loc = store();
    await loc.update('alice@portal.test', () => ({
      result: undefined,
      bindings: [binding('sip:a@192.0.2.1;transport=tcp', { q: 0.5 }), binding('sip:a@192.0.2.2', { expiresAt: clock.wallNow() + 120_000, regId: 1, instanceId: 'urn:uuid:1' })],
    }));
    const ttl = await redis.pttl(prefix + 'loc:alice@portal.test');
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    const found = await loc.lookup('alice@portal.test');
    expect(found.map((b) => [b.contact.toString(), b.q, b.regId, b.contactParams])).toEqual([
      ['sip:a@192.0.2.2', undefined, 1, ';+sip.instance="<urn:uuid:1>"'],
      ['sip:a@192.0.2.1;transport=tcp', 0.5, undefined, ';+sip.instance="<urn:uuid:1>"'],
    ]);
  });

  it('leaves out bindings that expired before the key did', async () => {
    const loc = store();
    await loc.update('a', () => ({ result: 0, bindings: [binding('sip:a@192.0.2.1', { expiresAt: clock.wallNow() + 1000 }), binding('sip:a@192.0.2.2')] }));
    clock.advance(1000);
    expect((await loc.lookup('a')).map((b) => b.contact.host)).toEqual(['192.0.2.2']);
  });

  it('deletes the key when the last binding goes', async () => {
    const loc = store();
    await loc.update('a', () => ({ result: 0, bindings: [binding('sip:a@192.0.2.1')] }));
    await loc.update('a', () => ({ result: 0, bindings: [] }));
    expect(await redis.exists(prefix + 'loc:a')).toBe(0);
  });

  it('keeps every update when two nodes change one AOR at once (compare-and-set with retry)', async () => {
    const a = store('node-a');
    const b = store('node-b');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).update('busy', (current) => ({ result: undefined, bindings: [...current, binding(`sip:a@192.0.2.${i + 1}`, { node: i % 2 ? 'node-a' : 'node-b' })] })),
      ),
    );
    expect(await a.lookup('busy')).toHaveLength(20);
  });

  it('on a closed flow touches only this node’s bindings of that flow', async () => {
    const a = store('node-a');
    const b = store('node-b');
    await a.update('x', () => ({
      result: 0,
      bindings: [
        binding('sip:x@one.invalid', { flowId: 'ws/1', flowBound: true, node: 'node-a' }),
        binding('sip:x@192.0.2.9', { flowId: 'ws/1', node: 'node-a' }),
      ],
    }));
    await b.update('x', (current) => ({ result: 0, bindings: [...current, binding('sip:x@two.invalid', { flowId: 'ws/1', flowBound: true, node: 'node-b' })] }));
    await a.removeFlow('ws/1');
    expect((await a.lookup('x')).map((bd) => [bd.contact.host, bd.flowId ?? null, bd.node]).sort()).toEqual([
      ['192.0.2.9', null, 'node-a'],
      ['two.invalid', 'ws/1', 'node-b'],
    ]);
    expect(await redis.exists(prefix + 'flow:node-a:ws/1')).toBe(0);
    expect(await redis.exists(prefix + 'flow:node-b:ws/1')).toBe(1);
  });

  it('serves the registrar: register, order Call-ID/CSeq, drop a browser binding with its flow', async () => {
    const loc = store();
    const registrar = new RelayRegistrar({ location: loc, domains: ['portal.test'], clock });
    const ws = fakeFlow('WS');
    const alice = subscriber('alice');
    const ok = await registrar.register(registerRequest({ contacts: ['<sip:k@abc.invalid;transport=ws>'], cseq: 5 }), ws, alice);
    expect(ok.status).toBe(200);
    expect(await loc.lookup('alice@portal.test')).toMatchObject([{ flowId: ws.id, flowBound: true, node: 'node-a', cseq: 5 }]);
    const stale = await registrar.register(registerRequest({ contacts: ['<sip:k@abc.invalid;transport=ws>;expires=0'], cseq: 4 }), ws, alice);
    expect(stale.status).toBe(500);
    await loc.removeFlow(ws.id);
    expect(await loc.lookup('alice@portal.test')).toEqual([]);
  });

  it('drops a stored record it cannot read instead of failing', async () => {
    const loc = store();
    await redis.set(prefix + 'loc:broken', 'not json');
    expect(await loc.lookup('broken')).toEqual([]);
    await redis.set(prefix + 'loc:broken', JSON.stringify([{ contact: 'nonsense', expiresAt: clock.wallNow() + 1000 }]));
    expect(await loc.lookup('broken')).toEqual([]);
  });

  it('refuses bad options with TypeError', () => {
    expect(() => new RedisLocationService({ redis: 42 as never })).toThrow(TypeError);
    expect(() => new RedisLocationService({ redis, nodeId: 'has space' })).toThrow(/nodeId/);
  });

  it('opens and closes its own connection from a URL', async () => {
    const loc = new RedisLocationService({ redis: REDIS_URL, keyPrefix: prefix, clock });
    await loc.update('own', () => ({ result: 0, bindings: [binding('sip:a@192.0.2.1')] }));
    expect(await loc.lookup('own')).toHaveLength(1);
    await loc.close();
  });
});
