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
  accounts: AccountsTable;
  account_adjustments: AccountAdjustmentsTable;
  sessions: SessionsTable;
  session_segments: SessionSegmentsTable;
  charges: ChargesTable;
  ledger_entries: LedgerEntriesTable;
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

/** Integer minor units of a currency (docs/storage.md). */
type MinorUnits = number;

/**
 * Ledger accounts with the credit settings of users (docs/billing.md,
 * "Credit control"). `balance` is kept for user accounts: money paid in
 * (top-ups) less everything posted against the user in the account's
 * currency; a postpaid user owes `-balance`.
 */
export interface AccountsTable {
  id: Generated<number>;
  /** The ledger account id: `user:<user>`, `operator:<operator>`, `relay:revenue`. */
  account: string;
  /** `user`, `operator` or `relay`. */
  kind: string;
  /** `alice@portal.test`, the operator's name, or `revenue`. */
  owner: string;
  /** `prepaid` or `postpaid` for users; null otherwise. */
  credit_mode: string | null;
  currency: string;
  balance: MinorUnits;
  /** Set exactly for postpaid accounts. */
  credit_limit: MinorUnits | null;
  created_at: Instant;
  updated_at: Instant;
}

/** What an operator did to an account: opened it, topped it up, changed its terms. */
export interface AccountAdjustmentsTable {
  id: Generated<number>;
  account_id: number;
  /** `open`, `topup`, `set-balance`, `set-credit-limit` or `set-mode`. */
  kind: string;
  amount: MinorUnits | null;
  currency: string;
  balance_after: MinorUnits;
  credit_limit_after: MinorUnits | null;
  note: string | null;
  at: Instant;
}

/** One record per attempt (branch) and, once established, per session. */
export interface SessionsTable {
  /** The relay session id of the branch (RFC 7989: 32 lower-case hex digits). */
  id: string;
  fork_group: string;
  linked_from: string | null;
  /** `attempt`, `answered`, `established`, `ended`, `failed`, `cancelled`. */
  state: string;
  /** `username@domain` of the paying user. */
  user_id: string;
  plan: string | null;
  /** The service the session was established for. */
  service: string;
  app_server: string;
  operator: string;
  call_id: string;
  caller_tag: string;
  callee_tag: string | null;
  /** The relay node that owns the session. */
  node_id: string;
  requested_at: Instant;
  answered_at: Instant | null;
  /** The ACK was relayed. */
  started_at: Instant | null;
  /** The 2xx to BYE was relayed (or the relay ended the session). */
  ended_at: Instant | null;
  /** From the monotonic clock; for interrupted sessions, last alive − start. */
  duration_ms: number | null;
  ended_by: string | null;
  end_reason: string | null;
  /** Final status of a failed or cancelled attempt. */
  sip_status: number | null;
  last_alive_at: Instant | null;
  /** JSON of the tariff that set the session terms; null when time is free. */
  tariff: string | null;
  /** JSON of the service's relay fee at the start. */
  relay_fee: string;
  /** JSON of the `RatedSession`. */
  rating: string | null;
  rating_error: string | null;
  amount: MinorUnits | null;
  currency: string | null;
  updated_at: Instant;
}

/** A stretch of a session with unchanged service details (flow 7). */
export interface SessionSegmentsTable {
  session_id: string;
  seq: number;
  service: string;
  started_at: Instant;
  /** Monotonic milliseconds from the session's start. */
  offset_ms: number;
  details: string | null;
  tariff: string | null;
}

/** Accepted application charges and refunds. Refused charges are not stored. */
export interface ChargesTable {
  id: Generated<number>;
  session_id: string;
  app_server: string;
  operator: string;
  user_id: string;
  service: string;
  /** The charge's `id`: unique per application server. */
  idempotency_key: string;
  refund_of: string | null;
  /** `info`, `bye` or `api`. */
  route: string;
  /** JSON of the validated `Charge`. */
  body: string;
  amount: MinorUnits;
  currency: string;
  accepted_at: Instant;
}

/** Balanced double-entry postings of rated sessions and charges. */
export interface LedgerEntriesTable {
  id: Generated<number>;
  account: string;
  /** `debit` or `credit`. */
  side: string;
  amount: MinorUnits;
  currency: string;
  /** `gross` or `fee`. */
  kind: string;
  /** `session` or `charge`. */
  ref_type: string;
  /** The session id, or the charge's row id as text. */
  ref_id: string;
  at: Instant;
}
