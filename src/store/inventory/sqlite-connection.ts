/**
 * One open inventory database: the better-sqlite3 handle, the path mapping, and the two ways statements
 * run — reads, and writes in a BEGIN IMMEDIATE transaction — both mapping SQLite errors to PkiErrors.
 * The query modules (sqlite-records.ts, sqlite-passes.ts) and the schema migration take it.
 */
import type Database from 'better-sqlite3';
import type { InventoryPaths } from './paths.js';
import { sqliteError } from './sqlite-errors.js';

export class SqliteConnection {
  /** Prepared once per connection: preparing it per record was a tenth of recording a batch of 1,000. */
  insertStatement: Database.Statement | undefined;

  readonly db: Database.Database;
  readonly path: string;
  /** Paths in and out of the database: relative to the CA home (`<home>/db/pki.sqlite`) inside it. */
  readonly paths: InventoryPaths;
  /** Stamps issuedAt. */
  readonly now: () => Date;

  constructor(db: Database.Database, path: string, paths: InventoryPaths, now: () => Date) {
    this.db = db;
    this.path = path;
    this.paths = paths;
    this.now = now;
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (a savepoint when already inside one). */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw sqliteError(e, this.path);
    }
  }

  read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw sqliteError(e, this.path);
    }
  }
}
