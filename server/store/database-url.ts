import { storeError } from './store-error.js';

/** The SQL dialects the store speaks. */
export type StoreDialect = 'sqlite' | 'postgres';

/** Where a database lives, as read from a database URL. */
export type DatabaseLocation =
  | {
      readonly dialect: 'sqlite';
      /** A file path as written (relative to the working directory), or `:memory:`. */
      readonly path: string;
    }
  | {
      readonly dialect: 'postgres';
      /** The URL handed to `pg`, without siprelay's own `schema` parameter. */
      readonly connectionString: string;
      /** The `schema` query parameter, when the URL names one. */
      readonly schema: string | undefined;
    };

/** The database URL used when none is configured. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/siprelay.sqlite';

/**
 * Reads a database URL:
 *
 * - `sqlite:<path>` — a file, relative to the working directory unless
 *   absolute (`sqlite:./data/siprelay.sqlite`, `sqlite:/var/lib/siprelay/db`).
 *   `sqlite://<path>` is accepted too (`sqlite:///var/lib/x.sqlite` is the
 *   absolute path `/var/lib/x.sqlite`).
 * - `sqlite::memory:` — an in-memory database that lives as long as the store.
 * - `postgres://…` or `postgresql://…` — a PostgreSQL connection URL as `pg`
 *   understands it, plus an optional `?schema=<name>`.
 *
 * @throws StoreError `STORE_ERR_URL` for anything else.
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (typeof url !== 'string' || url.trim() === '') {
    throw storeError('STORE_ERR_URL', 'database URL is empty; expected sqlite:<path> or postgres://…');
  }
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') {
      throw storeError('STORE_ERR_URL', `database URL "${url}" names no file; expected sqlite:<path> or sqlite::memory:`);
    }
    return { dialect: 'sqlite', path };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw storeError('STORE_ERR_URL', `database URL "${redactDatabaseUrl(url)}" is not a valid URL`);
    }
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return { dialect: 'postgres', connectionString: parsed.toString(), schema };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw storeError(
    'STORE_ERR_URL',
    scheme
      ? `database URL scheme "${scheme}:" is not supported; expected sqlite:<path> or postgres://…`
      : `database URL "${redactDatabaseUrl(url)}" has no scheme; expected sqlite:<path> or postgres://…`,
  );
}

/** The URL with any password replaced by `***`, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
