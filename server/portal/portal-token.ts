import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Clock } from '../../sip/util/clock.js';
import type { AuthenticatedUser, UserAuthenticator } from '../accounting/http/user-authenticator.js';

/** Audience of the tokens the relay gives the portal (docs/wire-contracts.md). */
export const PORTAL_AUDIENCE = 'siprelay-portal';

/** Something that signs JWT claims with the relay's active key (the identity key ring). */
export interface ClaimsSigner {
  sign(claims: object): string;
}

/**
 * Issues the portal's user token: a JWT signed with the relay's active key,
 * audience `siprelay-portal`, subject the user's AOR, valid as long as the
 * registration it came with. The portal sends it as a bearer token to the
 * user endpoints of the HTTP API (`/api/v1/me/...`).
 */
export class PortalTokenIssuer {
  constructor(
    private readonly signer: () => ClaimsSigner,
    private readonly issuer: string,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {}

  issue(user: AuthenticatedUser & { displayName?: string }, lifetimeSeconds: number): string {
    const now = Math.floor(this.clock.wallNow() / 1000);
    return this.signer().sign({
      iss: this.issuer,
      aud: PORTAL_AUDIENCE,
      sub: `sip:${user.username}@${user.domain}`,
      name: user.displayName,
      iat: now,
      exp: now + Math.max(60, lifetimeSeconds),
    });
  }
}

/**
 * Verifies portal tokens against the relay's published keys. The key set is
 * read through `keys` (the store's published signing keys) and cached for
 * a short time, so a rotation is picked up without restart.
 */
export class PortalTokenVerifier implements UserAuthenticator {
  private cached: { at: number; verify: ReturnType<typeof createLocalJWKSet> } | undefined;

  constructor(
    private readonly keys: () => Promise<JSONWebKeySet>,
    private readonly issuer: string,
    private readonly clock: Pick<Clock, 'wallNow'>,
    private readonly cacheMs = 30_000,
  ) {}

  async verify(bearer: string): Promise<AuthenticatedUser | undefined> {
    if (typeof bearer !== 'string' || bearer.length > 8192) return undefined;
    try {
      const { payload } = await jwtVerify(bearer, await this.keySet(), {
        audience: PORTAL_AUDIENCE,
        issuer: this.issuer,
        currentDate: new Date(this.clock.wallNow()),
      });
      const m = /^sip:([^@]+)@(.+)$/.exec(String(payload.sub ?? ''));
      return m ? { username: m[1], domain: m[2] } : undefined;
    } catch {
      return undefined;
    }
  }

  private async keySet(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const now = this.clock.wallNow();
    if (!this.cached || now - this.cached.at > this.cacheMs) {
      this.cached = { at: now, verify: createLocalJWKSet(await this.keys()) };
    }
    return this.cached.verify;
  }
}
