/**
 * Versioned folders: the layout Kubernetes' AtomicWriter uses for Secret volumes
 * (kubernetes/pkg/volume/util/atomic_writer.go), so that a cert/key pair changes in one rename.
 *
 *   certs/
 *     ..2025_01_31_12_00_00.1a2b3c4d5e6f/   one version: the real files, with their modes and owners
 *     ..data -> ..2025_01_31_12_00_00.1a2b3c4d5e6f
 *     redis.crt -> ..data/redis.crt         the names services open
 *     redis.key -> ..data/redis.key
 *
 * Publishing a version: write every file of the new version into a fresh folder (fsync), point a temp
 * symlink at it, rename that over `..data` (the one atomic step), then drop the old version. A reader that
 * opens `redis.crt` and `redis.key` during the switch gets both from the old version or both from the new
 * one, provided it opens them through the public names (see docs/bundle-layout.md); a process killed at any step
 * leaves `..data` at a complete version. Leftovers of a killed run (temp links, unreferenced version
 * folders, dangling names) are removed by `recoverVersionedFolder`, which every writer runs first.
 *
 * Writers take `..lock` (store/fs/folder-lock.ts: O_EXCL file holding the pid; a lock whose pid is gone is
 * stale and taken over), so two pki processes never interleave versions of one folder.
 */
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  fsyncSync,
  chmodSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { fsyncFolder, ioError, TEMP_PREFIX } from './atomic-write.js';
import { crashPoint } from './fault-injection.js';
import { createExclusive, writeAll } from './exclusive-create.js';
import { staleLock, withFolderLock } from './folder-lock.js';

/** The lock moved to its own module (the CA home uses it too); importers of this one keep working. */
export { withFolderLock } from './folder-lock.js';

/** The symlink naming the live version. */
export const DATA_LINK = '..data';
const DATA_TMP = '..data_tmp';
/** `..2025_01_31_12_00_00.1a2b3c4d5e6f`: Kubernetes' timestamped names plus randomness (two runs in one second). */
const VERSION_NAME = /^\.\.\d{4}(?:_\d{2}){5}\.[0-9a-f]{12}$/;
const VERSION_FOLDER_MODE = 0o755;

/** One file of a version. */
export interface VersionFile {
  readonly name: string;
  readonly content: string | Uint8Array;
  /** Permission bits, applied exactly whatever the umask. */
  readonly mode: number;
  /** Owner and group to give the file (renewal keeps the old file's); unchanged when absent. */
  readonly uid?: number;
  readonly gid?: number;
}

export interface PublishOptions {
  /** Refuse with ERR_FILE_EXISTS, before writing anything, when one of the names already exists (generate without --force). */
  readonly noClobber: boolean;
  /** Carry the live version's other files into the new one unchanged (renewal of one pair in a bundle). */
  readonly keepOthers: boolean;
  /**
   * Called with the new version's folder name before the switch (once the version is complete and
   * fsynced), holding the lock: the inventory journal is written here (store/inventory/journal.ts).
   */
  readonly beforeSwitch?: (version: string) => void;
}

