import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { DigestHashAlgorithm } from '../../sip/auth/digest-algorithm.js';

/** The digest credentials of whoever a username names in a realm. */
export interface Credential {
  readonly kind: 'subscriber' | 'app-server';
  /** Row id in `subscribers` or `app_servers`, by `kind`. */
  readonly id: number;
  readonly username: string;
  readonly ha1: string;
}

/**
 * One lookup for the digest authenticator: a username in a realm names
 * either a subscriber or an application server (the repositories keep the
 * two apart), and both log in the same way (issue 3, items 3 and 4).
 */
export class CredentialRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The enabled principal `username` in `realm` and its HA1 for
   * `algorithm`, or `undefined` when there is none (unknown and disabled
   * look alike, as they must on the wire).
   */
  async find(username: string, realm: string, algorithm: DigestHashAlgorithm): Promise<Credential | undefined> {
    const domain = realm.toLowerCase();
    // SHA-512-256 HA1s are not stored (RFC 8760 clients use MD5 or SHA-256).
    if (algorithm !== 'MD5' && algorithm !== 'SHA-256') return undefined;
    const column = algorithm === 'MD5' ? 'ha1_md5' : 'ha1_sha256';
    const user = await this.db
      .selectFrom('subscribers')
      .select(['id', column])
      .where('username', '=', username)
      .where('domain', '=', domain)
      .where('disabled', '=', 0)
      .executeTakeFirst();
    if (user) return { kind: 'subscriber', id: Number(user.id), username, ha1: user[column] };
    const server = await this.db
      .selectFrom('app_servers')
      .select(['id', column])
      .where('name', '=', username)
      .where('domain', '=', domain)
      .where('disabled', '=', 0)
      .executeTakeFirst();
    if (server) return { kind: 'app-server', id: Number(server.id), username, ha1: server[column] };
    return undefined;
  }
}
