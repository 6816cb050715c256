/**
 * The tables of server/sessions (migration `0006-session-dialogs`), as
 * Kysely sees them. Kept here rather than in the store's `Database`
 * interface: only this module reads them, through `db.withTables<SessionsTables>()`.
 */
// Type aliases, not interfaces: `withTables` wants an index-signature-compatible shape.
export type SessionsTables = {
  relay_settings: RelaySettingsTable;
  session_dialogs: SessionDialogsTable;
};

/** Values a relay makes once and keeps (secrets that must survive a restart). */
export type RelaySettingsTable = {
  name: string;
  value: string;
  /** Epoch ms. */
  created_at: number;
};

/** A live session's dialog snapshot (server/core/dialog-snapshot.ts), one row per session. */
export type SessionDialogsTable = {
  session_id: string;
  /** The node that owns the session: the one that rebuilds it after a restart. */
  node_id: string;
  /** `DialogSnapshot` as JSON text. */
  dialog: string;
  /** Epoch ms. */
  updated_at: number;
};
