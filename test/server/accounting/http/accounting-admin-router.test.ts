import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccountingAdminRouter } from '../../../../server/accounting/http/accounting-admin-router.js';
import { backends } from '../../store/store-backends.js';
import { establish, milestone, useAccounting } from '../accounting-fixture.js';

const ADMIN = 'admin-token-0123456789';

describe.each(backends)('accounting admin router on $name', ({ kind }) => {
  const t = useAccounting(kind);
  let server: Server;
  let base: string;
  const changed: string[] = [];

  beforeEach(async () => {
    changed.length = 0;
    const app = express();
    app.use(
      '/admin/v1',
      createAccountingAdminRouter({
        store: t.store,
        reports: t.accounting.reports,
        verifyAdmin: (b) => b === ADMIN,
        defaultDomain: 'portal.test',
        onAccountChange: (u) => changed.push(u),
        clock: t.clock,
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/v1`;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
  });

  const get = (path: string, token = ADMIN) => fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  const send = (method: string, path: string, payload: unknown) =>
    fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });

  async function activity() {
    const lesson = milestone();
    await establish(t.accounting, lesson);
    t.clock.advance(61_000);
    await t.accounting.recorder.ended(lesson, 'caller');
    const shop = milestone({ service: 'wine', appServer: 'wine-shop' });
    await establish(t.accounting, shop);
    await t.accounting.charges.charge({
      sessionId: shop.sessionId,
      appServer: 'wine-shop',
      body: { id: 'order-1', items: [{ sku: 'W', description: 'Wine, red', unitPrice: 1000, quantity: 1, currency: 'EUR' }] },
      route: 'info',
    });
    return { lesson, shop };
  }

  it('refuses requests without the admin token', async () => {
    expect((await get('/sessions', 'nope')).status).toBe(401);
    expect((await fetch(base + '/sessions')).status).toBe(401);
  });

  it('lists and filters sessions, live ones too', async () => {
    const { lesson, shop } = await activity();
    const all = (await (await get('/sessions')).json()) as { sessions: { id: string }[] };
    expect(all.sessions.map((s) => s.id)).toEqual([shop.sessionId, lesson.sessionId]);
    const live = (await (await get('/sessions?live=true')).json()) as { sessions: { id: string }[] };
    expect(live.sessions.map((s) => s.id)).toEqual([shop.sessionId]);
    const byOperator = (await (await get('/sessions?operator=acme&state=ended')).json()) as { sessions: { id: string; nodeId: string }[] };
    expect(byOperator.sessions).toMatchObject([{ id: lesson.sessionId, nodeId: 'node-a' }]);
    expect((await (await get('/sessions?user=bob')).json()) as unknown).toEqual({ sessions: [] });
    const bad = await get('/sessions?state=running');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('state');
  });

  it('shows one session with segments and charges', async () => {
    const { shop } = await activity();
    const json = (await (await get(`/sessions/${shop.sessionId}`)).json()) as { session: { charges: { id: string }[]; callId: string } };
    expect(json.session.charges.map((c) => c.id)).toEqual(['order-1']);
    expect(json.session.callId).toBe(`call-${shop.sessionId}`);
    expect((await get('/sessions/nope')).status).toBe(404);
  });

  it('gives any user’s bill and any operator’s settlement, as JSON and CSV', async () => {
    await activity();
    const bill = (await (await get('/bills?user=alice&period=2026-01')).json()) as { totals: { amount: number }[] };
    expect(bill.totals).toEqual([{ amount: 1170, currency: 'EUR', decimal: '11.70' }]);
    const csv = await (await get('/bills?user=alice@portal.test&period=2026-01&format=csv')).text();
    expect(csv.split('\r\n').filter((l) => l.includes(',total,'))).toEqual(['2026-01,alice@portal.test,total,,,,,,,,,EUR,11.70,1170']);
    const settlement = (await (await get('/settlements?operator=acme&period=2026-01')).json()) as { totals: { net: { amount: number } }[] };
    expect(settlement.totals[0].net.amount).toBe(148);
    const scsv = await (await fetch(`${base}/settlements?operator=vino&period=2026-01`, { headers: { authorization: `Bearer ${ADMIN}`, accept: 'text/csv' } })).text();
    expect(scsv.split('\r\n').at(-2)).toBe('2026-01,vino,total,,,EUR,10.00,0.25,9.75,1000,25,975');
    expect((await get('/bills?period=2026-01')).status).toBe(400);
  });

  it('sets a user’s credit terms and tops the account up', async () => {
    const put = await send('PUT', '/accounts/users/bob', { mode: 'postpaid', currency: 'EUR', creditLimit: 20_000 });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { account: unknown }).account).toMatchObject({
      account: 'user:bob@portal.test',
      mode: 'postpaid',
      creditLimit: { amount: 20_000, decimal: '200.00' },
      available: { amount: 20_000 },
    });
    const top = await send('POST', '/accounts/users/alice/topup', { amount: 1000, currency: 'EUR', note: 'card' });
    expect(((await top.json()) as { account: { balance: { amount: number } } }).account.balance.amount).toBe(6000);
    expect(changed).toEqual(['bob@portal.test', 'alice@portal.test']);
    const one = (await (await get('/accounts/users/alice')).json()) as { adjustments: { kind: string }[] };
    expect(one.adjustments.map((a) => a.kind)).toEqual(['open', 'topup']);
    const list = (await (await get('/accounts?kind=user')).json()) as { accounts: { account: string }[] };
    expect(list.accounts.map((a) => a.account)).toEqual(['user:alice@portal.test', 'user:bob@portal.test']);
  });

  it('names the bad field of an account change', async () => {
    const errors = async (r: Response) => ((await r.json()) as { error: { code: string; field?: string } }).error;
    expect(await errors(await send('PUT', '/accounts/users/alice', { mode: 'credit', currency: 'EUR' }))).toMatchObject({ field: 'mode' });
    expect(await errors(await send('PUT', '/accounts/users/alice', { mode: 'postpaid', currency: 'EUR' }))).toMatchObject({ field: 'creditLimit' });
    expect(await errors(await send('PUT', '/accounts/users/alice', { mode: 'prepaid', currency: 'EUR', balance: 1.5 }))).toMatchObject({ field: 'balance' });
    expect(await errors(await send('POST', '/accounts/users/alice/topup', { amount: 100, currency: 'eur' }))).toMatchObject({ field: 'currency' });
    expect(await errors(await send('POST', '/accounts/users/alice/topup', { amount: 100, currency: 'EUR', extra: 1 }))).toMatchObject({ field: 'extra' });
    expect((await send('PUT', '/accounts/users/nobody', { mode: 'prepaid', currency: 'EUR' })).status).toBe(404);
  });
});
