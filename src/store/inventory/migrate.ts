/**
 * `pki db migrate` (issue 14): the inventory copied whole from one backend to the other, row for row, and
 * checked by counts and checksums. Both schemas have the same tables and columns (pg-schema.ts mirrors
 * sqlite-schema.ts), so a row crosses unchanged; the one difference is the SQLite rowid of the ACME tables,
 * which PostgreSQL keeps as a `rowid` column: it is copied both ways, since it orders listOrderIds and
 * listProcessingChallenges.
 *
 * The checksum of a table is SHA-256 over its rows in key order, each row its values in column-name order,
 * integers as numbers (PostgreSQL's BIGINT arrives as text and is read back as a number here), so a
 * SQLite → PostgreSQL → SQLite round trip can be compared table by table with the source.
 */
import { createHash } from 'node:crypto';
import { renameSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { PkiError } from '../../core/errors.js';
import { ioError, writeFileAtomic } from '../fs/atomic-write.js';
import { FileMode } from '../fs/home-folder.js';
import { readText } from '../fs/read-file.js';
import type { PgBridge } from './pg-bridge.js';
import type { PgTarget } from './pg-url.js';
import { PG_TABLES } from './pg-schema.js';

export type InventoryTable = (typeof PG_TABLES)[number];
type Value = string | number | null;
type Row = Record<string, Value>;

/** How each table's rows are ordered and whether SQLite keeps its rowid hidden (the ACME tables). */
const KEYS: Record<InventoryTable, { readonly order: string; readonly hiddenRowid: boolean }> = {
  certificates: { order: 'id', hiddenRowid: false },
  sequences: { order: 'name', hiddenRowid: false },
  acme_accounts: { order: 'rowid', hiddenRowid: true },
  acme_orders: { order: 'rowid', hiddenRowid: true },
  acme_authorizations: { order: 'rowid', hiddenRowid: true },
  acme_challenges: { order: 'rowid', hiddenRowid: true },
  acme_nonces: { order: 'nonce', hiddenRowid: false },
};

/** One side of a migration: whole tables read and written, in one transaction each way. */
export interface TableStore {
  readonly where: string;
  read(table: InventoryTable): Row[];
  /** Rows in the transaction `write` runs. */
  insert(table: InventoryTable, rows: readonly Row[]): void;
  /** Runs `fn` in one write transaction. */
  write(fn: () => void): void;
  /** Runs `fn` in one read transaction, so every table is read at the same moment. */
  snapshot<T>(fn: () => T): T;
  count(table: InventoryTable): number;
  clear(table: InventoryTable): void;
}

export function sqliteTables(db: Database.Database, where: string): TableStore {
  const columns = (table: InventoryTable) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  return {
    where,
    read: (table) => {
      const { order, hiddenRowid } = KEYS[table];
      return db.prepare(`SELECT ${hiddenRowid ? 'rowid AS rowid, ' : ''}* FROM ${table} ORDER BY ${order}`).all() as Row[];
    },
    insert: (table, rows) => {
      if (rows.length === 0) return;
      const names = [...(KEYS[table].hiddenRowid ? ['rowid'] : []), ...columns(table)];
      const statement = db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
      for (const row of rows) statement.run(names.map((n) => row[n] ?? null));
    },
    write: (fn) => db.transaction(fn).immediate(),
    snapshot: (fn) => db.transaction(fn).deferred(),
    count: (table) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
    clear: (table) => void db.prepare(`DELETE FROM ${table}`).run(),
  };
}

export function postgresTables(bridge: PgBridge, where: string): TableStore {
  const integerColumns = new Map<InventoryTable, Set<string>>();
  const columnsOf = (table: InventoryTable) =>
    bridge.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    ).rows;
  const integers = (table: InventoryTable) => {
    let set = integerColumns.get(table);
    if (!set) {
      set = new Set(columnsOf(table).filter((c) => c.data_type === 'bigint' || c.data_type === 'integer').map((c) => c.column_name));
      integerColumns.set(table, set);
    }
    return set;
  };
  return {
    where,
    read: (table) => {
      const ints = integers(table);
      return bridge.query<Row>(`SELECT * FROM ${table} ORDER BY ${KEYS[table].order}`).rows.map((row) => {
        const out: Row = {};
        for (const [k, v] of Object.entries(row)) out[k] = v !== null && ints.has(k) ? Number(v) : v;
        return out;
      });
    },
    insert: (table, rows) => {
      if (rows.length === 0) return;
      const names = columnsOf(table).map((c) => c.column_name);
      // Batches of 500 rows per INSERT: one round trip to the worker and the server each.
      for (let i = 0; i < rows.length; i += 500) {
        const batch = rows.slice(i, i + 500);
        const values = batch.map((_, r) => `(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`).join(', ');
        bridge.query(`INSERT INTO ${table} (${names.join(', ')}) VALUES ${values}`, batch.flatMap((row) => names.map((n) => row[n] ?? null)));
      }
      // Identity columns continue after the copied values, as SQLite's rowid does.
      const identity = table === 'certificates' ? 'id' : KEYS[table].hiddenRowid ? 'rowid' : null;
      if (identity) bridge.query(`SELECT setval(pg_get_serial_sequence('${table}', '${identity}'), (SELECT max(${identity}) FROM ${table}))`);
    },
    write: (fn) => bridge.transaction(fn),
    snapshot: (fn) => bridge.transaction(fn),
    count: (table) => Number(bridge.queryArrays<[string]>(`SELECT count(*) FROM ${table}`).rows[0]![0]),
    clear: (table) => void bridge.query(`DELETE FROM ${table}`),
  };
}

