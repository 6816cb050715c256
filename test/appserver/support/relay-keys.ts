/**
 * Test stand-in for the relay's token signing: Ed25519 keys made with jose,
 * tokens signed with the claims the relay writes (docs/wire-contracts.md),
 * and a JWKS served over HTTP on port 0, whose key list a test can rotate.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg: 'EdDSA' | 'ES256' = 'EdDSA'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, privateKey, publicJwk };
}

export interface TokenInput {
  sub?: string;
  aud?: string;
  sid?: string;
  svc?: string;
  facts?: Record<string, string | number | boolean>;
  fork?: string;
  name?: string;
  linked?: string;
  /** Seconds from now; negative for an expired token. Default 3600. */
  expiresIn?: number;
  iss?: string;
}

/** A fresh relay session id: 32 lower-case hex digits. */
export function newSid(): string {
  return randomBytes(16).toString('hex');
}

export async function signToken(key: TestKey, input: TokenInput = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    sid: input.sid ?? newSid(),
    svc: input.svc ?? 'wine',
    facts: input.facts ?? {},
    fork: input.fork ?? 'fork-1',
  };
  if (input.name !== undefined) claims.name = input.name;
  if (input.linked !== undefined) claims.linked = input.linked;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.publicJwk.alg as string, kid: key.kid, typ: 'JWT' })
    .setIssuer(input.iss ?? 'http://relay.test')
    .setSubject(input.sub ?? 'sip:alice@portal.test')
    .setAudience(input.aud ?? 'wineshop')
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (input.expiresIn ?? 3600))
    .setJti('jti-' + Math.random().toString(36).slice(2))
    .sign(key.privateKey);
}

/** A JWKS endpoint: `keys` is what it serves now; `hits` counts requests. */
export class JwksServer {
  keys: JWK[] = [];
  hits = 0;
  /** When set, answers with this HTTP status instead. */
  failWith: number | undefined;
  private server: Server | undefined;
  url = '';

  constructor(keys: TestKey[] = []) {
    this.keys = keys.map((k) => k.publicJwk);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.hits++;
      if (this.failWith) {
        res.writeHead(this.failWith).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
