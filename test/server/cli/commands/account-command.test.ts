import { describe, expect, it } from 'vitest';
import { backends } from '../../store/store-backends.js';
import { useCliDatabase } from './accounting-cli-fixture.js';

describe.each(backends)('siprelay account on $name', ({ kind }) => {
  const db = useCliDatabase(kind);

  it('set --prepaid --balance 20.00 EUR opens or changes a prepaid account', async () => {
    const r = await db.run(['account', 'set', 'bob', '--prepaid', '--balance', '20.00', 'EUR']);
    expect(r).toMatchObject({ status: 0, stdout: 'user:bob@portal.test: prepaid, balance 20.00 EUR\n' });
    await db.withStore(async (s) => expect((await s.accounts.findUser('bob@portal.test'))?.balance).toBe(2000));
  });

  it('set --postpaid --credit-limit sets a credit limit', async () => {
    const r = await db.run(['account', 'set', 'alice@portal.test', '--postpaid', '--credit-limit', '100.00 EUR']);
    expect(r.stdout).toBe('user:alice@portal.test: postpaid, credit limit 100.00 EUR, in credit 50.00 EUR\n');
  });

  it('topup adds money and show prints the history', async () => {
    expect((await db.run(['account', 'topup', 'alice', '10.00', 'EUR', '--note', 'card'])).stdout).toBe('user:alice@portal.test: prepaid, balance 60.00 EUR\n');
    const shown = await db.run(['account', 'show', 'alice']);
    expect(shown.stdout.split('\n')[0]).toBe('user:alice@portal.test: prepaid, balance 60.00 EUR');
    expect(shown.stdout).toMatch(/topup\s+10\.00 EUR\s+60\.00 EUR\s+card/);
    const list = JSON.parse((await db.run(['account', 'list', '--json'])).stdout) as { account: string }[];
    expect(list.map((a) => a.account)).toEqual(['user:alice@portal.test']);
  });

  it('refuses wrong input with a message and status 2, an unknown user with status 1', async () => {
    expect((await db.run(['account', 'set', 'alice', '--prepaid', '--balance', '20.001', 'EUR'])).stderr).toMatch(/--balance: EUR has 2 decimal places/);
    expect((await db.run(['account', 'set', 'alice', '--prepaid', '--postpaid'])).status).toBe(2);
    expect((await db.run(['account', 'set', 'alice', '--postpaid'])).stderr).toMatch(/needs --credit-limit/);
    const nobody = await db.run(['account', 'set', 'nobody', '--prepaid', '--balance', '1', 'EUR']);
    expect(nobody).toMatchObject({ status: 1, stderr: 'error: no user nobody@portal.test\n' });
    expect((await db.run(['account', 'topup', 'alice', '5', 'USD'])).status).toBe(1);
  });
});
