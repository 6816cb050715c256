import type { Kysely, Selectable } from 'kysely';
import { computeHa1, type DigestHashAlgorithm } from '../../sip/auth/digest-algorithm.js';
import type { Clock } from '../../sip/util/clock.js';
import { parseSipUriStrict } from '../../sip/grammar/uri.js';
import type { AppServersTable, Database } from './database.js';
import { checkPassword, checkUsername, normalizeDomain } from './account-names.js';
import { isUniqueViolation } from './driver-errors.js';
import { storeError } from './store-error.js';
import { storedHa1 } from './stored-ha1.js';

/** An application-server account, without its digests. */
export interface AppServer {
  readonly id: number;
  /** Unique name; also the SIP username it logs in with. */
  readonly name: string;
  /** The domain (digest realm) of its credentials. */
  readonly domain: string;
  readonly displayName: string | null;
  /** Who runs it; settlements are made out to the operator. */
  readonly operator: string;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What {@link AppServerRepository.add} needs. */
export interface NewAppServer {
  name: string;
  domain: string;
  password: string;
  displayName?: string | null;
  /** Defaults to the name. */
  operator?: string;
}

/** One service that one application server provides. */
export interface AppServerService {
  readonly appServerId: number;
  readonly appServer: string;
  readonly service: string;
  /** Relative share in `balance` mode, at least 1. */
  readonly weight: number;
  /** A fixed SIP URI to reach it at, or `null` to use where it registered. */
  readonly targetUri: string | null;
  /** Whether the application server's account is disabled. */
  readonly disabled: boolean;
  readonly createdAt: number;
}

/** Options of {@link AppServerRepository.attachService}. */
export interface AttachServiceOptions {
  /** Default 1. */
  weight?: number;
  /** A `sip:` or `sips:` URI; default none. */
  targetUri?: string | null;
}

/**
 * Application-server accounts and the services each provides. Application
 * servers log in over SIP with digest credentials like users (issue 3,
 * item 4), so an application-server name is also unique against the
 * subscribers of its domain.
 */
export class AppServerRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {}

  /** @throws StoreError `STORE_ERR_INVALID`, `STORE_ERR_DUPLICATE` */
  async add(input: NewAppServer): Promise<AppServer> {
    const name = checkUsername(input.name, 'application-server name');
    const domain = normalizeDomain(input.domain);
    const password = checkPassword(input.password);
    const operator = (input.operator ?? name).trim();
    if (operator === '') throw storeError('STORE_ERR_INVALID', 'operator must not be empty');
    const now = this.clock.wallNow();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const user = await trx
          .selectFrom('subscribers')
          .select('id')
          .where('username', '=', name)
          .where('domain', '=', domain)
          .executeTakeFirst();
        if (user) throw storeError('STORE_ERR_DUPLICATE', `${name}@${domain} is already the name of a user`);
        const row = await trx
          .insertInto('app_servers')
          .values({
            name,
            domain,
            display_name: input.displayName ?? null,
            operator,
            ha1_md5: computeHa1('MD5', name, domain, password),
            ha1_sha256: computeHa1('SHA-256', name, domain, password),
            disabled: 0,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toAppServer(row);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw storeError('STORE_ERR_DUPLICATE', `application server ${name} already exists`, e);
      throw e;
    }
  }

  /** @throws StoreError `STORE_ERR_NOT_FOUND`, `STORE_ERR_INVALID` */
  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    const existing = await this.find(name);
    if (!existing) throw notFound(name);
    await this.updateOne(name, {
      ha1_md5: computeHa1('MD5', name, existing.domain, password),
      ha1_sha256: computeHa1('SHA-256', name, existing.domain, password),
    });
  }

  /** Stops routing to it, refuses its logins and its API keys. @throws StoreError `STORE_ERR_NOT_FOUND` */
  async disable(name: string): Promise<void> {
    await this.updateOne(name, { disabled: 1 });
  }

  /** @throws StoreError `STORE_ERR_NOT_FOUND` */
  async enable(name: string): Promise<void> {
    await this.updateOne(name, { disabled: 0 });
  }

  /** Deletes the account with its service bindings and API keys. @throws StoreError `STORE_ERR_NOT_FOUND` */
  async remove(name: string): Promise<void> {
    const result = await this.db.deleteFrom('app_servers').where('name', '=', name).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound(name);
  }

  async list(): Promise<AppServer[]> {
    return (await this.db.selectFrom('app_servers').selectAll().orderBy('name').execute()).map(toAppServer);
  }

  async find(name: string): Promise<AppServer | undefined> {
    const row = await this.db.selectFrom('app_servers').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toAppServer(row);
  }

