import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';

/**
 * Whoever a digest username names in a realm, with what authentication
 * needs: both stored HA1 digests (so one lookup serves MD5 and SHA-256
 * answers alike) and what {@link AuthenticatedParty} reports.
 */
export interface Principal {
  readonly kind: 'subscriber' | 'app-server';
  /** Row id in `subscribers` or `app_servers`. */
  readonly id: number;
  readonly username: string;
  /** Lower-case domain; the realm. */
  readonly domain: string;
  readonly displayName: string | undefined;
  readonly plan: string | undefined;
  readonly ha1: { readonly MD5: string; readonly 'SHA-256': string };
}

/**
 * The enabled subscriber or application server `username` of `realm`, or
 * undefined when there is none: an unknown and a disabled account look the
 * same, as they must on the wire. A username names one principal per
 * domain (the repositories keep subscriber and application-server names
 * apart), so the two indexed lookups cannot both find one.
 *
 * One query per table instead of `CredentialRepository.find` per hash: the
 * authenticator caches the whole principal, both hashes at once.
 */
export async function loadPrincipal(db: Kysely<Database>, username: string, realm: string): Promise<Principal | undefined> {
  const domain = realm.toLowerCase();
  const user = await db
    .selectFrom('subscribers')
    .select(['id', 'display_name', 'plan', 'ha1_md5', 'ha1_sha256'])
    .where('username', '=', username)
    .where('domain', '=', domain)
    .where('disabled', '=', 0)
    .executeTakeFirst();
  if (user) {
    return {
      kind: 'subscriber',
      id: Number(user.id),
      username,
      domain,
      displayName: user.display_name ?? undefined,
      plan: user.plan ?? undefined,
      ha1: { MD5: user.ha1_md5, 'SHA-256': user.ha1_sha256 },
    };
  }
  const server = await db
    .selectFrom('app_servers')
    .select(['id', 'display_name', 'ha1_md5', 'ha1_sha256'])
    .where('name', '=', username)
    .where('domain', '=', domain)
    .where('disabled', '=', 0)
    .executeTakeFirst();
  if (server) {
    return {
      kind: 'app-server',
      id: Number(server.id),
      username,
      domain,
      displayName: server.display_name ?? undefined,
      plan: undefined,
      ha1: { MD5: server.ha1_md5, 'SHA-256': server.ha1_sha256 },
    };
  }
  return undefined;
}
