import type { Kysely } from 'kysely';
import type { Clock } from '../../sip/util/clock.js';
import type { Database } from './database.js';
import type { StoreDialect } from './database-url.js';
import { AccountRepository } from './account-repository.js';
import { AppServerRepository } from './app-server-repository.js';
import { ChargeRepository } from './charge-repository.js';
import { LedgerRepository } from './ledger-repository.js';
import { SessionRepository } from './session-repository.js';
import { ApiKeyRepository } from './api-key-repository.js';
import { CredentialRepository } from './credential-repository.js';
import { ServiceRepository } from './service-repository.js';
import { SigningKeyRepository } from './signing-key-repository.js';
import { SubscriberRepository } from './subscriber-repository.js';
import { runMigrations, type MigrationReport } from './run-migrations.js';
import type { SqliteWalSync } from './sqlite-wal-sync.js';
import type { StoreMigration } from './store-migration.js';

/**
 * The relay's durable state behind one typed query layer, on SQLite or
 * PostgreSQL. Made by {@link openStore}; features use the repositories, and
 * `db` for queries no repository offers yet.
 */
export class Store {
  readonly subscribers: SubscriberRepository;
  readonly appServers: AppServerRepository;
  readonly services: ServiceRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly signingKeys: SigningKeyRepository;
  /** Digest credentials of users and application servers alike. */
  readonly credentials: CredentialRepository;
  /** Ledger accounts and users' credit terms (issue 4). */
  readonly accounts: AccountRepository;
  /** Session records and their segments (issue 4). */
  readonly sessions: SessionRepository;
  /** Accepted application charges (issue 4). */
  readonly charges: ChargeRepository;
  /** Ledger postings (issue 4). */
  readonly ledger: LedgerRepository;
  private closed = false;

  constructor(
    /** The typed query builder over the store's tables. */
    readonly db: Kysely<Database>,
    readonly dialect: StoreDialect,
    /** The clock that stamps stored instants (`wallNow`, epoch ms). */
    readonly clock: Pick<Clock, 'wallNow'>,
    private readonly migrationList: readonly StoreMigration[],
    /**
     * SQLite file stores: the off-thread WAL sync that makes a commit made at
     * `synchronous=NORMAL` durable (group commit uses it). Undefined for
     * PostgreSQL and in-memory SQLite.
     */
    readonly walSync?: SqliteWalSync,
  ) {
    this.subscribers = new SubscriberRepository(db, clock);
    this.appServers = new AppServerRepository(db, clock);
    this.services = new ServiceRepository(db, clock);
    this.apiKeys = new ApiKeyRepository(db, clock);
    this.signingKeys = new SigningKeyRepository(db, clock);
    this.credentials = new CredentialRepository(db);
    this.accounts = new AccountRepository(db, clock, dialect);
    this.sessions = new SessionRepository(db);
    this.charges = new ChargeRepository(db);
    this.ledger = new LedgerRepository(db);
  }

  /** Applies pending migrations; {@link openStore} does this unless told not to. */
  migrate(): Promise<MigrationReport> {
    return runMigrations(this.db, this.dialect, this.migrationList, () => this.clock.wallNow());
  }

  /** Names of the migrations applied to this database, oldest first. */
  async appliedMigrations(): Promise<string[]> {
    const rows = await this.db.selectFrom('siprelay_migrations').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  /** Closes the connection(s). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.walSync?.close();
    await this.db.destroy();
  }
}