  /** Like {@link SubscriberRepository.findHa1}: `undefined` when unknown or disabled. */
  async findHa1(name: string, realm: string, algorithm: DigestHashAlgorithm): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('app_servers')
      .select(['ha1_md5', 'ha1_sha256'])
      .where('name', '=', name)
      .where('domain', '=', realm.toLowerCase())
      .where('disabled', '=', 0)
      .executeTakeFirst();
    if (!row) return undefined;
    return storedHa1(row, algorithm);
  }

  /**
   * Records that the application server provides the service (or changes
   * weight and target when it already does).
   * @throws StoreError `STORE_ERR_NOT_FOUND` for an unknown application
   * server or service, `STORE_ERR_INVALID` for a bad weight or URI.
   */
  async attachService(appServer: string, service: string, options: AttachServiceOptions = {}): Promise<AppServerService> {
    const weight = options.weight ?? 1;
    if (!Number.isSafeInteger(weight) || weight < 1) {
      throw storeError('STORE_ERR_INVALID', `weight must be an integer of at least 1, not ${String(weight)}`);
    }
    const targetUri = options.targetUri ?? null;
    if (targetUri !== null) {
      try {
        parseSipUriStrict(targetUri);
      } catch {
        throw storeError('STORE_ERR_INVALID', `target "${targetUri}" is not a SIP URI`);
      }
    }
    const now = this.clock.wallNow();
    await this.db.transaction().execute(async (trx) => {
      const server = await trx.selectFrom('app_servers').select('id').where('name', '=', appServer).executeTakeFirst();
      if (!server) throw notFound(appServer);
      const svc = await trx.selectFrom('services').select('id').where('name', '=', service).executeTakeFirst();
      if (!svc) throw storeError('STORE_ERR_NOT_FOUND', `no service ${service}`);
      await trx
        .insertInto('app_server_services')
        .values({ app_server_id: server.id, service_id: svc.id, weight, target_uri: targetUri, created_at: now })
        .onConflict((oc) => oc.columns(['app_server_id', 'service_id']).doUpdateSet({ weight, target_uri: targetUri }))
        .execute();
    });
    const [binding] = await this.listServices({ appServer, service });
    return binding;
  }

  /** @throws StoreError `STORE_ERR_NOT_FOUND` when it does not provide the service. */
  async detachService(appServer: string, service: string): Promise<void> {
    const result = await this.db
      .deleteFrom('app_server_services')
      .where('app_server_id', 'in', (q) => q.selectFrom('app_servers').select('id').where('name', '=', appServer))
      .where('service_id', 'in', (q) => q.selectFrom('services').select('id').where('name', '=', service))
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) {
      throw storeError('STORE_ERR_NOT_FOUND', `application server ${appServer} does not provide service ${service}`);
    }
  }

  /**
   * Service bindings, by application server then service; filtered to one
   * application server or one service when given. Disabled application
   * servers are included (see {@link AppServerService.disabled}); routing
   * uses {@link AppServerRepository.providers}.
   */
  async listServices(filter: { appServer?: string; service?: string } = {}): Promise<AppServerService[]> {
    let q = this.db
      .selectFrom('app_server_services as b')
      .innerJoin('app_servers as a', 'a.id', 'b.app_server_id')
      .innerJoin('services as s', 's.id', 'b.service_id')
      .select([
        'b.app_server_id',
        'a.name as app_server',
        's.name as service',
        'b.weight',
        'b.target_uri',
        'a.disabled',
        'b.created_at',
      ])
      .orderBy('a.name')
      .orderBy('s.name');
    if (filter.appServer !== undefined) q = q.where('a.name', '=', filter.appServer);
    if (filter.service !== undefined) q = q.where('s.name', '=', filter.service);
    return (await q.execute()).map((r) => ({
      appServerId: Number(r.app_server_id),
      appServer: r.app_server,
      service: r.service,
      weight: Number(r.weight),
      targetUri: r.target_uri,
      disabled: Number(r.disabled) === 1,
      createdAt: Number(r.created_at),
    }));
  }

  /** The enabled application servers that provide `service`. */
  async providers(service: string): Promise<AppServerService[]> {
    return (await this.listServices({ service })).filter((b) => !b.disabled);
  }

  private async updateOne(name: string, values: Partial<Omit<AppServersTable, 'id' | 'created_at'>>): Promise<void> {
    const result = await this.db
      .updateTable('app_servers')
      .set({ ...values, updated_at: this.clock.wallNow() })
      .where('name', '=', name)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound(name);
  }
}

function notFound(name: string) {
  return storeError('STORE_ERR_NOT_FOUND', `no application server ${name}`);
}

function toAppServer(row: Selectable<AppServersTable>): AppServer {
  return {
    id: Number(row.id),
    name: row.name,
    domain: row.domain,
    displayName: row.display_name,
    operator: row.operator,
    disabled: Number(row.disabled) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
