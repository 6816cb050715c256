import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../sip/message/parser.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { parseUri } from '../../../sip/grammar/uri.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { createIdentityAsserter } from '../../../server/identity/create-identity-asserter.js';
import { IdentityError } from '../../../server/identity/identity-error.js';
import { CLIENT_IDENTITY_HEADERS, RelayIdentityAsserter, TOKEN_HEADER } from '../../../server/identity/relay-identity-asserter.js';
import { relayIssuer } from '../../../server/identity/relay-issuer.js';
import { SigningKeyRing } from '../../../server/identity/signing-key-ring.js';
import type { AssertionContext, AuthenticatedParty, ServiceTarget } from '../../../server/relay-ports.js';
import { relayConfigSchema } from '../../../server/config/relay-config-schema.js';
import { useTestStore } from '../store/store-backends.js';
import { testConfig, useHttpServer } from '../http/http-harness.js';
import { waitFor } from '../auth/auth-harness.js';

const ISSUER = 'https://relay.portal.test';
const SESSION = '3f2a9c4e8b1d4f6a9e0c7b5d2a1f8e3c';

function target(appServer = 'wine-shop'): ServiceTarget {
  return { appServer, uri: parseUri('sip:wine@192.0.2.10:5070') as never, flowId: undefined, weight: 1, source: 'static', load: 0 };
}

function context(overrides: Partial<AssertionContext> = {}, party: Partial<AuthenticatedParty> = {}): AssertionContext {
  return {
    party: { kind: 'subscriber', id: 7, username: 'alice', domain: 'portal.test', displayName: 'Alice A.', plan: 'gold', ...party },
    service: 'wine',
    facts: { region: 'bordeaux', vintage: 2015, gift: true },
    sessionId: SESSION,
    forkGroup: 'fg-1',
    target: target(),
    ...overrides,
  };
}

function invite(extra: [string, string][] = []): SipRequest {
  return new SipRequest('INVITE', 'sip:wine@portal.test', [
    ['Via', 'SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKabc'],
    ['Max-Forwards', '70'],
    ['From', '<sip:alice@portal.test>;tag=f1'],
    ['To', '<sip:wine@portal.test>'],
    ['Call-ID', 'call-1@client.test'],
    ['CSeq', '2 INVITE'],
    ...extra,
  ]);
}