/** True when `folder` holds a `..data` link (a versioned folder). */
export function isVersionedFolder(folder: string): boolean {
  try {
    return lstatSync(join(folder, DATA_LINK)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The live version's folder name, or null. */
export function liveVersion(folder: string): string | null {
  try {
    const target = readlinkSync(join(folder, DATA_LINK));
    return VERSION_NAME.test(target) ? target : null;
  } catch {
    return null;
  }
}

/**
 * When `path` names a file of a versioned folder (its public link `certs/redis.crt`, or the same file
 * under `..data/` or a version folder), that folder and the file name; otherwise null.
 */
export function versionedEntry(path: string): { folder: string; name: string } | null {
  const abs = resolve(path);
  const name = basename(abs);
  const parent = dirname(abs);
  const parentName = basename(parent);
  if ((parentName === DATA_LINK || VERSION_NAME.test(parentName)) && isVersionedFolder(dirname(parent))) {
    return { folder: dirname(parent), name };
  }
  try {
    if (readlinkSync(abs) === `${DATA_LINK}/${name}` && isVersionedFolder(parent)) return { folder: parent, name };
  } catch {
    /* not a link */
  }
  return null;
}

/** Real path of a file in the live version. */
export function liveFilePath(folder: string, name: string): string {
  return join(folder, DATA_LINK, name);
}

function removeTree(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) removeTree(join(path, name));
    rmdirSync(path);
  } else {
    unlinkSync(path);
  }
}

/** What a killed run left behind: names to remove. Empty for a clean folder. */
function leftovers(folder: string): { orphans: string[]; dangling: string[]; plain: string[] } {
  const live = liveVersion(folder);
  const liveFiles = new Set<string>();
  if (live) {
    try {
      for (const n of readdirSync(join(folder, live))) liveFiles.add(n);
    } catch {
      /* unreadable: treat as empty */
    }
  }
  const orphans: string[] = [];
  const dangling: string[] = [];
  const plain: string[] = [];
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return { orphans, dangling, plain };
  }
  for (const name of names) {
    if (name === DATA_TMP || name.startsWith(TEMP_PREFIX) || (VERSION_NAME.test(name) && name !== live)) {
      orphans.push(name);
      continue;
    }
    if (name.startsWith('..')) continue;
    let st;
    try {
      st = lstatSync(join(folder, name));
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) {
      // A public link whose file is not in the live version: left by a publish killed before its cleanup.
      if (readlinkSync(join(folder, name)) === `${DATA_LINK}/${name}` && !liveFiles.has(name)) dangling.push(name);
    } else if (st.isFile() && live && liveFiles.has(name)) {
      // A plain file shadowing a live versioned one: a migration from the flat layout killed half-way.
      plain.push(name);
    }
  }
  return { orphans, dangling, plain };
}

function repair(folder: string): void {
  const { orphans, dangling, plain } = leftovers(folder);
  for (const name of orphans) removeTree(join(folder, name));
  for (const name of dangling) unlinkSync(join(folder, name));
  for (const name of plain) replaceWithLink(folder, name);
  if (orphans.length || dangling.length || plain.length) fsyncFolder(folder);
}

/**
 * Completes or discards what a killed writer left: temp links and files, version folders `..data` does not
 * name, public links to files the live version lacks, plain files a half-done migration left, a stale lock. Changes nothing (not even a lock file) in a clean
 * folder. Returns true when something was cleaned.
 */
export function recoverVersionedFolder(folder: string): boolean {
  const found = leftovers(folder);
  if (!found.orphans.length && !found.dangling.length && !found.plain.length && !staleLock(folder)) return false;
  try {
    withFolderLock(folder, () => repair(folder));
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw ioError(e, 'clean up', folder);
  }
  return true;
}

/** Replaces `folder/name` (a plain file or nothing) by the link `..data/name`, atomically (temp link + rename). */
function replaceWithLink(folder: string, name: string): void {
  const temp = join(folder, `${TEMP_PREFIX}${name}.${randomBytes(6).toString('hex')}`);
  symlinkSync(`${DATA_LINK}/${name}`, temp);
  renameSync(temp, join(folder, name));
}

function versionName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
  return `..${stamp}.${randomBytes(6).toString('hex')}`;
}

