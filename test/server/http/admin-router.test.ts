import { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { adminBearerVerifier } from '../../../server/http/admin-auth.js';
import { createAuthenticator } from '../../../server/auth/create-authenticator.js';
import type { AdminChange } from '../../../server/http/admin-router.js';
import { SigningKeyRing } from '../../../server/identity/signing-key-ring.js';
import { backends, useTestStore } from '../store/store-backends.js';
import { digestClient, flowFrom, login, request } from '../auth/auth-harness.js';
import { ADMIN_TOKEN, testConfig, useHttpServer } from './http-harness.js';

describe.each(backends)('admin API on $name', ({ kind }) => {
  const t = useTestStore(kind);
  const serve = useHttpServer();

  describe('access', () => {
    it('is off without admin.token: 404 HTTP_ERR_ADMIN_DISABLED, even with an admin API key', async () => {
      const { key } = await t.store.apiKeys.create({ kind: 'admin' });
      const s = await serve(t.store, { config: testConfig({ admin: {} }) });
      const r = await s.call('GET', '/admin/v1/subscribers', { token: key });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('HTTP_ERR_ADMIN_DISABLED');
    });

    it('needs a bearer token: 401 with WWW-Authenticate without one or with a wrong one', async () => {
      const s = await serve(t.store);
      const none = await s.call('GET', '/admin/v1/subscribers', { token: null });
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe('HTTP_ERR_UNAUTHORIZED');
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="siprelay-admin"');
      const wrong = await s.call('GET', '/admin/v1/subscribers', { token: ADMIN_TOKEN + 'x' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const basic = await s.call('GET', '/admin/v1/subscribers', { token: null, headers: { authorization: `Basic ${btoa('a:b')}` } });
      expect(basic.status).toBe(401);
    });

    it('accepts the admin token and admin API keys, not revoked keys or application-server keys', async () => {
      const admin = await t.store.apiKeys.create({ kind: 'admin' }, { label: 'ops' });
      await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x' });
      const shop = await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' });
      const s = await serve(t.store);
      expect((await s.call('GET', '/admin/v1/subscribers')).status).toBe(200);
      expect((await s.call('GET', '/admin/v1/subscribers', { token: admin.key })).status).toBe(200);
      expect((await s.call('GET', '/admin/v1/subscribers', { token: shop.key })).status).toBe(401);
      await t.store.apiKeys.revoke(admin.apiKey.id);
      expect((await s.call('GET', '/admin/v1/subscribers', { token: admin.key })).status).toBe(401);
    });

    it('guards routers mounted later under /admin/v1 too, and lets them answer', async () => {
      const s = await serve(t.store);
      const sessions = Router();
      sessions.get('/', (_req, res) => {
        res.json({ sessions: [], actor: res.locals.adminActor });
      });
      s.http.mount('/admin/v1/sessions', sessions);
      expect((await s.call('GET', '/admin/v1/sessions', { token: null })).status).toBe(401);
      expect((await s.call('GET', '/admin/v1/sessions')).json).toEqual({ sessions: [], actor: 'token' });
    });

    it('offers the same check to other routers (adminBearerVerifier)', async () => {
      const admin = await t.store.apiKeys.create({ kind: 'admin' });
      const verify = adminBearerVerifier({ token: ADMIN_TOKEN, apiKeys: t.store.apiKeys });
      expect(await verify(ADMIN_TOKEN)).toBe('token');
      expect(await verify(admin.key)).toBe(`api-key:${admin.apiKey.id}`);
      expect(await verify('srk_nope')).toBeUndefined();
      expect(await verify(ADMIN_TOKEN.slice(1))).toBeUndefined();
      expect(await adminBearerVerifier({ token: undefined, apiKeys: t.store.apiKeys })(admin.key)).toBeUndefined();
    });

    it('logs who made a change', async () => {
      const admin = await t.store.apiKeys.create({ kind: 'admin' });
      const s = await serve(t.store);
      await s.call('POST', '/admin/v1/subscribers', { token: admin.key, body: { username: 'alice', password: 'alice-secret' } });
      expect(s.logger.lines).toContainEqual(
        expect.objectContaining({ msg: 'admin change', obj: expect.objectContaining({ entity: 'subscriber', actor: `api-key:${admin.apiKey.id}` }) }),
      );
      const line = s.logger.lines.find((l) => l.msg === 'http request' && (l.obj as { method?: string }).method === 'POST');
      expect(line?.obj).toMatchObject({ path: '/admin/v1/subscribers', status: 201, actor: `api-key:${admin.apiKey.id}` });
      expect(JSON.stringify(s.logger.lines)).not.toContain('alice-secret');
      expect(JSON.stringify(s.logger.lines)).not.toContain(admin.key);
    });
  });

  describe('subscribers', () => {
    it('creates, reads, lists, changes, disables and deletes a user', async () => {
      const changes: AdminChange[] = [];
      const s = await serve(t.store, { onAdminChange: (c) => changes.push(c) });
      const created = await s.call('POST', '/admin/v1/subscribers', {
        body: { username: 'alice', password: 'alice-secret', displayName: 'Alice A.', plan: 'gold' },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe('/admin/v1/subscribers/alice@portal.test');
      expect(created.json).toMatchObject({
        username: 'alice',
        domain: 'portal.test',
        aor: 'sip:alice@portal.test',
        displayName: 'Alice A.',
        plan: 'gold',
        disabled: false,
      });
      expect(created.json).not.toHaveProperty('password');
      expect(created.json.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

      await s.call('POST', '/admin/v1/subscribers', { body: { username: 'bob', domain: 'SHOP.test', password: 'bob-secret' } });
      expect((await s.call('GET', '/admin/v1/subscribers')).json.subscribers.map((u: { aor: string }) => u.aor)).toEqual([
        'sip:alice@portal.test',
        'sip:bob@shop.test',
      ]);
      expect((await s.call('GET', '/admin/v1/subscribers?domain=shop.test')).json.subscribers).toHaveLength(1);
      expect((await s.call('GET', '/admin/v1/subscribers/bob@shop.test')).json.username).toBe('bob');
      expect((await s.call('GET', '/admin/v1/subscribers/alice')).json.plan).toBe('gold');

      const patched = await s.call('PATCH', '/admin/v1/subscribers/alice', { body: { disabled: true, plan: null } });
      expect(patched.status).toBe(200);
      expect(patched.json).toMatchObject({ disabled: true, plan: null, displayName: 'Alice A.' });
      expect((await t.store.subscribers.find('alice', 'portal.test'))?.disabled).toBe(true);
      expect((await s.call('PATCH', '/admin/v1/subscribers/alice', { body: { disabled: false } })).json.disabled).toBe(false);

      expect((await s.call('PUT', '/admin/v1/subscribers/alice/password', { body: { password: 'new-secret' } })).status).toBe(204);
      expect((await s.call('DELETE', '/admin/v1/subscribers/alice@portal.test')).status).toBe(204);
      expect((await s.call('GET', '/admin/v1/subscribers/alice')).status).toBe(404);
      expect(changes.map((c) => `${c.entity} ${c.action} ${c.name}`)).toEqual([
        'subscriber created alice',
        'subscriber created bob',
        'subscriber disabled alice',
        'subscriber updated alice',
        'subscriber enabled alice',
        'subscriber password-changed alice',
        'subscriber removed alice',
      ]);
    });

    it('applies a password change and a disable to SIP at once (the credential cache is invalidated)', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
      const auth = createAuthenticator(testConfig(), t.store, { clock: t.clock });
      const s = await serve(t.store, { credentialCache: auth.credentialCache });
      const sipLogin = (password: string) => login(auth.authenticator, digestClient('alice', password), request(), flowFrom('198.51.100.7'));
      expect((await sipLogin('alice-secret')).kind).toBe('authenticated');

      await s.call('PUT', '/admin/v1/subscribers/alice/password', { body: { password: 'changed-secret' } });
      expect((await sipLogin('alice-secret')).kind).toBe('respond');
      expect((await sipLogin('changed-secret')).kind).toBe('authenticated');

      await s.call('PATCH', '/admin/v1/subscribers/alice', { body: { disabled: true } });
      expect((await sipLogin('changed-secret')).kind).toBe('respond');
    });

    it('names the field at fault in every validation error', async () => {
      const s = await serve(t.store);
      const post = (body: unknown) => s.call('POST', '/admin/v1/subscribers', { body });
      const cases: Array<[unknown, string, RegExp]> = [
        [{ username: 'alice' }, 'password', /password: is required/],
        [{ username: 'alice', password: '' }, 'password', /must not be empty/],
        [{ password: 'x' }, 'username', /username: is required/],
        [{ username: 'al ice', password: 'x' }, 'username', /contains " "/],
        [{ username: 'alice', password: 'x', domain: 'nowhere.example' }, 'domain', /not a domain of this relay/],
        [{ username: 'alice', password: 'x', domain: 'bad domain' }, 'domain', /not a hostname/],
        [{ username: 'alice', password: 'x', colour: 'red' }, 'colour', /unknown field "colour"/],
        [{ username: 'alice', password: 12 }, 'password', /expected a string/],
        [{ username: 'alice', password: 'x', displayName: 'a\nb' }, 'displayName', /control characters/],
      ];
      for (const [body, field, message] of cases) {
        const r = await post(body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.json.error, JSON.stringify(body)).toMatchObject({ code: 'HTTP_ERR_VALIDATION', field });
        expect(r.json.error.message).toMatch(message);
      }
      const array = await post([1, 2]);
      expect(array.status).toBe(400);
      expect(array.json.error.code).toBe('HTTP_ERR_VALIDATION');
      const empty = await s.call('PATCH', '/admin/v1/subscribers/alice', { body: {} });
      expect(empty.json.error.message).toMatch(/at least one of/);
      const badQuery = await s.call('GET', '/admin/v1/subscribers?domian=x');
      expect(badQuery.json.error).toMatchObject({ code: 'HTTP_ERR_VALIDATION', field: 'domian' });
    });

    it('answers 409 naming username for a taken name, 404 naming user for an unknown one', async () => {
      await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x' });
      const s = await serve(t.store);
      await s.call('POST', '/admin/v1/subscribers', { body: { username: 'alice', password: 'x' } });
      const again = await s.call('POST', '/admin/v1/subscribers', { body: { username: 'alice', password: 'y' } });
      expect(again.status).toBe(409);
      expect(again.json.error).toMatchObject({ code: 'STORE_ERR_DUPLICATE', field: 'username' });
      const clash = await s.call('POST', '/admin/v1/subscribers', { body: { username: 'wine-shop', password: 'y' } });
      expect(clash.json.error).toMatchObject({ code: 'STORE_ERR_DUPLICATE', field: 'username' });
      for (const [method, path, body] of [
        ['GET', '/admin/v1/subscribers/carol', undefined],
        ['PATCH', '/admin/v1/subscribers/carol', { disabled: true }],
        ['PUT', '/admin/v1/subscribers/carol/password', { password: 'x' }],
        ['DELETE', '/admin/v1/subscribers/carol', undefined],
      ] as const) {
        const r = await s.call(method, path, { body });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.json.error.field, `${method} ${path}`).toBe('user');
      }
    });

    it('refuses bodies that are not JSON: 415 for another type, 400 HTTP_ERR_JSON for broken JSON, 413 when too large', async () => {
      const s = await serve(t.store, { bodyLimitBytes: 1024 });
      const form = await s.call('POST', '/admin/v1/subscribers', {
        body: 'username=alice&password=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect([form.status, form.json.error.code]).toEqual([415, 'HTTP_ERR_MEDIA_TYPE']);
      const broken = await s.call('POST', '/admin/v1/subscribers', { body: '{"username": "alice",' });
      expect([broken.status, broken.json.error.code]).toEqual([400, 'HTTP_ERR_JSON']);
      const big = await s.call('POST', '/admin/v1/subscribers', { body: { username: 'alice', password: 'x'.repeat(2000) } });
      expect([big.status, big.json.error.code]).toEqual([413, 'HTTP_ERR_TOO_LARGE']);
    });

    it('answers 405 with Allow for a method the path does not take, and 404 JSON for an unknown admin path', async () => {
      const s = await serve(t.store);
      const r = await s.call('PUT', '/admin/v1/subscribers');
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, POST, HEAD');
      expect(r.json.error.code).toBe('HTTP_ERR_METHOD_NOT_ALLOWED');
      const missing = await s.call('GET', '/admin/v1/nothing-here');
      expect([missing.status, missing.json.error.code]).toEqual([404, 'HTTP_ERR_NOT_FOUND']);
    });
  });

  describe('application servers', () => {
    it('creates one, attaches and detaches services, disables, changes the password and deletes it', async () => {
      const invalidated: string[] = [];
      const s = await serve(t.store, { credentialCache: { invalidate: (u, d) => invalidated.push(`${u}@${d}`) } });
      const created = await s.call('POST', '/admin/v1/app-servers', {
        body: { name: 'wine-shop', password: 'shop-secret', displayName: 'The Wine Shop', operator: 'Vino Ltd' },
      });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: 'wine-shop', domain: 'portal.test', operator: 'Vino Ltd', disabled: false, services: [] });

      const attached = await s.call('PUT', '/admin/v1/app-servers/wine-shop/services/wine', {
        body: { weight: 3, targetUri: 'sip:wine@192.0.2.10:5070' },
      });
      expect(attached.status).toBe(200);
      expect(attached.json).toMatchObject({ appServer: 'wine-shop', service: 'wine', weight: 3, targetUri: 'sip:wine@192.0.2.10:5070' });
      await s.call('PUT', '/admin/v1/app-servers/wine-shop/services/beer', { body: {} });
      expect((await s.call('GET', '/admin/v1/app-servers/wine-shop/services')).json.services.map((b: { service: string }) => b.service)).toEqual([
        'beer',
        'wine',
      ]);
      expect((await s.call('GET', '/admin/v1/app-servers')).json.appServers[0].services).toHaveLength(2);
      expect((await s.call('DELETE', '/admin/v1/app-servers/wine-shop/services/beer')).status).toBe(204);
      expect((await s.call('GET', '/admin/v1/app-servers/wine-shop')).json.services.map((b: { service: string }) => b.service)).toEqual(['wine']);

      expect((await s.call('PATCH', '/admin/v1/app-servers/wine-shop', { body: { disabled: true } })).json.disabled).toBe(true);
      expect((await s.call('PUT', '/admin/v1/app-servers/wine-shop/password', { body: { password: 'new' } })).status).toBe(204);
      expect((await s.call('DELETE', '/admin/v1/app-servers/wine-shop')).status).toBe(204);
      expect((await s.call('GET', '/admin/v1/app-servers/wine-shop')).status).toBe(404);
      expect(invalidated).toEqual(['wine-shop@portal.test', 'wine-shop@portal.test', 'wine-shop@portal.test']);
    });

    it('names the field: unknown service, bad target URI, bad weight, taken name, unknown server', async () => {
      const s = await serve(t.store);
      await s.call('POST', '/admin/v1/app-servers', { body: { name: 'wine-shop', password: 'x' } });
      const unknown = await s.call('PUT', '/admin/v1/app-servers/wine-shop/services/cider', { body: {} });
      expect([unknown.status, unknown.json.error.field]).toEqual([404, 'service']);
      expect(unknown.json.error.message).toContain('wine, beer');
      const uri = await s.call('PUT', '/admin/v1/app-servers/wine-shop/services/wine', { body: { targetUri: 'http://x' } });
      expect([uri.status, uri.json.error.field]).toEqual([400, 'targetUri']);
      const weight = await s.call('PUT', '/admin/v1/app-servers/wine-shop/services/wine', { body: { weight: 0 } });
      expect([weight.status, weight.json.error.field]).toEqual([400, 'weight']);
      const taken = await s.call('POST', '/admin/v1/app-servers', { body: { name: 'wine-shop', password: 'x' } });
      expect([taken.status, taken.json.error.field]).toEqual([409, 'name']);
      const nobody = await s.call('PATCH', '/admin/v1/app-servers/nobody', { body: { disabled: true } });
      expect([nobody.status, nobody.json.error.field]).toEqual([404, 'name']);
      const detach = await s.call('DELETE', '/admin/v1/app-servers/wine-shop/services/beer');
      expect([detach.status, detach.json.error.field]).toEqual([404, 'service']);
    });
  });

  describe('API keys', () => {
    it('shows a new key once, lists keys without it, and revokes by id or prefix', async () => {
      await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x' });
      const s = await serve(t.store);
      const created = await s.call('POST', '/admin/v1/api-keys', { body: { owner: 'app-server', appServer: 'wine-shop', label: 'charges' } });
      expect(created.status).toBe(201);
      expect(created.json.key).toMatch(/^srk_[A-Za-z0-9_-]{43}$/);
      expect(created.json).toMatchObject({ owner: 'app-server', appServer: 'wine-shop', label: 'charges', revokedAt: null });
      expect(created.json.key.startsWith(created.json.prefix)).toBe(true);
      expect(await t.store.apiKeys.verify(created.json.key)).toMatchObject({ kind: 'app-server', appServer: 'wine-shop' });

      const admin = await s.call('POST', '/admin/v1/api-keys', { body: { owner: 'admin' } });
      const list = await s.call('GET', '/admin/v1/api-keys');
      expect(list.json.apiKeys.map((k: { id: number }) => k.id)).toEqual([admin.json.id, created.json.id]);
      expect(list.text).not.toContain(created.json.key);

      const revoked = await s.call('DELETE', `/admin/v1/api-keys/${created.json.id}`);
      expect(revoked.status).toBe(200);
      expect(revoked.json.revokedAt).toMatch(/^\d{4}-/);
      expect(await t.store.apiKeys.verify(created.json.key)).toBeUndefined();
      expect((await s.call('DELETE', `/admin/v1/api-keys/${admin.json.prefix}`)).status).toBe(200);
      expect((await s.call('GET', '/admin/v1/api-keys')).json.apiKeys).toEqual([]);
      expect((await s.call('GET', '/admin/v1/api-keys?includeRevoked=true')).json.apiKeys).toHaveLength(2);
      expect((await s.call('GET', '/admin/v1/api-keys?includeRevoked=true&appServer=wine-shop')).json.apiKeys).toHaveLength(1);
    });

    it('names the field: owner, appServer, unknown key', async () => {
      const s = await serve(t.store);
      const noOwner = await s.call('POST', '/admin/v1/api-keys', { body: {} });
      expect(noOwner.json.error).toMatchObject({ code: 'HTTP_ERR_VALIDATION', field: 'owner' });
      const noServer = await s.call('POST', '/admin/v1/api-keys', { body: { owner: 'app-server' } });
      expect(noServer.json.error).toMatchObject({ code: 'HTTP_ERR_VALIDATION', field: 'appServer' });
      const unknownServer = await s.call('POST', '/admin/v1/api-keys', { body: { owner: 'app-server', appServer: 'ghost' } });
      expect([unknownServer.status, unknownServer.json.error.field]).toEqual([404, 'appServer']);
      const unknownKey = await s.call('DELETE', '/admin/v1/api-keys/999999');
      expect([unknownKey.status, unknownKey.json.error.field]).toEqual([404, 'id']);
      const badQuery = await s.call('GET', '/admin/v1/api-keys?includeRevoked=yes');
      expect(badQuery.json.error.field).toBe('includeRevoked');
    });
  });

  describe('signing keys', () => {
    it('lists keys with their status and rotates through the key ring, which signs with the new key at once', async () => {
      const ring = new SigningKeyRing({ keys: t.store.signingKeys, reloadIntervalMs: 0 });
      const first = await ring.load();
      const s = await serve(t.store, { keyRing: ring });
      const before = await s.call('GET', '/admin/v1/signing-keys');
      expect(before.json.signingKeys).toEqual([expect.objectContaining({ kid: first.kid, algorithm: 'EdDSA', status: 'active' })]);
      expect(before.text).not.toContain('"d"');

      t.clock.advance(1000);
      const rotated = await s.call('POST', '/admin/v1/signing-keys/rotate', { body: { algorithm: 'ES256' } });
      expect(rotated.status).toBe(201);
      expect(rotated.json).toMatchObject({ algorithm: 'ES256', status: 'active', publicJwk: { kty: 'EC', crv: 'P-256' } });
      expect(ring.current.kid).toBe(rotated.json.kid);
      const after = await s.call('GET', '/admin/v1/signing-keys');
      expect(after.json.signingKeys.map((k: { status: string }) => k.status)).toEqual(['active', 'retired']);

      const bad = await s.call('POST', '/admin/v1/signing-keys/rotate', { body: { algorithm: 'RS256' } });
      expect(bad.json.error).toMatchObject({ code: 'HTTP_ERR_VALIDATION', field: 'algorithm' });
    });

    it('rotates in the store with tokens.algorithm when no key ring is given (a body is optional)', async () => {
      const s = await serve(t.store);
      const rotated = await s.call('POST', '/admin/v1/signing-keys/rotate');
      expect(rotated.status).toBe(201);
      expect(rotated.json.algorithm).toBe('EdDSA');
      expect((await t.store.signingKeys.active())?.kid).toBe(rotated.json.kid);
    });
  });
});
