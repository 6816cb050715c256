import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccountingApiRouter } from '../../../../server/accounting/http/accounting-api-router.js';
import type { UserAuthenticator } from '../../../../server/accounting/http/user-authenticator.js';
import { backends } from '../../store/store-backends.js';
import { establish, milestone, useAccounting } from '../accounting-fixture.js';

/** A fake of the relay's user tokens: `user-<name>` is a valid token of <name>@portal.test. */
const users: UserAuthenticator = {
  verify: (bearer) => (bearer.startsWith('user-') ? { username: bearer.slice(5), domain: 'portal.test' } : undefined),
};
const ADMIN = 'admin-token-0123456789';

const body = (id: string, unitPrice = 2450) =>
  JSON.stringify({ id, items: [{ sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice, quantity: 1, currency: 'EUR' }] });

describe.each(backends)('accounting API router on $name', ({ kind }) => {
  const t = useAccounting(kind);
  let server: Server;
  let base: string;
  let wineKey: string;
  let beerKey: string;

  beforeEach(async () => {
    wineKey = (await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' })).key;
    beerKey = (await t.store.apiKeys.create({ kind: 'app-server', appServer: 'beer-shop' })).key;
    const app = express();
    app.use(
      '/api/v1',
      createAccountingApiRouter({
        store: t.store,
        charges: t.accounting.charges,
        reports: t.accounting.reports,
        users,
        verifyAdmin: (b) => b === ADMIN,
        clock: t.clock,
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
  });

  const shopSession = async () => {
    const m = milestone({ service: 'wine', appServer: 'wine-shop' });
    await establish(t.accounting, m);
    return m.sessionId;
  };
  const post = (sessionId: string, payload: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/sessions/${sessionId}/charges`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wineKey}`, 'content-type': 'application/vnd.siprelay.charge+json', ...headers },
      body: payload,
    });

  describe('POST /sessions/:id/charges', () => {
    it('stores a charge: 201 with the charge, and 200 with the same body when the key is retried', async () => {
      const s = await shopSession();
      const first = await post(s, body('order-1'), { 'idempotency-key': 'order-1' });
      expect(first.status).toBe(201);
      const json = (await first.json()) as { charge: Record<string, unknown> };
      expect(json.charge).toMatchObject({ id: 'order-1', sessionId: s, appServer: 'wine-shop', route: 'api', total: { amount: 2450, currency: 'EUR', decimal: '24.50' } });
      const again = await post(s, body('order-1'), { 'idempotency-key': 'order-1' });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(json);
      expect(await t.store.charges.list({ sessionId: s })).toHaveLength(1);
    });

    it('stores concurrent retries of one key once', async () => {
      const s = await shopSession();
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(s, body('order-1', 10), { 'idempotency-key': 'order-1' })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      expect(await t.store.charges.list({ sessionId: s })).toHaveLength(1);
    });

    it('requires the Idempotency-Key header and names it', async () => {
      const s = await shopSession();
      const r = await post(s, body('order-1'));
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ error: { code: 'ACCT_ERR_IDEMPOTENCY_KEY', message: 'Idempotency-Key: the header is required', field: 'Idempotency-Key' } });
    });

    it('names the bad field of a charge', async () => {
      const s = await shopSession();
      const bad = JSON.stringify({ id: 'o', items: [{ sku: 'A', description: 'A', unitPrice: 1, quantity: -2, currency: 'EUR' }] });
      const r = await post(s, bad, { 'idempotency-key': 'o' });
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({
        error: { code: 'BILLING_ERR_CHARGE_INVALID', message: 'items[0].quantity: must be a positive integer', field: 'items[0].quantity' },
      });
    });

    it('refuses another application server’s key with 403, a bad key with 401, no credit with 402', async () => {
      const s = await shopSession();
      const wrong = await post(s, body('o'), { 'idempotency-key': 'o', authorization: `Bearer ${beerKey}` });
      expect(wrong.status).toBe(403);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('ACCT_ERR_FORBIDDEN');
      const unknown = await post(s, body('o'), { 'idempotency-key': 'o', authorization: 'Bearer srk_nope' });
      expect(unknown.status).toBe(401);
      expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const poor = await post(s, body('o', 5001), { 'idempotency-key': 'o' });
      expect(poor.status).toBe(402);
      expect(((await poor.json()) as { error: { code: string } }).error.code).toBe('BILLING_ERR_INSUFFICIENT_CREDIT');
    });

    it('answers 404 for an unknown session, 415 for a form and 413 for a body over the limit', async () => {
      expect((await post('nope', body('o'), { 'idempotency-key': 'o' })).status).toBe(404);
      const s = await shopSession();
      expect((await post(s, 'id=o', { 'idempotency-key': 'o', 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
      const big = await post(s, JSON.stringify({ id: 'o', pad: 'x'.repeat(70_000) }), { 'idempotency-key': 'o' });
      expect(big.status).toBe(413);
    });
  });

  describe('GET /sessions/:id', () => {
    it('shows the session with its segments and charges to its application server, its user and the operator', async () => {
      const s = await shopSession();
      await post(s, body('order-1'), { 'idempotency-key': 'order-1' });
      for (const token of [wineKey, 'user-alice', ADMIN]) {
        const r = await fetch(`${base}/sessions/${s}`, { headers: { authorization: `Bearer ${token}` } });
        expect(r.status).toBe(200);
        const json = (await r.json()) as { session: { id: string; segments: unknown[]; charges: unknown[]; nodeId?: string } };
        expect(json.session).toMatchObject({ id: s, state: 'established', service: 'wine', user: 'alice@portal.test' });
        expect(json.session.segments).toHaveLength(1);
        expect(json.session.charges).toHaveLength(1);
        expect(json.session.nodeId).toBe(token === ADMIN ? 'node-a' : undefined);
      }
    });

    it('shows nothing to anyone else: 404 for another app server or user, 401 without a valid token', async () => {
      const s = await shopSession();
      expect((await fetch(`${base}/sessions/${s}`, { headers: { authorization: `Bearer ${beerKey}` } })).status).toBe(404);
      expect((await fetch(`${base}/sessions/${s}`, { headers: { authorization: 'Bearer user-bob' } })).status).toBe(404);
      expect((await fetch(`${base}/sessions/${s}`, { headers: { authorization: 'Bearer junk' } })).status).toBe(401);
      expect((await fetch(`${base}/sessions/${s}`)).status).toBe(401);
    });
  });

  describe('GET /me/…', () => {
    it('lists only the caller’s sessions', async () => {
      await shopSession();
      const bobs = milestone({ service: 'wine', appServer: 'wine-shop', user: 'bob' });
      await establish(t.accounting, bobs);
      const r = await fetch(`${base}/me/sessions`, { headers: { authorization: 'Bearer user-bob' } });
      const json = (await r.json()) as { sessions: { id: string; user: string }[] };
      expect(json.sessions.map((x) => x.id)).toEqual([bobs.sessionId]);
      expect((await fetch(`${base}/me/sessions`)).status).toBe(401);
    });

    it('gives the caller’s bill of a period as JSON or CSV', async () => {
      const s = await shopSession();
      await post(s, body('order-1'), { 'idempotency-key': 'order-1' });
      const json = (await (await fetch(`${base}/me/bill?period=2026-01`, { headers: { authorization: 'Bearer user-alice' } })).json()) as {
        userId: string;
        totals: unknown[];
        lines: unknown[];
      };
      expect(json).toMatchObject({ userId: 'alice@portal.test', totals: [{ amount: 2450, currency: 'EUR', decimal: '24.50' }] });
      const csv = await fetch(`${base}/me/bill?period=2026-01&format=csv`, { headers: { authorization: 'Bearer user-alice' } });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect((await csv.text()).split('\r\n')[1]).toMatch(/^2026-01,alice@portal\.test,charge,/);
      const other = (await (await fetch(`${base}/me/bill?period=2026-01`, { headers: { authorization: 'Bearer user-bob' } })).json()) as { lines: unknown[] };
      expect(other.lines).toEqual([]);
      const bad = await fetch(`${base}/me/bill?period=2026-13`, { headers: { authorization: 'Bearer user-alice' } });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('period');
    });
  });
});
