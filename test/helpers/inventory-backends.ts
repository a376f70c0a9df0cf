/**
 * The two inventory backends for tests that run the same cases on each (issue 14): the embedded SQLite
 * database and PostgreSQL (a server the test file starts with startPostgres; one fresh database per
 * backend opened). PostgreSQL runs through the worker bridge, loaded from dist/pki/pg-worker.cjs: build first.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { createDatabase, psql, type TlsPostgres } from './postgres.js';
import { SqliteInventory } from '../../src/store/inventory/sqlite.js';
import { PostgresInventory } from '../../src/store/inventory/postgres.js';
import { parsePgUrl } from '../../src/store/inventory/pg-url.js';

export interface Backend {
  readonly inventory: SqliteInventory | PostgresInventory;
  readonly home: string;
  /** A second connection to the same inventory (another process's view). */
  other(): SqliteInventory | PostgresInventory;
  /** Runs SQL the interface has no method for (marking a record as carried over from a replaced CA). */
  exec(sql: string): void;
}

export type BackendName = 'sqlite' | 'postgres';
export const BACKENDS: readonly BackendName[] = ['sqlite', 'postgres'];

/** Opens a fresh inventory on `name`; `server` is the test file's PostgreSQL (only read for 'postgres'). */
export function openBackend(name: BackendName, server: () => TlsPostgres, now?: () => Date): Backend {
  const home = tempDir();
  if (name === 'sqlite') {
    mkdirSync(join(home, 'db'));
    const path = join(home, 'db', 'pki.sqlite');
    return {
      inventory: new SqliteInventory(path, { create: true, now }),
      home,
      other: () => new SqliteInventory(path, { create: false, now }),
      exec: (sql) => {
        const db = new Database(path);
        db.exec(sql);
        db.close();
      },
    };
  }
  const database = createDatabase(server());
  const target = parsePgUrl(`postgres://postgres@127.0.0.1:${server().server.port}/${database}`, 'test');
  return {
    inventory: new PostgresInventory(target, { home, now }),
    home,
    other: () => new PostgresInventory(target, { home, now }),
    exec: (sql) => void psql(server(), sql, database),
  };
}
