import type { Kysely, Selectable } from 'kysely';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../../sip/util/clock.js';
import type { Database, SigningKeysTable } from './database.js';

/** JWS algorithms the relay signs tokens with. */
export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** A signing key pair as stored. */
export interface SigningKey {
  /** RFC 7638 JWK thumbprint of the public key; the JWS `kid`. */
  readonly kid: string;
  readonly algorithm: SigningAlgorithm;
  /** Private JWK with `kid` and `alg`; import with jose's `importJWK(jwk, algorithm)`. */
  readonly privateJwk: JWK;
  /** Public JWK with `kid`, `alg` and `use: "sig"`, as published in the JWKS. */
  readonly publicJwk: JWK;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  readonly retiredAt: number | null;
}

/** How long a retired key stays published by default: 24 hours. */
export const DEFAULT_RETIRED_KEY_PUBLISH_MS = 24 * 60 * 60 * 1000;

/**
 * The relay's JWT signing keys (design brief: a token the relay signs with
 * an asymmetric key, public keys at `/.well-known/jwks.json`). Keys live in
 * the store so that every node of a cluster signs with the same key and a
 * restart keeps it. One key is active; rotating activates a new key and
 * retires the old one, which stays published for a while so that tokens it
 * signed still verify until they expire.
 *
 * The private key is kept as JWK text: whoever can read the database can
 * sign tokens. Protect the database accordingly (docs/storage.md).
 */
export class SigningKeyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {}

  /** The key to sign with: the most recently activated key not retired. */
  async active(): Promise<SigningKey | undefined> {
    const row = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('activated_at', 'is not', null)
      .where('retired_at', 'is', null)
      .orderBy('activated_at', 'desc')
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row && toSigningKey(row);
  }

  /**
   * Public JWKs to publish: every active key, and keys retired less than
   * `retiredForMs` ago (default {@link DEFAULT_RETIRED_KEY_PUBLISH_MS}; it
   * must exceed the longest token lifetime). Newest first.
   */
  async published(options: { retiredForMs?: number } = {}): Promise<JWK[]> {
    const keep = options.retiredForMs ?? DEFAULT_RETIRED_KEY_PUBLISH_MS;
    const since = this.clock.wallNow() - keep;
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('activated_at', 'is not', null)
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', since)]))
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => toSigningKey(r).publicJwk);
  }

  /** Every key, newest first. */
  async all(): Promise<SigningKey[]> {
    return (await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute()).map(
      toSigningKey,
    );
  }

  /**
   * Creates a new key, activates it and retires the previously active one(s),
   * in one transaction.
   */
  async rotate(options: { algorithm?: SigningAlgorithm } = {}): Promise<SigningKey> {
    const algorithm = options.algorithm ?? 'EdDSA';
    if (algorithm !== 'EdDSA' && algorithm !== 'ES256') {
      throw new TypeError(`signing algorithm must be EdDSA or ES256, not ${String(algorithm)}`);
    }
    const pair =
      algorithm === 'EdDSA'
        ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
        : await generateKeyPair('ES256', { extractable: true });
    const publicBare = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicBare);
    const publicJwk: JWK = { ...publicBare, kid, alg: algorithm, use: 'sig' };
    const privateJwk: JWK = { ...(await exportJWK(pair.privateKey)), kid, alg: algorithm };
    const now = this.clock.wallNow();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: now })
        .where('activated_at', 'is not', null)
        .where('retired_at', 'is', null)
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid,
          algorithm,
          private_jwk: JSON.stringify(privateJwk),
          public_jwk: JSON.stringify(publicJwk),
          created_at: now,
          activated_at: now,
          retired_at: null,
        })
        .execute();
    });
    return { kid, algorithm, privateJwk, publicJwk, createdAt: now, activatedAt: now, retiredAt: null };
  }

  /** The active key, creating one at first start (issue 3, item 7). */
  async ensureActive(options: { algorithm?: SigningAlgorithm } = {}): Promise<SigningKey> {
    return (await this.active()) ?? (await this.rotate(options));
  }
}

function toSigningKey(row: Selectable<SigningKeysTable>): SigningKey {
  return {
    kid: row.kid,
    algorithm: row.algorithm as SigningAlgorithm,
    privateJwk: JSON.parse(row.private_jwk) as JWK,
    publicJwk: JSON.parse(row.public_jwk) as JWK,
    createdAt: Number(row.created_at),
    activatedAt: row.activated_at === null ? null : Number(row.activated_at),
    retiredAt: row.retired_at === null ? null : Number(row.retired_at),
  };
}
