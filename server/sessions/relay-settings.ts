import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import type { Database } from '../store/database.js';
import type { SessionsTables } from './sessions-tables.js';

/** Names of the settings the relay keeps in `relay_settings`. */
export const RELAY_SETTING = {
  /** Secret of the Record-Route tokens (server/proxy/record-route-token.ts) when `proxy.recordRouteSecret` is not configured. */
  recordRouteSecret: 'record-route-secret',
  /** Secret that signs digest nonces when `auth.nonceSecret` is not configured. */
  nonceSecret: 'nonce-secret',
} as const;

/** A new random secret: 32 bytes from the platform CSPRNG, base64url (43 characters). */
export function newSecret(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}

/**
 * Values a relay makes once and keeps in the store (`relay_settings`,
 * migration `0006-session-dialogs`): the Record-Route and nonce secrets
 * when the configuration gives none, so that dialogs and nonces outlive a
 * restart. Every node of a cluster sharing the store reads the same value.
 */
export class RelaySettings {
  private readonly db: Kysely<Database & SessionsTables>;

  constructor(
    db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'> = systemClock,
  ) {
    this.db = db.withTables<SessionsTables>();
  }

  /** The value of `name`, or undefined. */
  async get(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('relay_settings').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value;
  }

  /**
   * The value of `name`, made with `make()` and stored the first time.
   * Two nodes starting at once agree: the first insert wins and both read
   * it back.
   */
  async getOrCreate(name: string, make: () => string): Promise<string> {
    const existing = await this.get(name);
    if (existing !== undefined) return existing;
    await this.db
      .insertInto('relay_settings')
      .values({ name, value: make(), created_at: this.clock.wallNow() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const stored = await this.get(name);
    if (stored === undefined) throw new Error(`relay setting ${name} was not stored`);
    return stored;
  }
}
