import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { Clock } from '../../sip/util/clock.js';
import type { Database } from './database.js';
import { storeError } from './store-error.js';

/** Who a key belongs to, as given to {@link ApiKeyRepository.create}. */
export type ApiKeyOwner = { kind: 'app-server'; appServer: string } | { kind: 'admin' };

/** A stored key, without the key itself. */
export interface ApiKey {
  readonly id: number;
  /** The start of the key (`srk_` and 8 characters), to tell keys apart. */
  readonly prefix: string;
  readonly ownerKind: 'app-server' | 'admin';
  /** The owning application server's name, for `app-server` keys. */
  readonly appServer: string | null;
  readonly label: string | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** What a valid key proves. */
export type ApiKeyIdentity =
  | { readonly kind: 'admin'; readonly keyId: number; readonly label: string | null }
  | {
      readonly kind: 'app-server';
      readonly keyId: number;
      readonly appServerId: number;
      readonly appServer: string;
      readonly operator: string;
    };

/** The text every key starts with, so a leaked key is recognisable in logs and scanners. */
export const API_KEY_PREFIX = 'srk_';
const PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/**
 * API keys for the HTTP API: application servers post charges with theirs,
 * admins manage the relay with theirs. A key is 32 random bytes in
 * base64url after `srk_`; only its SHA-256 is stored, with its first
 * characters for display. The plaintext is returned once, by `create`.
 *
 * Lookup is by the hash of the presented key. A hash of 256 random bits
 * reveals nothing useful through index timing, so no constant-time compare
 * is needed on top.
 */
export class ApiKeyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {}

  /**
   * Creates a key. The returned `key` is the only copy of the plaintext.
   * @throws StoreError `STORE_ERR_NOT_FOUND` for an unknown application server.
   */
  async create(owner: ApiKeyOwner, options: { label?: string | null } = {}): Promise<{ key: string; apiKey: ApiKey }> {
    let appServerId: number | null = null;
    if (owner.kind === 'app-server') {
      const row = await this.db
        .selectFrom('app_servers')
        .select('id')
        .where('name', '=', owner.appServer)
        .executeTakeFirst();
      if (!row) throw storeError('STORE_ERR_NOT_FOUND', `no application server ${owner.appServer}`);
      appServerId = row.id;
    } else if (owner.kind !== 'admin') {
      throw new TypeError(`unknown API key owner kind ${String((owner as { kind: unknown }).kind)}`);
    }
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const row = await this.db
      .insertInto('api_keys')
      .values({
        prefix: key.slice(0, PREFIX_LENGTH),
        key_hash: hashKey(key),
        owner_kind: owner.kind,
        app_server_id: appServerId,
        label: options.label ?? null,
        created_at: this.clock.wallNow(),
        revoked_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { key, apiKey: (await this.get(Number(row.id)))! };
  }

  /** Keys, newest first; revoked ones only when asked. */
  async list(filter: { includeRevoked?: boolean; appServer?: string } = {}): Promise<ApiKey[]> {
    let q = this.selectKeys().orderBy('k.id', 'desc');
    if (!filter.includeRevoked) q = q.where('k.revoked_at', 'is', null);
    if (filter.appServer !== undefined) q = q.where('a.name', '=', filter.appServer);
    return (await q.execute()).map(toApiKey);
  }

  /** One key by id, revoked or not. */
  async get(id: number): Promise<ApiKey | undefined> {
    const row = await this.selectKeys().where('k.id', '=', id).executeTakeFirst();
    return row && toApiKey(row);
  }

  /**
   * Revokes a key named by its id or by its displayed prefix. Revoking a
   * revoked key is not an error (the outcome is the same).
   * @throws StoreError `STORE_ERR_NOT_FOUND`, `STORE_ERR_AMBIGUOUS`
   */
  async revoke(idOrPrefix: number | string): Promise<ApiKey> {
    let q = this.db.selectFrom('api_keys').select(['id', 'revoked_at']);
    q =
      typeof idOrPrefix === 'number' || /^\d+$/.test(idOrPrefix)
        ? q.where('id', '=', Number(idOrPrefix))
        : q.where('prefix', '=', idOrPrefix);
    const rows = await q.execute();
    if (rows.length === 0) throw storeError('STORE_ERR_NOT_FOUND', `no API key ${idOrPrefix}`);
    if (rows.length > 1) {
      throw storeError('STORE_ERR_AMBIGUOUS', `prefix ${idOrPrefix} matches ${rows.length} keys; revoke by id`);
    }
    const id = Number(rows[0].id);
    if (rows[0].revoked_at === null) {
      await this.db.updateTable('api_keys').set({ revoked_at: this.clock.wallNow() }).where('id', '=', id).execute();
    }
    return (await this.get(id))!;
  }

  /**
   * Who the key belongs to, or `undefined` when it is unknown, revoked, or
   * belongs to a disabled application server.
   */
  async verify(key: string): Promise<ApiKeyIdentity | undefined> {
    if (typeof key !== 'string' || !key.startsWith(API_KEY_PREFIX) || key.length > 256) return undefined;
    const row = await this.db
      .selectFrom('api_keys as k')
      .leftJoin('app_servers as a', 'a.id', 'k.app_server_id')
      .select(['k.id', 'k.owner_kind', 'k.label', 'k.app_server_id', 'a.name', 'a.operator', 'a.disabled'])
      .where('k.key_hash', '=', hashKey(key))
      .where('k.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.owner_kind === 'admin') return { kind: 'admin', keyId: Number(row.id), label: row.label };
    if (row.app_server_id === null || row.name === null || row.operator === null || Number(row.disabled) === 1) {
      return undefined;
    }
    return {
      kind: 'app-server',
      keyId: Number(row.id),
      appServerId: Number(row.app_server_id),
      appServer: row.name,
      operator: row.operator,
    };
  }

  private selectKeys() {
    return this.db
      .selectFrom('api_keys as k')
      .leftJoin('app_servers as a', 'a.id', 'k.app_server_id')
      .select(['k.id', 'k.prefix', 'k.owner_kind', 'a.name as app_server', 'k.label', 'k.created_at', 'k.revoked_at']);
  }
}

function toApiKey(r: {
  id: number;
  prefix: string;
  owner_kind: string;
  app_server: string | null;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
}): ApiKey {
  return {
    id: Number(r.id),
    prefix: r.prefix,
    ownerKind: r.owner_kind as ApiKey['ownerKind'],
    appServer: r.app_server,
    label: r.label,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

function hashKey(key: string): string {
  return bytesToHex(sha256(utf8ToBytes(key)));
}
