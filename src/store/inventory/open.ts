/**
 * Opening the inventory of a CA home. The SQLite backend (a native module) is imported only here and
 * only when a command asks for the inventory, so `pki inspect` and `pki --version` never load it.
 *
 * Which backend (issue 14): PostgreSQL when PKI_DATABASE_URL is set or pki.json has `inventory.url`
 * (the variable wins, as PKI_DIR wins over the default home), else the embedded SQLite database
 * db/pki.sqlite. The `pg` driver is loaded only then, in the worker thread (pg-bridge.ts).
 */
import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { ioError } from '../fs/atomic-write.js';
import { ensureHomeFolder, FileMode } from '../fs/home-folder.js';
import type { Inventory } from './index.js';
import type { SqliteInventory } from './sqlite.js';
import type { PostgresInventory } from './postgres.js';
import { parsePgUrl, type PgTarget } from './pg-url.js';
import { compactTimestamp } from '../../core/time.js';

/**
 * What opening the inventory needs of the CA home (store/ca-home.ts CaHome is one): declared here, not
 * imported, so ca-home → inventory/index → inventory/open does not lead back to ca-home.
 */
export interface InventoryHome {
  readonly dir: string;
  /** A trust domain's home points at the home whose inventory (and pki.json) it shares (CaHome#main). */
  readonly main?: InventoryHome | null;
  readonly dbDir: string;
  readonly dbPath: string;
  requireInitialized(): void;
}

/** Where a home's inventory is: a PostgreSQL database, or (null) the SQLite file db/pki.sqlite. */
export function inventoryTarget(home: Pick<InventoryHome, 'dir' | 'main'>, env: NodeJS.ProcessEnv = process.env): PgTarget | null {
  if (home.main) return inventoryTarget(home.main, env);
  const fromEnv = env.PKI_DATABASE_URL;
  if (fromEnv !== undefined && fromEnv !== '') return parsePgUrl(fromEnv, 'PKI_DATABASE_URL', env);
  const configPath = join(home.dir, 'pki.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    return null; // no pki.json yet (init), or unreadable: the commands that read it report that
  }
  let url: unknown;
  try {
    url = (JSON.parse(text) as { inventory?: { url?: unknown } } | null)?.inventory?.url;
  } catch {
    return null; // invalid JSON: reported by the command's own readConfig
  }
  return typeof url === 'string' ? parsePgUrl(url, `${configPath}: inventory.url`, env) : null;
}

export type InventoryMode =
  /** The inventory must exist (every command but init and db rebuild). */
  | 'existing'
  /** Open it, creating an empty one when missing (`pki db rebuild`). */
  | 'create-if-missing'
  /** A fresh inventory; an existing one is kept aside as db/pki.sqlite.replaced-<time> (`pki init`); SSH records carry over. */
  | 'fresh';

/** Whether the home has an inventory: the SQLite file exists, or a PostgreSQL database is configured (whether it answers is learnt on opening). */
export function inventoryExists(home: InventoryHome): boolean {
  return inventoryTarget(home) !== null || existsSync(home.dbPath);
}

/** Throws ERR_INVENTORY_MISSING naming the fix, when a CA exists but its database does not. */
function missing(home: InventoryHome): PkiError {
  return new PkiError('ERR_INVENTORY_MISSING', `the CA in ${home.dir} has no inventory database (${home.dbPath} is missing)`, {
    hint: `run "pki db rebuild --dir ${home.dir}" to recreate it from the certificates on disk`,
  });
}