describe('RelayIdentityAsserter', () => {
  const t = useTestStore('sqlite');
  const serve = useHttpServer();

  async function asserter(options: { algorithm?: 'EdDSA' | 'ES256'; lifetime?: number; clock?: ManualClock } = {}) {
    const ring = new SigningKeyRing({ keys: t.store.signingKeys, algorithm: options.algorithm, reloadIntervalMs: 0 });
    await ring.load();
    const signed: number[] = [];
    const a = new RelayIdentityAsserter({
      issuer: ISSUER,
      keys: ring,
      tokenLifetimeSeconds: options.lifetime,
      clock: options.clock ?? t.clock,
      onTokenSigned: () => signed.push(1),
    });
    return { a, ring, signed };
  }

  const jwks = async () => createLocalJWKSet({ keys: await t.store.signingKeys.published() });
  const verifyAt = (clock: ManualClock) => ({ currentDate: new Date(clock.wallNow()) });

  describe('stripClientIdentity', () => {
    it('removes every identity and token header a client sent, in any spelling, and nothing else', async () => {
      const { a } = await asserter();
      const req = invite([
        ['P-Asserted-Identity', '"Boss" <sip:boss@portal.test>'],
        ['p-preferred-identity', '<sip:boss@portal.test>'],
        ['Siprelay-Token', 'eyJforged.token.here'],
        ['Session-ID', 'ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000'],
        ['Identity', 'forged'],
        ['y', 'forged-compact'],
        ['Identity-Info', '<https://x>'],
        ['Remote-Party-ID', '<sip:boss@portal.test>;party=calling'],
        ['Subject', 'keep me'],
      ]);
      a.stripClientIdentity(req);
      expect(req.headers.map((h) => h.name)).toEqual(['Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Subject']);
      expect(CLIENT_IDENTITY_HEADERS).toContain(TOKEN_HEADER);
    });

    it('leaves a request without such headers byte for byte as it was', async () => {
      const { a } = await asserter();
      const text = new TextDecoder().decode(serializeMessage(invite()));
      const parsed = parseMessage(text) as SipRequest;
      a.stripClientIdentity(parsed);
      expect(new TextDecoder().decode(serializeMessage(parsed))).toBe(text);
    });

    it('strips extra headers an operator names', async () => {
      const ring = new SigningKeyRing({ keys: t.store.signingKeys, reloadIntervalMs: 0 });
      const a = new RelayIdentityAsserter({ issuer: ISSUER, keys: ring, extraStrippedHeaders: ['X-Billing-Account'] });
      const req = invite([['x-billing-account', '42']]);
      a.stripClientIdentity(req);
      expect(req.hasHeader('X-Billing-Account')).toBe(false);
      expect(() => new RelayIdentityAsserter({ issuer: ISSUER, keys: ring, extraStrippedHeaders: ['bad header'] })).toThrow(TypeError);
    });
  });

  describe('assert', () => {
    it('adds P-Asserted-Identity, Session-ID (RFC 7989 §7) and a token, replacing any already there', async () => {
      const { a, signed } = await asserter();
      const branch = invite();
      a.assert(branch, context());
      a.assert(branch, context());
      expect(branch.headerLines('P-Asserted-Identity')).toEqual(['"Alice A." <sip:alice@portal.test>']);
      expect(branch.headerLines('Session-ID')).toEqual([`${SESSION};remote=00000000000000000000000000000000`]);
      expect(branch.headerLines(TOKEN_HEADER)).toHaveLength(1);
      expect(signed).toHaveLength(2);
      // The result still parses as SIP.
      const reparsed = parseMessage(serializeMessage(branch)) as SipRequest;
      expect(reparsed.header('P-Asserted-Identity')).toBe('"Alice A." <sip:alice@portal.test>');
    });

    it('writes the AOR alone without a display name, and quotes or cleans awkward display names', async () => {
      const { a } = await asserter();
      const plain = invite();
      a.assert(plain, context({}, { displayName: undefined }));
      expect(plain.header('P-Asserted-Identity')).toBe('<sip:alice@portal.test>');
      const awkward = invite();
      a.assert(awkward, context({}, { displayName: 'Al "the" \\ One\r\nVia: evil' }));
      expect(awkward.header('P-Asserted-Identity')).toBe('"Al \\"the\\" \\\\ OneVia: evil" <sip:alice@portal.test>');
      expect(awkward.countHeader('Via')).toBe(1);
    });

    it('signs a token that jose verifies, with every claim', async () => {
      const { a, ring } = await asserter();
      const branch = invite();
      a.assert(branch, context());
      const token = branch.header(TOKEN_HEADER)!;
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: ring.current.kid });
      const { payload } = await jwtVerify(token, await jwks(), { issuer: ISSUER, audience: 'wine-shop', ...verifyAt(t.clock) });
      const now = Math.floor(t.clock.wallNow() / 1000);
      expect(payload).toEqual({
        iss: ISSUER,
        sub: 'sip:alice@portal.test',
        aud: 'wine-shop',
        sid: SESSION,
        svc: 'wine',
        facts: { region: 'bordeaux', vintage: 2015, gift: true },
        fork: 'fg-1',
        name: 'Alice A.',
        iat: now,
        exp: now + 3600,
        jti: expect.stringMatching(/^[A-Za-z0-9]{22}$/),
      } satisfies JWTPayload);
    });

    it('names the session a transfer continues (linked), and only then', async () => {
      const { a } = await asserter();
      const transferred = invite();
      a.assert(transferred, context({ linkedFrom: 'c'.repeat(32) }));
      const { payload } = await jwtVerify(transferred.header(TOKEN_HEADER)!, await jwks(), verifyAt(t.clock));
      expect(payload.linked).toBe('c'.repeat(32));
      const fresh = invite();
      a.assert(fresh, context());
      expect((await jwtVerify(fresh.header(TOKEN_HEADER)!, await jwks(), verifyAt(t.clock))).payload).not.toHaveProperty('linked');
    });

    it('gives every branch of a fork its own token for its own audience', async () => {
      const { a } = await asserter();
      const one = invite();
      const two = invite();
      a.assert(one, context({ target: target('bookstore-a'), sessionId: 'a'.repeat(32) }));
      a.assert(two, context({ target: target('bookstore-b'), sessionId: 'b'.repeat(32) }));
      const set = await jwks();
      const p1 = (await jwtVerify(one.header(TOKEN_HEADER)!, set, verifyAt(t.clock))).payload;
      const p2 = (await jwtVerify(two.header(TOKEN_HEADER)!, set, verifyAt(t.clock))).payload;
      expect([p1.aud, p2.aud]).toEqual(['bookstore-a', 'bookstore-b']);
      expect(p1.fork).toBe(p2.fork);
      expect(p1.jti).not.toBe(p2.jti);
    });

    it('signs with ES256 keys too (R‖S signature, not DER)', async () => {
      const { a } = await asserter({ algorithm: 'ES256' });
      const branch = invite();
      a.assert(branch, context());
      const token = branch.header(TOKEN_HEADER)!;
      expect(decodeProtectedHeader(token).alg).toBe('ES256');
      expect(Buffer.from(token.split('.')[2], 'base64url')).toHaveLength(64);
      const { payload } = await jwtVerify(token, await jwks(), { audience: 'wine-shop', ...verifyAt(t.clock) });
      expect(payload.sub).toBe('sip:alice@portal.test');
    });

    it('lets an application server detect a token meant for another (wrong audience)', async () => {
      const { a } = await asserter();
      const branch = invite();
      a.assert(branch, context({ target: target('beer-shop') }));
      await expect(jwtVerify(branch.header(TOKEN_HEADER)!, await jwks(), { audience: 'wine-shop', ...verifyAt(t.clock) })).rejects.toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        claim: 'aud',
      });
    });

    it('makes tokens that jose refuses once expired (tokens.lifetimeSeconds)', async () => {
      const { a } = await asserter({ lifetime: 60 });
      const branch = invite();
      a.assert(branch, context());
      const token = branch.header(TOKEN_HEADER)!;
      const set = await jwks();
      await jwtVerify(token, set, { currentDate: new Date(t.clock.wallNow() + 59_000) });
      await expect(jwtVerify(token, set, { currentDate: new Date(t.clock.wallNow() + 61_000) })).rejects.toBeInstanceOf(errors.JWTExpired);
    });

    it('refuses a session id not in RFC 7989 form, and signing before a key is loaded', async () => {
      const { a } = await asserter();
      expect(() => a.assert(invite(), context({ sessionId: 'not-hex' }))).toThrow(TypeError);
      const unloaded = new RelayIdentityAsserter({ issuer: ISSUER, keys: new SigningKeyRing({ keys: t.store.signingKeys }) });
      let caught: unknown;
      try {
        unloaded.assert(invite(), context());
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(IdentityError);
      expect((caught as IdentityError).code).toBe('IDENTITY_ERR_NO_KEY');
    });
  });

  describe('against the JWKS served by the HTTP app', () => {
    it('verifies with jose fetching /.well-known/jwks.json, before and after a rotation, until the old key is retired for good', async () => {
      const config = testConfig({ tokens: { lifetimeSeconds: 60, retiredKeyPublishSeconds: 120 } });
      const { asserter: a, keyRing } = await createIdentityAsserter(config, t.store, { clock: t.clock, keyReloadIntervalMs: 0 });
      const s = await serve(t.store, { config, keyRing });
      const remote = () => createRemoteJWKSet(new URL(s.url + '/.well-known/jwks.json'));
      const verify = (token: string, at = t.clock.wallNow()) => jwtVerify(token, remote(), { audience: 'wine-shop', currentDate: new Date(at) });

      const before = invite();
      a.assert(before, context());
      const oldToken = before.header(TOKEN_HEADER)!;
      expect((await verify(oldToken)).payload.svc).toBe('wine');

      // Rotation through the admin API: the asserter signs with the new key at once.
      const rotated = await s.call('POST', '/admin/v1/signing-keys/rotate', { body: {} });
      expect(rotated.status).toBe(201);
      const after = invite();
      a.assert(after, context());
      const newToken = after.header(TOKEN_HEADER)!;
      expect(decodeProtectedHeader(newToken).kid).toBe(rotated.json.kid);
      expect(decodeProtectedHeader(oldToken).kid).not.toBe(rotated.json.kid);
      await verify(newToken);
      // The old key is still published: a token it signed still verifies while it lives.
      await verify(oldToken, t.clock.wallNow() + 30_000);

      // After retiredKeyPublishSeconds the old key leaves the JWKS.
      t.clock.advance(120_000);
      await expect(verify(oldToken)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      keyRing.stop();
    });

    it('picks up a rotation made by another process (the CLI) at the next periodic reload', async () => {
      const clock = new ManualClock(t.clock.wallNow());
      const ring = new SigningKeyRing({ keys: t.store.signingKeys, reloadIntervalMs: 60_000, clock });
      const first = await ring.load();
      ring.start();
      const external = await t.store.signingKeys.rotate();
      expect(ring.current.kid).toBe(first.kid);
      clock.advance(60_000);
      await waitFor(() => ring.current.kid !== first.kid);
      expect(ring.current.kid).toBe(external.kid);
      ring.stop();
      expect(clock.pending).toBe(0);
    });
  });
});

describe('relayIssuer', () => {
  const config = (http: Record<string, unknown>) => relayConfigSchema.parse({ domains: ['portal.test'], http });

  it('is http.publicUrl without a trailing slash, else the HTTP address', () => {
    expect(relayIssuer(config({ publicUrl: 'https://relay.example.com/' }))).toBe('https://relay.example.com');
    expect(relayIssuer(config({}))).toBe('http://127.0.0.1:8080');
    expect(relayIssuer(config({ host: '0.0.0.0', port: 80 }))).toBe('http://portal.test:80');
    expect(relayIssuer(config({ host: '::1' }))).toBe('http://[::1]:8080');
  });
});