/** A table's count and checksum, as `pki db migrate` reports and compares them. */
export interface TableDigest {
  readonly table: InventoryTable;
  readonly rows: number;
  readonly sha256: string;
}

function digest(table: InventoryTable, rows: readonly Row[]): TableDigest {
  const hash = createHash('sha256');
  for (const row of rows) {
    const names = Object.keys(row).sort();
    hash.update(JSON.stringify(names.map((n) => [n, row[n] ?? null])));
    hash.update('\n');
  }
  return { table, rows: rows.length, sha256: hash.digest('hex') };
}

/** The digests of every table of `store`, read in one transaction. */
export function digestTables(store: TableStore): TableDigest[] {
  return store.snapshot(() => PG_TABLES.map((t) => digest(t, store.read(t))));
}

/**
 * Copies every table of `from` into `to` in one transaction on each side, then reads both back and
 * compares counts and checksums; a difference is ERR_INVENTORY_CORRUPT (the copy is kept for inspection:
 * the caller has not switched the home to it yet). `to` must be empty unless `replace`.
 */
export function copyInventory(from: TableStore, to: TableStore, options: { replace: boolean }): TableDigest[] {
  const held = PG_TABLES.map((t) => [t, to.count(t)] as const).filter(([, n]) => n > 0);
  if (held.length > 0 && !options.replace) {
    throw new PkiError('ERR_CA_EXISTS', `the target inventory ${to.where} already holds records (${held.map(([t, n]) => `${n} in ${t}`).join(', ')})`, {
      hint: 'migrate into an empty database, or add --force to replace what it holds',
    });
  }
  const tables = from.snapshot(() => PG_TABLES.map((t) => [t, from.read(t)] as const));
  to.write(() => {
    for (const t of [...PG_TABLES].reverse()) to.clear(t);
    for (const [t, rows] of tables) to.insert(t, rows);
  });
  const source = tables.map(([t, rows]) => digest(t, rows));
  const copied = digestTables(to);
  const differ = source.filter((d, i) => d.rows !== copied[i]!.rows || d.sha256 !== copied[i]!.sha256);
  if (differ.length > 0) {
    throw new PkiError('ERR_INVENTORY_CORRUPT', `the copy in ${to.where} differs from ${from.where} in ${differ.map((d) => d.table).join(', ')}`, {
      hint: 'the home still uses its old inventory; report this with the output of "pki db migrate --json"',
    });
  }
  return source;
}

/** pki.json with `inventory.url` set (or removed), every other key as it was: the switch to the copied inventory. */
export function writeInventoryUrl(configPath: string, url: string | null): void {
  const config = JSON.parse(readText(configPath)) as Record<string, unknown>;
  if (url === null) delete config.inventory;
  else config.inventory = { url };
  writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: FileMode.public, overwrite: true });
}

/** A SQLite inventory file renamed (kept aside, or a finished copy moved into place). */
export function moveInventoryFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    throw ioError(e, 'rename', from);
  }
}

/**
 * Opens a SQLite file and a PostgreSQL inventory, copies one into the other (copyInventory) and closes
 * both: `pki db migrate` each way, and a snapshot of a PostgreSQL inventory taken or restored
 * (store/ca-snapshot.ts). `create` makes the SQLite file (the target of a copy to SQLite).
 */
export async function copyBetweenBackends(options: {
  readonly sqlite: { readonly path: string; readonly create: boolean; readonly where?: string };
  readonly postgres: PgTarget;
  readonly home: string;
  readonly to: 'sqlite' | 'postgres';
  readonly replace: boolean;
}): Promise<TableDigest[]> {
  const { SqliteInventory } = await import('./sqlite.js');
  const { PostgresInventory } = await import('./postgres.js');
  const { sqlite, postgres } = options;
  // The source first, so an unreachable database or a missing file leaves no target behind.
  const openSqlite = () => new SqliteInventory(sqlite.path, { create: sqlite.create });
  const openPostgres = () => new PostgresInventory(postgres, { home: options.home }); // connects, brings the schema to this version
  const first = options.to === 'sqlite' ? openPostgres() : openSqlite();
  try {
    const second = options.to === 'sqlite' ? openSqlite() : openPostgres();
    try {
      const [lite, pg] = (options.to === 'sqlite' ? [second, first] : [first, second]) as [InstanceType<typeof SqliteInventory>, InstanceType<typeof PostgresInventory>];
      const liteTables = sqliteTables(lite.database, sqlite.where ?? sqlite.path);
      const pgTables = postgresTables(pg.bridge, postgres.display);
      return options.to === 'sqlite' ? copyInventory(pgTables, liteTables, options) : copyInventory(liteTables, pgTables, options);
    } finally {
      second.close();
    }
  } finally {
    first.close();
  }
}
