/**
 * Recognising constraint violations from either driver, so repositories can
 * turn them into {@link StoreError}s with stable codes. better-sqlite3 sets
 * `code` to the extended SQLite result code name; pg sets `code` to the
 * SQLSTATE (PostgreSQL Appendix A).
 */
function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A UNIQUE or PRIMARY KEY constraint refused the write. */
export function isUniqueViolation(e: unknown): boolean {
  const code = codeOf(e);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A FOREIGN KEY constraint refused the write or the delete. */
export function isForeignKeyViolation(e: unknown): boolean {
  const code = codeOf(e);
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return true;
  // SQLite reports ON DELETE RESTRICT through its trigger machinery.
  return code === 'SQLITE_CONSTRAINT_TRIGGER' && e instanceof Error && e.message.includes('FOREIGN KEY');
}
