/**
 * Snapshots of a CA home (issue 14, point 5): before `pki ca renew` (and the rotations) changes the CA, a
 * timestamped copy of `ca/` (keys with their modes), `pki.json` and a consistent copy of the inventory goes
 * to `ca/snapshots/<time>/`; `pki ca rollback` puts all three back. The inventory copy is one SQLite file
 * whichever the backend: SQLite's own `VACUUM INTO` (consistent under concurrent writers), or PostgreSQL's
 * tables copied in one transaction (inventory/migrate.ts), restored the same way with the rows replaced.
 *
 *   ca/snapshots/20261203T091500Z/
 *     ca/…            every file of ca/ but snapshots/ and the root key, same relative paths and modes
 *
 * The root key is never copied: the operator moves ca/root_ca.key offline after the ceremony, and a copy
 * left in a snapshot would defeat that. A rollback leaves whatever ca/root_ca.key is there as it is (no
 * step that snapshots changes the root key).
 *     pki.json
 *     inventory.sqlite
 */
import { rootTransitionFiles } from './root-transition.js';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PkiError } from '../core/errors.js';
import { compactTimestamp } from '../core/time.js';
import type { CaHome } from './ca-home.js';
import { ioError, writeFileAtomic } from './fs/atomic-write.js';
import { ensureFolder, FileMode } from './fs/home-folder.js';
import { inventoryTarget } from './inventory/open.js';
import { copyBetweenBackends } from './inventory/migrate.js';

const INVENTORY_FILE = 'inventory.sqlite';

export interface CaSnapshot {
  readonly id: string;
  readonly path: string;
}

/** ca/root_ca.key, relative to ca/: kept out of snapshots, left alone by a rollback. */
const ROOT_KEY = 'root_ca.key';
/** Root keys are never copied into a snapshot nor removed by a restore: the root's, and the old root's during a root rotation. */
const isRootKey = (file: string) => file === ROOT_KEY || file.endsWith('/old_root_ca.key');

export function snapshotsDir(home: Pick<CaHome, 'caDir'>): string {
  return join(home.caDir, 'snapshots');
}

/** The files of ca/ (relative paths), snapshots/ left out, sorted. */
function caFiles(caDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join(caDir, 'snapshots')) walk(path);
      } else if (entry.isFile()) out.push(relative(caDir, path));
    }
  };
  walk(caDir);
  return out.sort();
}

/**
 * Rolling back a root rotation: the snapshot's root is the old one, whose key waits in ca/cross/ (never
 * in the snapshot). It goes back to ca/root_ca.key; the new root's key, of a rotation being undone, is
 * replaced by it.
 */
function putOldRootKeyBack(home: CaHome, snapshot: CaSnapshot): void {
  const { oldRootKeyPath, oldRootCertPath } = rootTransitionFiles(home.caDir);
  const snapshotRoot = join(snapshot.path, 'ca', 'root_ca.crt');
  if (!existsSync(oldRootKeyPath) || !existsSync(oldRootCertPath) || !existsSync(snapshotRoot)) return;
  if (readFileSync(snapshotRoot, 'utf8') !== readFileSync(oldRootCertPath, 'utf8')) return;
  renameSync(oldRootKeyPath, home.rootKeyPath);
}

/** Removes the folders below `caDir` (not snapshots/) that hold no file any more. */
function removeEmptyFolders(caDir: string): void {
  const walk = (dir: string): boolean => {
    let empty = true;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join(caDir, 'snapshots') && walk(path)) rmdirSync(path);
      else empty = false;
    }
    return empty;
  };
  walk(caDir);
}

function copyWithMode(from: string, to: string): void {
  ensureFolder(dirname(to), FileMode.privateFolder);
  const mode = statSync(from).mode & 0o777;
  writeFileAtomic(to, readFileSync(from), { mode, overwrite: true });
}

