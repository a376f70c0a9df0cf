/**
 * `pki db migrate --to postgres://… | sqlite` (issue 14): the home's inventory copied whole to the other
 * backend (store/inventory/migrate.ts: one transaction each side, counts and checksums compared), then the
 * home switched to it in pki.json (`inventory.url` set or removed). Until the switch nothing of the home
 * changes, so a refused or failed copy leaves the home on its old inventory. The old SQLite file is kept
 * beside the new one (db/pki.sqlite.migrated-<time>), never deleted; a PostgreSQL database left behind is
 * the operator's to drop.
 *
 * Writes made while the copy runs on another host or by `pki serve` would be lost with the switch: the
 * guide (docs/operations.md "Moving an inventory") stops them first.
 */
import { PkiError } from '../core/errors.js';
import { compactTimestamp } from '../core/time.js';
import { fileExists as existsSync, type CaHome } from '../store/ca-home.js';
import { removeIfPresent } from '../store/fs/paths.js';
import { inventoryTarget } from '../store/inventory/open.js';
import { isPostgresUrl, parsePgUrl, type PgTarget } from '../store/inventory/pg-url.js';
import { copyBetweenBackends, moveInventoryFile as move, writeInventoryUrl, type TableDigest } from '../store/inventory/migrate.js';

export interface DbMigrateRequest {
  /** `sqlite`, or a postgres:// URL without a password. */
  readonly to: string;
  /** Replace a target that holds records (PostgreSQL) or an existing db/pki.sqlite (kept aside). */
  readonly force: boolean;
  readonly now: Date;
}

export interface DbMigrateResult {
  readonly from: string;
  readonly to: string;
  readonly tables: readonly TableDigest[];
  /** The old SQLite file, kept under a new name; or an existing db/pki.sqlite that --force set aside. */
  readonly keptAs: string | null;
  /** PKI_DATABASE_URL still names a PostgreSQL database, which wins over the SQLite file just written. */
  readonly environmentOverrides: boolean;
}

export async function migrateInventory(home: CaHome, request: DbMigrateRequest): Promise<DbMigrateResult> {
  home.requireInitialized();
  const current = inventoryTarget(home);
  if (request.to === 'sqlite') {
    if (current === null) throw new PkiError('ERR_USAGE', `the inventory of ${home.dir} is SQLite already (${home.dbPath})`, { hint: 'give --to postgres://… to move it to PostgreSQL' });
    return toSqlite(home, current, request);
  }
  if (!isPostgresUrl(request.to)) throw new PkiError('ERR_USAGE', `--to must be "sqlite" or a postgres:// URL, not "${request.to}"`);
  const target = parsePgUrl(request.to, '--to');
  if (current !== null) {
    throw new PkiError('ERR_USAGE', `the inventory of ${home.dir} is on PostgreSQL already (${current.display})`, {
      hint: 'to move it to another database, migrate it to sqlite first and then to the new URL',
    });
  }
  return toPostgres(home, target, request);
}

async function toPostgres(home: CaHome, target: PgTarget, request: DbMigrateRequest): Promise<DbMigrateResult> {
  if (!existsSync(home.dbPath)) throw new PkiError('ERR_INVENTORY_MISSING', `${home.dbPath} is missing: there is no inventory to migrate`, { hint: `run "pki db rebuild --dir ${home.dir}" first` });
  const tables = await copyBetweenBackends({ sqlite: { path: home.dbPath, create: false }, postgres: target, home: home.dir, to: 'postgres', replace: request.force });
  writeInventoryUrl(home.configPath, target.display);
  // Closed cleanly, the database is one file (no -wal): kept under a name no command opens.
  const keptAs = `${home.dbPath}.migrated-${compactTimestamp(request.now)}`;
  move(home.dbPath, keptAs);
  return { from: home.dbPath, to: target.display, tables, keptAs, environmentOverrides: false };
}

async function toSqlite(home: CaHome, current: PgTarget, request: DbMigrateRequest): Promise<DbMigrateResult> {
  if (existsSync(home.dbPath) && !request.force) {
    throw new PkiError('ERR_FILE_EXISTS', `${home.dbPath} exists (an older SQLite inventory?)`, { hint: 'move it away, or add --force to keep it aside as pki.sqlite.replaced-<time>' });
  }
  const stamp = compactTimestamp(request.now);
  // Written under a temporary name and moved into place only once it checks out.
  const temp = `${home.dbPath}.migrating-${stamp}`;
  let tables: TableDigest[];
  try {
    tables = await copyBetweenBackends({ sqlite: { path: temp, create: true, where: home.dbPath }, postgres: current, home: home.dir, to: 'sqlite', replace: false });
  } catch (e) {
    for (const suffix of ['', '-wal', '-shm']) removeIfPresent(`${temp}${suffix}`); // a failed copy leaves nothing behind
    throw e;
  }
  let keptAs: string | null = null;
  if (existsSync(home.dbPath)) {
    keptAs = `${home.dbPath}.replaced-${stamp}`;
    move(home.dbPath, keptAs);
  }
  move(temp, home.dbPath);
  writeInventoryUrl(home.configPath, null);
  return { from: current.display, to: home.dbPath, tables, keptAs, environmentOverrides: inventoryTarget(home) !== null };
}
