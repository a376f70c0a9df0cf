/**
 * Opening the inventory of a CA home. The SQLite backend (a native module) is imported only here and
 * only when a command asks for the inventory, so `pki inspect` and `pki --version` never load it.
 */
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { PkiError } from '../../core/errors.js';
import { ioError } from '../fs/atomic-write.js';
import { ensureHomeFolder, FileMode } from '../fs/home-folder.js';
import type { Inventory } from './index.js';
import type { SqliteInventory } from './sqlite.js';
import { compactTimestamp } from '../../core/time.js';

/**
 * What opening the inventory needs of the CA home (store/ca-home.ts CaHome is one): declared here, not
 * imported, so ca-home → inventory/index → inventory/open does not lead back to ca-home.
 */
export interface InventoryHome {
  readonly dir: string;
  readonly dbDir: string;
  readonly dbPath: string;
  requireInitialized(): void;
}

export type InventoryMode =
  /** The inventory must exist (every command but init and db rebuild). */
  | 'existing'
  /** Open it, creating an empty one when missing (`pki db rebuild`). */
  | 'create-if-missing'
  /** A fresh inventory; an existing one is kept aside as db/pki.sqlite.replaced-<time> (`pki init`); SSH records carry over. */
  | 'fresh';

export function inventoryExists(home: InventoryHome): boolean {
  return existsSync(home.dbPath);
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
