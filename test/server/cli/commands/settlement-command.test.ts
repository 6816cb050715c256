import { describe, expect, it } from 'vitest';
import { backends } from '../../store/store-backends.js';
import { november, useCliDatabase } from './accounting-cli-fixture.js';

describe.each(backends)('siprelay settlement show on $name', ({ kind }) => {
  const db = useCliDatabase(kind);

  it('prints what the relay owes an operator: gross, fee and net', async () => {
    await db.withStore(november);
    const r = await db.run(['settlement', 'show', '--operator', 'vino', '--period', '2026-11']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').at(-2)).toBe('total: gross 14.50 EUR, fee 0.36 EUR, net 14.14 EUR (0 sessions, 2 charges)');
  });

  it('exports CSV', async () => {
    await db.withStore(november);
    const r = await db.run(['settlement', 'show', '--operator', 'acme', '--period', '2026-11', '--csv']);
    expect(r.stdout.split('\r\n').at(-2)).toBe('2026-11,acme,total,,,EUR,1.70,0.22,1.48,170,22,148');
  });
});
