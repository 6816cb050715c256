import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../sip/util/clock.js';
import type { Database, ServicesTable } from './database.js';
import { checkServiceName } from './account-names.js';
import { isForeignKeyViolation } from './driver-errors.js';
import { storeError } from './store-error.js';

/** How a request for a service reaches its application servers (issue 3, item 6). */
export type ForkMode = 'balance' | 'race' | 'all';

/** A service the relay offers, as stored. */
export interface Service {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly forkMode: ForkMode;
  /** Whether a client may ask for `all` with `Request-Disposition: no-cancel` (RFC 3841). */
  readonly allowNoCancel: boolean;
  readonly maxDurationSeconds: number | null;
  readonly maxSessions: number | null;
  readonly sessionTimerSeconds: number | null;
  /** Opaque until billing defines tariffs (issue 4); any JSON value. */
  readonly tariff: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The definition of a service, as the configuration gives it. */
export interface ServiceDefinition {
  name: string;
  description?: string;
  forkMode?: ForkMode;
  allowNoCancel?: boolean;
  maxDurationSeconds?: number | null;
  maxSessions?: number | null;
  sessionTimerSeconds?: number | null;
  tariff?: unknown;
}

const FORK_MODES: readonly ForkMode[] = ['balance', 'race', 'all'];

/**
 * The services table. Services are defined in the configuration; the store
 * keeps a copy so that application-server bindings and (from issue 4)
 * session records can refer to them. {@link ServiceRepository.upsert} is how
 * the configuration is written in.
 */
export class ServiceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {}

  /**
   * Creates the service or replaces its definition. Fields left out take
   * their defaults (`race`, no no-cancel, no limits, no tariff).
   * @throws StoreError `STORE_ERR_INVALID`
   */
  async upsert(def: ServiceDefinition): Promise<Service> {
    const name = checkServiceName(def.name);
    const forkMode = def.forkMode ?? 'race';
    if (!FORK_MODES.includes(forkMode)) {
      throw storeError('STORE_ERR_INVALID', `fork mode "${String(forkMode)}" is not one of ${FORK_MODES.join(', ')}`);
    }
    const values = {
      description: def.description ?? '',
      fork_mode: forkMode,
      allow_no_cancel: def.allowNoCancel ? 1 : 0,
      max_duration_seconds: positiveOrNull(def.maxDurationSeconds, 'maxDurationSeconds'),
      max_sessions: positiveOrNull(def.maxSessions, 'maxSessions'),
      session_timer_seconds: positiveOrNull(def.sessionTimerSeconds, 'sessionTimerSeconds'),
      tariff: def.tariff === undefined || def.tariff === null ? null : JSON.stringify(def.tariff),
    };
    const now = this.clock.wallNow();
    const row = await this.db
      .insertInto('services')
      .values({ name, ...values, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ ...values, updated_at: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toService(row);
  }

  async find(name: string): Promise<Service | undefined> {
    const row = await this.db.selectFrom('services').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toService(row);
  }

  /** All services by name. */
  async list(): Promise<Service[]> {
    return (await this.db.selectFrom('services').selectAll().orderBy('name').execute()).map(toService);
  }

  /**
   * Deletes a service that no application server provides.
   * @throws StoreError `STORE_ERR_NOT_FOUND`, `STORE_ERR_IN_USE`
   */
  async remove(name: string): Promise<void> {
    try {
      const result = await this.db.deleteFrom('services').where('name', '=', name).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw storeError('STORE_ERR_NOT_FOUND', `no service ${name}`);
    } catch (e) {
      if (isForeignKeyViolation(e)) {
        throw storeError('STORE_ERR_IN_USE', `service ${name} is still provided by an application server`, e);
      }
      throw e;
    }
  }
}

function positiveOrNull(v: number | null | undefined, what: string): number | null {
  if (v === undefined || v === null) return null;
  if (!Number.isSafeInteger(v) || v <= 0) throw storeError('STORE_ERR_INVALID', `${what} must be a positive integer`);
  return v;
}

function toService(row: Selectable<ServicesTable>): Service {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    forkMode: row.fork_mode as ForkMode,
    allowNoCancel: Number(row.allow_no_cancel) === 1,
    maxDurationSeconds: row.max_duration_seconds,
    maxSessions: row.max_sessions,
    sessionTimerSeconds: row.session_timer_seconds,
    tariff: row.tariff === null ? null : (JSON.parse(row.tariff) as unknown),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
