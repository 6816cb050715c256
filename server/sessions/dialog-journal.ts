import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import { dialogSnapshot, type DialogSnapshot } from '../core/dialog-snapshot.js';
import type { RelayedDialog } from '../core/dialog-registry.js';
import type { Database } from '../store/database.js';
import type { SessionsTables } from './sessions-tables.js';

/** Runs one write in a transaction and resolves once it has committed (the accounting's group committer). */
export type DurableWrite = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

/** Options of {@link DialogJournal}. */
export interface DialogJournalOptions {
  /** The store's query builder (reads, and writes when no `write` is given). */
  readonly db: Kysely<Database>;
  /** This node's id: its snapshots are the ones it rebuilds after a restart. */
  readonly nodeId: string;
  /**
   * Where writes go. Give the accounting's group committer (`(w) =>
   * committer.run(w)`), so that a snapshot commits in the same
   * transaction as the answer it goes with, at no extra fsync. Default:
   * one transaction per write on `db`.
   */
  readonly write?: DurableWrite;
  /** Stamps `updated_at`. Default the system clock. */
  readonly clock?: Pick<Clock, 'wallNow'>;
  /** Failures of writes nobody waits for (updates, removals). Default: ignored. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The dialogs of this node's live sessions, as snapshots in the store
 * (`session_dialogs`), so that a restarted relay can rebuild them
 * (docs/sessions.md, "Restart"). A snapshot is written with the session's
 * answer (the 2xx waits for it), rewritten on a target refresh, and
 * removed when the session ends; the last two are queued, not awaited.
 */
export class DialogJournal {
  private readonly db: Kysely<Database & SessionsTables>;
  private readonly write: DurableWrite;
  private readonly clock: Pick<Clock, 'wallNow'>;

  constructor(private readonly options: DialogJournalOptions) {
    if (!options || !options.db) throw new TypeError('DialogJournalOptions.db is required');
    if (typeof options.nodeId !== 'string' || options.nodeId === '') throw new TypeError('DialogJournalOptions.nodeId must be a non-empty string');
    this.db = options.db.withTables<SessionsTables>();
    this.clock = options.clock ?? systemClock;
    this.write = options.write ?? ((work) => options.db.transaction().execute(work));
  }

  /** Stores the dialog's snapshot; resolves once committed. */
  record(dialog: RelayedDialog): Promise<void> {
    const row = { session_id: dialog.sessionId, node_id: this.options.nodeId, dialog: JSON.stringify(dialogSnapshot(dialog)), updated_at: this.clock.wallNow() };
    return this.write(async (trx) => {
      await trx
        .withTables<SessionsTables>()
        .insertInto('session_dialogs')
        .values(row)
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ dialog: row.dialog, updated_at: row.updated_at, node_id: row.node_id }))
        .execute();
    });
  }

  /** Rewrites the snapshot (a target refresh changed a Contact); not awaited. */
  update(dialog: RelayedDialog): void {
    this.record(dialog).catch((e: unknown) => this.options.onError?.(e));
  }

  /** Removes a session's snapshot (it ended); not awaited. */
  remove(sessionId: string): void {
    this.write(async (trx) => {
      await trx.withTables<SessionsTables>().deleteFrom('session_dialogs').where('session_id', '=', sessionId).execute();
    }).catch((e: unknown) => this.options.onError?.(e));
  }

  /** This node's snapshots by session id. A row that does not parse is skipped. */
  async load(): Promise<Map<string, DialogSnapshot>> {
    const rows = await this.db.selectFrom('session_dialogs').select(['session_id', 'dialog']).where('node_id', '=', this.options.nodeId).execute();
    const out = new Map<string, DialogSnapshot>();
    for (const r of rows) {
      try {
        out.set(r.session_id, JSON.parse(r.dialog) as DialogSnapshot);
      } catch (e) {
        this.options.onError?.(e);
      }
    }
    return out;
  }

  /** Removes this node's snapshots except those of `keep` (sessions that ended while the relay was down). */
  async prune(keep: ReadonlySet<string>): Promise<number> {
    let query = this.db.deleteFrom('session_dialogs').where('node_id', '=', this.options.nodeId);
    if (keep.size > 0) query = query.where('session_id', 'not in', [...keep]);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }
}