/** Takes a snapshot now; `now` names it (a second snapshot in the same second gets a suffix). */
export async function takeSnapshot(home: CaHome, now: Date): Promise<CaSnapshot> {
  const base = snapshotsDir(home);
  ensureFolder(base, FileMode.privateFolder);
  chmodSync(base, FileMode.privateFolder);
  let id = compactTimestamp(now);
  for (let n = 2; existsSync(join(base, id)); n++) id = `${compactTimestamp(now)}-${n}`;
  const path = join(base, id);
  const temp = `${path}.partial`;
  try {
    ensureFolder(temp, FileMode.privateFolder);
    for (const file of caFiles(home.caDir).filter((f) => !isRootKey(f))) copyWithMode(join(home.caDir, file), join(temp, 'ca', file));
    copyWithMode(home.configPath, join(temp, 'pki.json'));
    await copyInventoryOut(home, join(temp, INVENTORY_FILE));
    renameSync(temp, path); // a snapshot is there whole or not at all
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e instanceof PkiError ? e : ioError(e, 'snapshot', path);
  }
  return { id, path };
}

async function copyInventoryOut(home: CaHome, file: string): Promise<void> {
  const { SqliteInventory } = await import('./inventory/sqlite.js');
  const target = inventoryTarget(home);
  if (target === null) {
    if (!existsSync(home.dbPath)) return; // no inventory yet: nothing to keep
    const inventory = new SqliteInventory(home.dbPath, { create: false });
    try {
      inventory.copyTo(file);
    } finally {
      inventory.close();
    }
    chmodSync(file, FileMode.privateKey);
    return;
  }
  await copyBetweenBackends({ sqlite: { path: file, create: true }, postgres: target, home: (home.main ?? home).dir, to: 'sqlite', replace: false });
  chmodSync(file, FileMode.privateKey);
}

/** When the snapshot was finished: its folder's modification time (its last file written), to the millisecond. */
export function snapshotTakenAt(snapshot: CaSnapshot): Date {
  return statSync(snapshot.path).mtime;
}

/** The snapshots, oldest first. */
export function listSnapshots(home: CaHome): CaSnapshot[] {
  const base = snapshotsDir(home);
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d{8}T\d{6}Z(-\d+)?$/.test(e.name))
    .map((e) => ({ id: e.name, path: join(base, e.name) }))
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/**
 * Puts a snapshot back: the inventory first (the step that can fail on a database), then ca/ (files the
 * snapshot does not have are removed, snapshots/ kept) and pki.json.
 */
export async function restoreSnapshot(home: CaHome, snapshot: CaSnapshot): Promise<void> {
  const config = join(snapshot.path, 'pki.json');
  if (!existsSync(config)) throw new PkiError('ERR_USAGE', `${snapshot.path} is not a whole snapshot (no pki.json)`, { hint: 'choose another with --snapshot (pki ca rollback --list)' });
  await restoreInventory(home, snapshot);
  const kept = new Set(caFiles(join(snapshot.path, 'ca')));
  putOldRootKeyBack(home, snapshot);
  for (const file of caFiles(home.caDir)) if (!kept.has(file) && !isRootKey(file)) rmSync(join(home.caDir, file));
  removeEmptyFolders(home.caDir); // e.g. ca/retired/<key id>/ of a rotation rolled back
  for (const file of kept) copyWithMode(join(snapshot.path, 'ca', file), join(home.caDir, file));
  copyWithMode(config, home.configPath);
}

/** Into the inventory the home uses now (pki.json's and the snapshot's name the same one: no command switches it but db migrate). */
async function restoreInventory(home: CaHome, snapshot: CaSnapshot): Promise<void> {
  const file = join(snapshot.path, INVENTORY_FILE);
  if (!existsSync(file)) return;
  const target = inventoryTarget(home);
  if (target === null) {
    const temp = `${home.dbPath}.restoring`;
    copyFileSync(file, temp);
    chmodSync(temp, FileMode.privateKey);
    for (const suffix of ['-wal', '-shm']) rmSync(`${home.dbPath}${suffix}`, { force: true });
    renameSync(temp, home.dbPath);
    return;
  }
  await copyBetweenBackends({ sqlite: { path: file, create: false }, postgres: target, home: (home.main ?? home).dir, to: 'postgres', replace: true });
}