/** Opens the CA's inventory. The result is the backend behind the `Inventory` interface. */
export async function openInventory(
  home: InventoryHome,
  mode: InventoryMode = 'existing',
  now: Date = new Date(),
  /** With 'fresh' (`init --force`): the archived intermediate's fingerprint the old CA's valid leaves are carried over under (store/previous-ca.ts). */
  previousCa?: string | null,
): Promise<Inventory & Pick<SqliteInventory, 'path' | 'integrityCheck'>> {
  if (home.main) return openInventory(home.main, mode, now, previousCa);
  const target = inventoryTarget(home);
  if (target !== null) return openPostgres(home, target, mode);
  if (mode === 'existing') {
    home.requireInitialized();
    if (!inventoryExists(home)) throw missing(home);
  }
  const { SqliteInventory } = await import('./sqlite.js');
  ensureHomeFolder(home.dbDir, FileMode.privateFolder);
  const replaced = mode === 'fresh' && inventoryExists(home) ? moveAside(home, now, SqliteInventory) : undefined;
  const inventory = new SqliteInventory(home.dbPath, { create: mode !== 'existing' });
  // A new X.509 CA does not replace the OpenSSH CAs: their records and KRL version move to the new inventory.
  if (replaced) inventory.carryOver(replaced, 'ssh');
  // The replaced X.509 CA's valid leaves too, marked, so `pki renew --all` re-issues them under the new CA.
  if (replaced && previousCa) inventory.carryOverPreviousCa(replaced, previousCa);
  return inventory;
}

/**
 * The PostgreSQL inventory: connected (and its schema migrated) on opening, so an unreachable database is
 * one error here. A new CA (`pki init`, `--force` included) does not start on a shared database that
 * holds X.509 records: its CRLs would list another CA's revocations, and init --force does not clear a
 * shared database. SSH records (`pki ssh init` first) are no obstacle.
 */
async function openPostgres(home: InventoryHome, target: PgTarget, mode: InventoryMode): Promise<PostgresInventory> {
  if (mode === 'existing') home.requireInitialized();
  const { PostgresInventory } = await import('./postgres.js');
  const inventory = new PostgresInventory(target, { home: home.dir });
  if (mode === 'fresh') {
    try {
      refuseAnotherCa(inventory, target);
    } catch (e) {
      inventory.close();
      throw e;
    }
  }
  ensureHomeFolder(home.dbDir, FileMode.privateFolder); // the journals stay on this host
  return inventory;
}

function refuseAnotherCa(inventory: PostgresInventory, target: PgTarget): void {
  const held = inventory.countCertificates('x509');
  if (held > 0) {
    throw new PkiError('ERR_CA_EXISTS', `the PostgreSQL inventory ${target.display} already holds ${held} X.509 certificates of a CA; a new CA needs an inventory of its own`, {
      hint: 'point PKI_DATABASE_URL at a new, empty database (a second CA host copies the CA home instead of running init)',
    });
  }
}

/**
 * `pki init`, before anything is written: a PostgreSQL inventory is reached, migrated and found free of
 * another CA's certificates, so a bad URL, an unreachable database or a refused login leaves the home as
 * it was. Nothing to check for SQLite (its file is made by the init itself). Returns the database init
 * names in the new pki.json (`inventory.url`), so the home and its copies keep using it.
 */
export async function probeInventoryForInit(home: InventoryHome): Promise<PgTarget | null> {
  const target = inventoryTarget(home);
  if (target === null) return null;
  const { PostgresInventory } = await import('./postgres.js');
  const inventory = new PostgresInventory(target, { home: home.dir });
  try {
    refuseAnotherCa(inventory, target);
  } finally {
    inventory.close();
  }
  return target;
}

/**
 * Keeps the old inventory as db/pki.sqlite.replaced-<time>: a consistent single-file copy (VACUUM INTO
 * folds in the WAL), then the old files are removed. A damaged database is renamed as it is instead.
 */
function moveAside(home: InventoryHome, now: Date, Backend: typeof SqliteInventory): string {
  const target = `${home.dbPath}.replaced-${compactTimestamp(now)}`;
  let copied = false;
  try {
    const old = new Backend(home.dbPath, { create: false });
    try {
      old.copyTo(target);
      copied = true;
    } finally {
      old.close();
    }
  } catch {
    copied = false;
  }
  const remove = (path: string) => {
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, 'remove', path);
    }
  };
  if (!copied) {
    try {
      renameSync(home.dbPath, target);
      if (existsSync(`${home.dbPath}-wal`)) renameSync(`${home.dbPath}-wal`, `${target}-wal`);
    } catch (e) {
      throw ioError(e, 'move aside', home.dbPath);
    }
  }
  remove(home.dbPath);
  remove(`${home.dbPath}-wal`);
  remove(`${home.dbPath}-shm`);
  return target;
}
