import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactDatabaseUrl } from '../../../server/store/database-url.js';
import { isStoreError } from '../../../server/store/store-error.js';

describe('parseDatabaseUrl', () => {
  it.each([
    ['sqlite:./data/siprelay.sqlite', './data/siprelay.sqlite'],
    ['sqlite:relay.db', 'relay.db'],
    ['sqlite:/var/lib/siprelay/relay.sqlite', '/var/lib/siprelay/relay.sqlite'],
    ['sqlite:///var/lib/siprelay/relay.sqlite', '/var/lib/siprelay/relay.sqlite'],
    ['sqlite::memory:', ':memory:'],
  ])('reads %s as the SQLite file %s', (url, path) => {
    expect(parseDatabaseUrl(url)).toEqual({ dialect: 'sqlite', path });
  });

  it('reads postgres:// and postgresql:// URLs and takes out ?schema=', () => {
    expect(parseDatabaseUrl('postgres://u:p@db:5432/relay?schema=node1&sslmode=require')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u:p@db:5432/relay?sslmode=require',
      schema: 'node1',
    });
    expect(parseDatabaseUrl('postgresql://db/relay')).toMatchObject({ dialect: 'postgres', schema: undefined });
  });

  it.each([[''], ['sqlite:'], ['mysql://db/relay'], ['./relay.sqlite'], ['postgres://[bad']])(
    'refuses %j with STORE_ERR_URL',
    (url) => {
      let error: unknown;
      try {
        parseDatabaseUrl(url);
      } catch (e) {
        error = e;
      }
      expect(isStoreError(error, 'STORE_ERR_URL')).toBe(true);
    },
  );

  it('names the unsupported scheme', () => {
    expect(() => parseDatabaseUrl('mysql://db/relay')).toThrow(/"mysql:" is not supported/);
  });
});

describe('redactDatabaseUrl', () => {
  it('hides the password and nothing else', () => {
    expect(redactDatabaseUrl('postgres://relay:s3cret@db:5432/relay')).toBe('postgres://relay:***@db:5432/relay');
    expect(redactDatabaseUrl('postgres://relay@db/relay')).toBe('postgres://relay@db/relay');
    expect(redactDatabaseUrl('sqlite:./data/x.sqlite')).toBe('sqlite:./data/x.sqlite');
  });
});
