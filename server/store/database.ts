import type { Generated } from 'kysely';

/**
 * The tables of the store as Kysely sees them: column names as in SQL
 * (snake_case), column types as the drivers return them after the store's
 * conversions. The same types hold on SQLite and PostgreSQL because every
 * migration uses only types that read back alike on both (see
 * docs/storage.md):
 *
 * - instants are integers, UTC milliseconds since the epoch (`bigint` on
 *   PostgreSQL, INTEGER on SQLite), read as `number`;
 * - flags are integers 0 or 1 (never SQL booleans, which SQLite lacks);
 * - JSON is text, parsed by the repository that owns the column.
 *
 * Migrations never import this interface: a migration is frozen in time,
 * while this describes the newest schema.
 */
export interface Database {
  subscribers: SubscribersTable;
  app_servers: AppServersTable;
  services: ServicesTable;
  app_server_services: AppServerServicesTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
  siprelay_migrations: MigrationsTable;
}

/** Epoch milliseconds, UTC. */
type Instant = number;
/** 0 or 1. */
type Flag = number;

/** User accounts of the relay's SIP domain(s). */
export interface SubscribersTable {
  id: Generated<number>;
  /** The SIP user part, case-sensitive (RFC 3261 §19.1.4). */
  username: string;
  /** The SIP domain, lower-case; also the digest realm. */
  domain: string;
  display_name: string | null;
  /** Lower-case hex of MD5(username:realm:password) (RFC 7616 §3.4.2). */
  ha1_md5: string;
  /** Lower-case hex of SHA-256(username:realm:password) (RFC 7616, RFC 8760). */
  ha1_sha256: string;
  /** The tariff plan the user is on; issue 4 gives it meaning. */
  plan: string | null;
  disabled: Flag;
  created_at: Instant;
  updated_at: Instant;
}

/** Application-server accounts: they log in over SIP like users do. */
export interface AppServersTable {
  id: Generated<number>;
  /** Unique name; also the SIP username it registers with. */
  name: string;
  /** The domain (digest realm) its credentials belong to. */
  domain: string;
  display_name: string | null;
  /** Who runs it: the party that settlements are made out to. */
  operator: string;
  ha1_md5: string;
  ha1_sha256: string;
  disabled: Flag;
  created_at: Instant;
  updated_at: Instant;
}

/** Services the relay offers, mirrored from the configuration. */
export interface ServicesTable {
  id: Generated<number>;
  name: string;
  description: string;
  /** `balance`, `race` or `all`. */
  fork_mode: string;
  allow_no_cancel: Flag;
  max_duration_seconds: number | null;
  max_sessions: number | null;
  session_timer_seconds: number | null;
  /** JSON text; its shape is defined by billing (issue 4). */
  tariff: string | null;
  created_at: Instant;
  updated_at: Instant;
}

/** Which application server provides which service, and how much of it. */
export interface AppServerServicesTable {
  app_server_id: number;
  service_id: number;
  /** Relative share of new sessions in `balance` mode; at least 1. */
  weight: number;
  /** A fixed SIP URI to send requests to, instead of the registered contact. */
  target_uri: string | null;
  created_at: Instant;
}

/** Keys for the HTTP API. Only a hash of the key is kept. */
export interface ApiKeysTable {
  id: Generated<number>;
  /** The first characters of the key, shown in listings to tell keys apart. */
  prefix: string;
  /** Lower-case hex SHA-256 of the whole key. */
  key_hash: string;
  /** `app-server` or `admin`. */
  owner_kind: string;
  /** Set when `owner_kind` is `app-server`. */
  app_server_id: number | null;
  label: string | null;
  created_at: Instant;
  revoked_at: Instant | null;
}

/** The relay's JWT signing keys (design brief: tokens toward application servers). */
export interface SigningKeysTable {
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** JWS `alg`: `EdDSA` or `ES256`. */
  algorithm: string;
  /** JSON text of the private JWK. */
  private_jwk: string;
  /** JSON text of the public JWK. */
  public_jwk: string;
  created_at: Instant;
  activated_at: Instant | null;
  retired_at: Instant | null;
}

/** One row per migration applied to this database. */
export interface MigrationsTable {
  name: string;
  applied_at: Instant;
}
