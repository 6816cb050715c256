import type { Kysely, Selectable } from 'kysely';
import { computeHa1, type DigestHashAlgorithm } from '../../sip/auth/digest-algorithm.js';
import type { Clock } from '../../sip/util/clock.js';
import type { Database, SubscribersTable } from './database.js';
import { checkPassword, checkUsername, normalizeDomain } from './account-names.js';
import { isUniqueViolation } from './driver-errors.js';
import { storeError } from './store-error.js';
import { storedHa1 } from './stored-ha1.js';

/** A user account of one of the relay's SIP domains, without its digests. */
export interface Subscriber {
  readonly id: number;
  readonly username: string;
  /** Lower-case SIP domain; also the digest realm. */
  readonly domain: string;
  readonly displayName: string | null;
  readonly plan: string | null;
  readonly disabled: boolean;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What {@link SubscriberRepository.add} needs. */
export interface NewSubscriber {
  username: string;
  domain: string;
  /** Used to compute the HA1 digests, then forgotten. */
  password: string;
  displayName?: string | null;
  plan?: string | null;
}

/** Fields of a subscriber that can be changed without a password. */
export interface SubscriberChanges {
  displayName?: string | null;
  plan?: string | null;
}

/**
 * The subscribers table: user accounts with HA1 digests for MD5 and SHA-256
 * (RFC 8760), never the password. A username is unique per domain, and is
 * not also the name of an application server of that domain, so a digest
 * username names one principal.
 */
export class SubscriberRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {}

  /**
   * Creates a subscriber.
   * @throws StoreError `STORE_ERR_INVALID`, or `STORE_ERR_DUPLICATE` when the
   * name is taken in that domain by a subscriber or an application server.
   */
  async add(input: NewSubscriber): Promise<Subscriber> {
    const username = checkUsername(input.username);
    const domain = normalizeDomain(input.domain);
    const password = checkPassword(input.password);
    const now = this.clock.wallNow();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const appServer = await trx
          .selectFrom('app_servers')
          .select('id')
          .where('name', '=', username)
          .where('domain', '=', domain)
          .executeTakeFirst();
        if (appServer) {
          throw storeError('STORE_ERR_DUPLICATE', `${username}@${domain} is already the name of an application server`);
        }
        const row = await trx
          .insertInto('subscribers')
          .values({
            username,
            domain,
            display_name: input.displayName ?? null,
            plan: input.plan ?? null,
            ha1_md5: computeHa1('MD5', username, domain, password),
            ha1_sha256: computeHa1('SHA-256', username, domain, password),
            disabled: 0,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toSubscriber(row);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw storeError('STORE_ERR_DUPLICATE', `user ${username}@${domain} already exists`, e);
      throw e;
    }
  }

  /** Replaces both HA1 digests. @throws StoreError `STORE_ERR_NOT_FOUND`, `STORE_ERR_INVALID` */
  async setPassword(username: string, domain: string, password: string): Promise<void> {
    const d = normalizeDomain(domain);
    checkPassword(password);
    await this.updateOne(username, d, {
      ha1_md5: computeHa1('MD5', username, d, password),
      ha1_sha256: computeHa1('SHA-256', username, d, password),
    });
  }

  /** Changes the display name or plan. @throws StoreError `STORE_ERR_NOT_FOUND` */
  async update(username: string, domain: string, changes: SubscriberChanges): Promise<Subscriber> {
    const values: Partial<Pick<SubscribersTable, 'display_name' | 'plan'>> = {};
    if (changes.displayName !== undefined) values.display_name = changes.displayName;
    if (changes.plan !== undefined) values.plan = changes.plan;
    const d = normalizeDomain(domain);
    await this.updateOne(username, d, values);
    return (await this.find(username, d))!;
  }

  /** Refuses every further authentication of the user. @throws StoreError `STORE_ERR_NOT_FOUND` */
  async disable(username: string, domain: string): Promise<void> {
    await this.updateOne(username, normalizeDomain(domain), { disabled: 1 });
  }

  /** @throws StoreError `STORE_ERR_NOT_FOUND` */
  async enable(username: string, domain: string): Promise<void> {
    await this.updateOne(username, normalizeDomain(domain), { disabled: 0 });
  }

  /** Deletes the account. @throws StoreError `STORE_ERR_NOT_FOUND` */
  async remove(username: string, domain: string): Promise<void> {
    const d = normalizeDomain(domain);
    const result = await this.db
      .deleteFrom('subscribers')
      .where('username', '=', username)
      .where('domain', '=', d)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound(username, d);
  }

  /** Subscribers ordered by domain then username; only one domain's when given. */
  async list(filter: { domain?: string } = {}): Promise<Subscriber[]> {
    let q = this.db.selectFrom('subscribers').selectAll().orderBy('domain').orderBy('username');
    if (filter.domain !== undefined) q = q.where('domain', '=', normalizeDomain(filter.domain));
    return (await q.execute()).map(toSubscriber);
  }

  /** The subscriber, enabled or not, or `undefined`. */
  async find(username: string, domain: string): Promise<Subscriber | undefined> {
    const row = await this.db
      .selectFrom('subscribers')
      .selectAll()
      .where('username', '=', username)
      .where('domain', '=', domain.toLowerCase())
      .executeTakeFirst();
    return row && toSubscriber(row);
  }

  /**
   * The HA1 to check a digest response against (RFC 7616 §3.4.1), or
   * `undefined` when the user is unknown or disabled: the two must look the
   * same to the client (issue 3).
   */
  async findHa1(username: string, realm: string, algorithm: DigestHashAlgorithm): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('subscribers')
      .select(['ha1_md5', 'ha1_sha256'])
      .where('username', '=', username)
      .where('domain', '=', realm.toLowerCase())
      .where('disabled', '=', 0)
      .executeTakeFirst();
    if (!row) return undefined;
    return storedHa1(row, algorithm);
  }

  private async updateOne(
    username: string,
    domain: string,
    values: Partial<Omit<SubscribersTable, 'id' | 'created_at'>>,
  ): Promise<void> {
    const result = await this.db
      .updateTable('subscribers')
      .set({ ...values, updated_at: this.clock.wallNow() })
      .where('username', '=', username)
      .where('domain', '=', domain)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound(username, domain);
  }
}

function notFound(username: string, domain: string) {
  return storeError('STORE_ERR_NOT_FOUND', `no user ${username}@${domain}`);
}

function toSubscriber(row: Selectable<SubscribersTable>): Subscriber {
  return {
    id: Number(row.id),
    username: row.username,
    domain: row.domain,
    displayName: row.display_name,
    plan: row.plan,
    disabled: Number(row.disabled) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
