import { describe, expect, it } from 'vitest';
import { MemoryLocationService } from '../../../server/registrar/memory-location-service.js';
import type { StoredBinding } from '../../../server/registrar/stored-binding.js';
import { parseSipUriStrict } from '../../../sip/grammar/uri.js';
import { ManualClock } from '../../../sip/util/clock.js';

function binding(contact: string, o: Partial<StoredBinding> & { expiresAt: number }): StoredBinding {
  return {
    aor: 'alice@portal.test',
    contact: parseSipUriStrict(contact),
    flowId: undefined,
    callId: 'c',
    cseq: 1,
    contactParams: '',
    flowBound: false,
    node: 'n',
    updatedAt: 0,
    ...o,
  };
}

describe('MemoryLocationService', () => {
  it('returns live bindings best first: highest q, then the most recently refreshed', async () => {
    const clock = new ManualClock();
    const loc = new MemoryLocationService({ clock });
    const t = clock.wallNow();
    await loc.update('alice@portal.test', () => ({
      result: undefined,
      bindings: [
        binding('sip:a@192.0.2.1', { expiresAt: t + 60_000, q: 0.5, updatedAt: t }),
        binding('sip:a@192.0.2.2', { expiresAt: t + 60_000, updatedAt: t - 10 }),
        binding('sip:a@192.0.2.3', { expiresAt: t + 60_000, q: 1, updatedAt: t }),
        binding('sip:a@192.0.2.4', { expiresAt: t + 60_000, q: 0.9, updatedAt: t }),
      ],
    }));
    expect((await loc.lookup('alice@portal.test')).map((b) => b.contact.host)).toEqual(['192.0.2.3', '192.0.2.2', '192.0.2.4', '192.0.2.1']);
    await loc.close();
  });

  it('hands out copies: changing a looked-up Contact changes nothing stored', async () => {
    const clock = new ManualClock();
    const loc = new MemoryLocationService({ clock });
    await loc.update('alice@portal.test', (_c, now) => ({ result: 0, bindings: [binding('sip:a@192.0.2.1', { expiresAt: now + 1000 })] }));
    const [b] = await loc.lookup('alice@portal.test');
    b.contact.host = 'evil.test';
    expect((await loc.lookup('alice@portal.test'))[0].contact.host).toBe('192.0.2.1');
    await loc.close();
  });

  it('passes the live bindings and the wall-clock time to update, and writes nothing when told nothing', async () => {
    const clock = new ManualClock();
    const loc = new MemoryLocationService({ clock });
    await loc.update('k', (_c, now) => ({ result: 0, bindings: [binding('sip:a@192.0.2.1', { expiresAt: now + 1000 })] }));
    clock.advance(1000);
    const seen = await loc.update('k', (current, now) => ({ result: { current: current.length, now } }));
    expect(seen).toEqual({ current: 0, now: clock.wallNow() });
  });

  it('re-arms one timer per AOR for the next expiry and leaves none behind', async () => {
    const clock = new ManualClock();
    const loc = new MemoryLocationService({ clock });
    const t = clock.wallNow();
    await loc.update('a', () => ({
      result: 0,
      bindings: [binding('sip:a@192.0.2.1', { expiresAt: t + 1000 }), binding('sip:a@192.0.2.2', { expiresAt: t + 5000 })],
    }));
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    expect((await loc.lookup('a')).map((b) => b.contact.host)).toEqual(['192.0.2.2']);
    expect(clock.pending).toBe(1);
    clock.advance(4000);
    expect(loc.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('on a closed flow drops the bindings bound to it, unbinds the others, and forgets the flow', async () => {
    const clock = new ManualClock();
    const loc = new MemoryLocationService({ clock });
    const t = clock.wallNow() + 60_000;
    await loc.update('a', () => ({
      result: 0,
      bindings: [
        binding('sip:a@x.invalid', { expiresAt: t, flowId: 'ws/1', flowBound: true }),
        binding('sip:a@192.0.2.1', { expiresAt: t, flowId: 'ws/1' }),
        binding('sip:a@192.0.2.2', { expiresAt: t, flowId: 'tcp/2', flowBound: true }),
      ],
    }));
    await loc.update('b', () => ({ result: 0, bindings: [binding('sip:b@y.invalid', { aor: 'b', expiresAt: t, flowId: 'ws/1', flowBound: true })] }));
    loc.flowClosed('ws/1');
    expect((await loc.lookup('a')).map((b) => [b.contact.host, b.flowId])).toEqual([
      ['192.0.2.1', undefined],
      ['192.0.2.2', 'tcp/2'],
    ]);
    expect(await loc.lookup('b')).toEqual([]);
    expect(loc.size).toBe(1);
    loc.flowClosed('ws/1'); // again: nothing left to do
    loc.flowClosed('tcp/2');
    expect((await loc.lookup('a')).map((b) => b.contact.host)).toEqual(['192.0.2.1']);
    await loc.close();
    expect(clock.pending).toBe(0);
  });

  it('refuses updates after close', async () => {
    const loc = new MemoryLocationService({ clock: new ManualClock() });
    await loc.close();
    await expect(loc.update('a', () => ({ result: 0 }))).rejects.toThrow(/closed/);
    expect(() => new MemoryLocationService({ nodeId: '' })).toThrow(TypeError);
  });
});
