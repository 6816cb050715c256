/**
 * A server-side Digest check for user-agent tests, built from the real
 * `sip/auth` pieces: challenge when the credentials are missing or wrong,
 * pass when they verify.
 */
import { computeHa1 } from '../../../sip/auth/digest-algorithm.js';
import { buildDigestChallenge, challengeHeaderName } from '../../../sip/auth/digest-challenge.js';
import { DigestVerifier } from '../../../sip/auth/digest-verifier.js';
import { MemoryNonceCountStore } from '../../../sip/auth/nonce-count-store.js';
import { NonceService } from '../../../sip/auth/nonce-service.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { Clock } from '../../../sip/util/clock.js';

export const REALM = 'portal.test';

export class DigestFixture {
  readonly nonces: NonceService;
  readonly verifier: DigestVerifier;
  /** Number of challenges sent. */
  challenges = 0;

  constructor(clock: Clock, users: Record<string, string> = { alice: 'alice-secret' }) {
    this.nonces = new NonceService({ secret: 'a-test-secret-of-at-least-16-bytes', clock });
    this.verifier = new DigestVerifier({
      realm: REALM,
      nonceService: this.nonces,
      nonceCountStore: new MemoryNonceCountStore({ clock }),
      lookupHa1: (username, realm, hash) => (users[username] === undefined ? undefined : computeHa1(hash, username, realm, users[username])),
    });
  }

  /** The username when `request` carries valid credentials, else the challenge headers to answer 401 with. */
  async check(request: SipRequest): Promise<{ ok: true; username: string } | { ok: false; headers: Array<[string, string]> }> {
    const v = await this.verifier.verify(request, 'authorization');
    if (v.ok) return { ok: true, username: v.username };
    this.challenges++;
    const values = buildDigestChallenge({ realm: REALM, nonce: this.nonces.create(REALM), stale: v.stale });
    return { ok: false, headers: values.map((c) => [challengeHeaderName(401), c]) };
  }
}