function writeVersionFile(path: string, file: VersionFile): void {
  const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
  const fd = createExclusive(path, file.mode, file);
  try {
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Links the new version's names, points `..data` at it (the one atomic step), then drops public links it lacks. */
function switchToVersion(folder: string, version: string, versionPath: string): void {
  const newNames = readdirSync(versionPath);
  // Names that do not exist yet get their link now: dangling (ENOENT to a reader, as before) until the switch.
  for (const name of newNames) {
    if (!exists(join(folder, name))) symlinkSync(`${DATA_LINK}/${name}`, join(folder, name));
  }
  crashPoint('version:linked-new');
  const tmp = join(folder, DATA_TMP);
  try {
    unlinkSync(tmp);
  } catch {
    /* none */
  }
  symlinkSync(version, tmp);
  crashPoint('version:link-tmp');
  renameSync(tmp, join(folder, DATA_LINK)); // the switch
  fsyncFolder(folder);
  crashPoint('version:swapped');
  // Migration from the flat layout: plain files become links, one rename each.
  for (const name of newNames) {
    if (lstatSync(join(folder, name)).isFile()) replaceWithLink(folder, name);
  }
  for (const name of readdirSync(folder)) {
    if (name.startsWith('..') || newNames.includes(name)) continue;
    const path = join(folder, name);
    try {
      if (lstatSync(path).isSymbolicLink() && readlinkSync(path) === `${DATA_LINK}/${name}`) unlinkSync(path);
    } catch {
      /* gone */
    }
  }
  fsyncFolder(folder);
  crashPoint('version:unlinked-old');
}

/**
 * Publishes `files` as the folder's new live version in one rename. With `keepOthers`, the live version's
 * other files are carried over as hard links (same inode: same bytes, mode and owner). Public links for new
 * names are added, links for names the new version lacks are removed, and the old version is deleted.
 * The folder must exist. Crash points: version:created, version:wrote:<name>, version:complete,
 * (beforeSwitch), version:linked-new, version:link-tmp, version:swapped, version:unlinked-old, version:removing-old.
 */
export function publishVersion(folder: string, files: readonly VersionFile[], options: PublishOptions, now = new Date()): void {
  withFolderLock(folder, () => {
    repair(folder);
    const names = new Set(files.map((f) => f.name));
    for (const name of names) {
      if (name.startsWith('.') || name.includes('/')) throw new Error(`bad file name in a version: ${name}`);
    }
    // Refusals before the first write.
    for (const name of names) {
      let st;
      try {
        st = lstatSync(join(folder, name));
      } catch {
        continue;
      }
      if (options.noClobber) {
        throw new PkiError('ERR_FILE_EXISTS', `${join(folder, name)} already exists`, { hint: 'pass --force to replace it' });
      }
      if (!st.isSymbolicLink() && !st.isFile()) {
        throw new PkiError('ERR_IO', `cannot replace ${join(folder, name)}: it is not a file`);
      }
    }
    const oldVersion = liveVersion(folder);
    const version = versionName(now);
    const versionPath = join(folder, version);
    try {
      mkdirSync(versionPath, { mode: VERSION_FOLDER_MODE });
      chmodSync(versionPath, VERSION_FOLDER_MODE); // exactly, whatever the umask
      crashPoint('version:created');
      for (const file of files) {
        writeVersionFile(join(versionPath, file.name), file);
        crashPoint(`version:wrote:${file.name}`);
      }
      if (options.keepOthers && oldVersion) {
        for (const name of readdirSync(join(folder, oldVersion))) {
          if (!names.has(name)) linkSync(join(folder, oldVersion, name), join(versionPath, name));
        }
      }
      fsyncFolder(versionPath);
      crashPoint('version:complete');
      options.beforeSwitch?.(version); // a failure here leaves only the new version folder, removed below
      switchToVersion(folder, version, versionPath);
    } catch (e) {
      // Before the switch the new version is an orphan; after it, the old one is. Either way recovery removes it.
      if (liveVersion(folder) !== version) removeTree(versionPath);
      if (e instanceof PkiError) throw e;
      throw ioError(e, 'write', folder);
    }
    if (oldVersion) {
      const oldPath = join(folder, oldVersion);
      const oldNames = readdirSync(oldPath);
      oldNames.forEach((name, i) => {
        unlinkSync(join(oldPath, name));
        if (i === 0) crashPoint('version:removing-old');
      });
      rmdirSync(oldPath);
      fsyncFolder(folder);
    }
  });
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Mode, owner and group of a live file (through the links), to keep them across a renewal. */
export function fileOwnership(path: string): { mode: number; uid: number; gid: number } {
  try {
    const st = statSync(path);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    throw ioError(e, 'read', path);
  }
}
