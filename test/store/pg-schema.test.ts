/**
 * Issue 14: the PostgreSQL inventory schema (src/store/inventory/pg-schema.ts) against a real PostgreSQL
 * server: created at the SQLite schema's version, migrated once when two connections race, re-run
 * harmlessly, a newer version refused, serial uniqueness by constraint, and the sequences' row lock.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, psql, startPostgres, type TlsPostgres } from '../helpers/postgres.js';
import { migratePostgres, pgSchemaVersion, PG_SCHEMA_VERSION, PG_TABLES } from '../../src/store/inventory/pg-schema.js';
import { SCHEMA_VERSION } from '../../src/store/inventory/sqlite-schema.js';
import { isPkiError } from '../../src/core/errors.js';

let server: TlsPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.server.stop();
});

async function client(database: string): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.server.port, user: 'postgres', database });
  await c.connect();
  return c;
}

describe('PostgreSQL inventory schema', () => {
  it('two connections migrating at once create the schema once, at the SQLite schema version', async () => {
    const db = createDatabase(server);
    const [a, b] = [await client(db), await client(db)];
    try {
      expect(await pgSchemaVersion(a)).toBe(0);
      await Promise.all([migratePostgres(a, db), migratePostgres(b, db)]);
      expect(PG_SCHEMA_VERSION).toBe(SCHEMA_VERSION);
      expect(await pgSchemaVersion(a)).toBe(SCHEMA_VERSION);
      expect(psql(server, 'SELECT count(*) FROM schema_version', db).trim()).toBe('1');
      const tables = psql(server, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`, db).trim().split('\n');
      expect(tables).toEqual([...PG_TABLES, 'schema_version'].sort());
      await migratePostgres(a, db); // already current: nothing to do
      expect(await pgSchemaVersion(b)).toBe(SCHEMA_VERSION);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('refuses a schema newer than this pki, naming the upgrade', async () => {
    const db = createDatabase(server);
    const c = await client(db);
    try {
      await migratePostgres(c, db);
      await c.query('UPDATE schema_version SET version = $1', [SCHEMA_VERSION + 1]);
      const error = await migratePostgres(c, `postgres://postgres@127.0.0.1/${db}`).catch((e: unknown) => e);
      expect(isPkiError(error) && error.code).toBe('ERR_INVENTORY_VERSION');
      expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION + 1}, newer than this pki understands`);
    } finally {
      await c.end();
    }
  });

  it('a duplicate (kind, serial) is refused by the constraint; text sorts byte-wise as on SQLite', async () => {
    const db = createDatabase(server);
    const c = await client(db);
    try {
      await migratePostgres(c, db);
      const insert = (serial: string) =>
        c.query(
          `INSERT INTO certificates (kind, serial, subject, sans, profile, issuer, not_before, not_after, fingerprint_sha256, issued_at, pem)
           VALUES ('x509', $1, 'CN=a', '{}', 'server', 'CN=i', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 'ff', '2026-01-01T00:00:00.000Z', 'pem')`,
          [serial],
        );
      await insert('0A');
      await insert('a0');
      await insert('_B');
      const duplicate = await insert('0A').catch((e: unknown) => e);
      expect((duplicate as { code?: string }).code).toBe('23505');
      expect((duplicate as { constraint?: string }).constraint).toBe('certificates_kind_serial');
      const order = await c.query('SELECT serial FROM certificates ORDER BY serial');
      expect(order.rows.map((r) => r.serial)).toEqual(['0A', '_B', 'a0']); // ASCII: '0' < '_' < 'a'
    } finally {
      await c.end();
    }
  });
});
