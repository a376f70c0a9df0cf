/**
 * The inventory journal: files and inventory change together, even across a SIGKILL.
 *
 * Writing certificate files and recording them in the inventory are two steps in two places (a rename on
 * disk, a SQLite transaction), and no order of the two is safe on its own: record first and a crash leaves
 * a record for a certificate that was never deployed while the deployed one drops out of renewal; switch
 * first and a crash leaves new serials on disk that the inventory does not know, with the old ones still
 * `valid` at those paths. So the writer first makes its intent durable:
 *
 *   1. write the journal (temp file, fsync, rename, folder fsync): the records about to be recorded, and
 *      what identifies the files that carry them — for a bundle the version folder being published,
 *      for a plain file the certificate's SHA-256 fingerprint;                           journal:written
 *   2. switch the files (one rename);
 *   3. record the journal's records in the inventory (one transaction, serials already present skipped,
 *      `supersedes` and same-path records marked superseded);                            journal:recorded
 *   4. delete the journal.                                                               journal:removed
 *
 * Any later run that touches the files first settles a leftover journal: when the switch happened (`..data`
 * names the journal's version, or the file's fingerprint is the journal's), it records the entries — step 3
 * again, idempotent — and deletes the journal; when it did not, it just deletes the journal.
 *
 * Journals live in the CA home, `db/journal/` (0700, files 0600), where only pki writes — never beside the
 * certificates, whose folders a service account may own: a journal planted there would otherwise be
 * recorded in the inventory as if pki had issued it. The name is derived from the path the caller gives
 * (`bundle-<hash>.json` for a bundle folder, `file-<hash>.json` for a plain certificate file, hash =
 * SHA-256 of the path), and the journal names that path again inside: it is settled only for that path, and
 * only when its records are the certificates found there (the file's fingerprint, or the certificates of
 * the live version folder), each record's fingerprint being that of its own PEM.
 *
 * Bundle journals are read and written holding the folder's `..lock`, so a concurrent run never settles a
 * journal whose writer is still at work. Plain files are `pki renew` of a `pki sign --out` file.
  */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PkiError, isPkiError } from '../../core/errors.js';
import { fsyncFolder, ioError, writeFileAtomic, type AtomicWriteOptions } from '../fs/atomic-write.js';
import { crashPoint } from '../fs/fault-injection.js';
import type { Inventory, NewCertificateRecord } from './index.js';
import { firstCertificateDer } from './record.js';
import { sha256Fingerprint } from '../../core/x509/fingerprint.js';
import { liveVersion, publishVersion, withFolderLock, type PublishOptions, type VersionFile } from '../fs/versioned-folder.js';
import { bundleJournalPath, fileJournalPath, FORMAT, readJournal, type Journal, type JournalHome, type Target } from './journal-file.js';

/** Where journals live moved to journal-file.ts with their format; importers of this module keep working. */
export { bundleJournalPath, fileJournalPath, journalFolder } from './journal-file.js';

/** What settling a leftover journal did, for the command to tell the operator. */
export interface SettledJournal {
  readonly journal: string;
  /** Serials recorded now (empty when all were recorded already, or when the switch never happened). */
  readonly recorded: readonly string[];
  /** True when the files it describes were never switched in: the journal was dropped. */
  readonly discarded: boolean;
}

/** The journal's mode: it holds certificates only (public), but nobody but pki has a reason to read it. */
const JOURNAL_WRITE: AtomicWriteOptions = { mode: 0o600, overwrite: true };

function writeJournal(path: string, target: Target, records: readonly NewCertificateRecord[]): void {
  const journal: Journal = { format: FORMAT, target, records };
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError(e, 'create folder', dirname(path));
  }
  writeFileAtomic(path, `${JSON.stringify(journal)}\n`, JOURNAL_WRITE); // temp + fsync + rename + folder fsync
  crashPoint('journal:written');
}

function removeJournal(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, 'remove', path);
    return;
  }
  fsyncFolder(dirname(path));
  crashPoint('journal:removed');
}

/**
 * Step 3: the records, in one transaction, skipping serials the inventory has already (a journal settled
 * twice, or by a run that died after the commit). Returns the serials recorded now.
 */
function recordOnce(inventory: Inventory, records: readonly NewCertificateRecord[]): string[] {
  return inventory.exclusive(() => {
    const missing = records.filter((r) => inventory.find(r.kind, r.serial) === undefined);
    inventory.recordIssued(missing);
    return missing.map((r) => r.serial);
  });
}

/** Steps 3 and 4 after a switch; the journal stays (and says so) when the inventory refuses. */
function commit(path: string, what: string, records: readonly NewCertificateRecord[], inventory: Inventory): string[] {
  let recorded: string[];
  try {
    recorded = recordOnce(inventory, records);
  } catch (e) {
    const cause = e instanceof Error ? e.message : String(e);
    throw new PkiError(isPkiError(e) ? e.code : 'ERR_IO', `${what} now holds the new certificates, but the inventory did not record them: ${cause}`, {
      hint: `the next pki generate/renew of it, or "pki db rebuild", records them from ${path}`,
      cause: e,
    });
  }
  crashPoint('journal:recorded');
  removeJournal(path);
  return recorded;
}

/** The record's PEM is the certificate its fingerprint names (a journal edited by hand is not recorded). */
function selfConsistent(record: NewCertificateRecord): boolean {
  try {
    return sha256Fingerprint(firstCertificateDer(record.pem)) === record.fingerprintSha256;
  } catch {
    return false;
  }
}

/** Fingerprints of the certificates in a version folder (key files and other files are skipped). */
function versionFingerprints(folder: string, version: string): Set<string> {
  const out = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(join(folder, version));
  } catch {
    return out;
  }
  for (const name of names) {
    const fingerprint = fingerprintOfFile(join(folder, version, name));
    if (fingerprint) out.add(fingerprint);
  }
  return out;
}

/** Settles a bundle folder's leftover journal; the caller holds the folder lock. */
function settleFolderLocked(folder: string, inventory: Inventory): SettledJournal | null {
  const path = bundleJournalPath(folder, inventory);
  const journal = readJournal(path);
  if (!journal) return null;
  const target = journal.target;
  // Accepted only for this folder, its live version, and records that are the certificates in that version.
  if ('version' in target && target.folder === folder && liveVersion(folder) === target.version) {
    const live = versionFingerprints(folder, target.version);
    if (journal.records.every((r) => selfConsistent(r) && live.has(r.fingerprintSha256))) {
      return { journal: path, recorded: commit(path, folder, journal.records, inventory), discarded: false };
    }
  }
  removeJournal(path); // the switch never happened: the version folder was (or will be) removed as an orphan
  return { journal: path, recorded: [], discarded: true };
}

/** Cheap test for the no-op paths: one existsSync. `inventory` may be anything naming the database file. */
export function hasBundleJournal(folder: string, inventory: JournalHome): boolean {
  return existsSync(bundleJournalPath(folder, inventory));
}

/**
 * Settles the leftover journal of a bundle folder, if any (recording what a killed run switched in but
 * did not record). Costs one existsSync when there is none; otherwise takes the folder lock.
 */
export function settleBundleJournal(folder: string, inventory: Inventory): SettledJournal | null {
  if (!hasBundleJournal(folder, inventory)) return null;
  return withFolderLock(folder, () => settleFolderLocked(folder, inventory));
}

/**
 * Publishes `files` as the folder's new version and records `records` in the inventory, journaled: a
 * leftover journal is settled first, then the journal is written, the version switched, the records
 * committed and the journal deleted, all holding the folder lock.
 */
export function publishVersionRecorded(
  folder: string,
  files: readonly VersionFile[],
  options: Omit<PublishOptions, 'beforeSwitch'>,
  records: readonly NewCertificateRecord[],
  inventory: Inventory,
  now?: Date,
): { settled: SettledJournal | null } {
  const path = bundleJournalPath(folder, inventory);
  return withFolderLock(folder, () => {
    const settled = existsSync(path) ? settleFolderLocked(folder, inventory) : null;
    let journaled = false;
    try {
      publishVersion(
        folder,
        files,
        {
          ...options,
          beforeSwitch: (version) => {
            writeJournal(path, { folder, version }, records);
            journaled = true;
          },
        },
        now,
      );
    } catch (e) {
      // Failed (not killed) around the switch: settle now — record if the new version went live, drop the
      // journal if not. If even that fails, the journal stays for the next run.
      if (journaled) {
        try {
          settleFolderLocked(folder, inventory);
        } catch {
          /* left for the next run */
        }
      }
      throw e;
    }
    commit(path, folder, records, inventory);
    return { settled };
  });
}

function fingerprintOfFile(path: string): string | null {
  try {
    return sha256Fingerprint(firstCertificateDer(readFileSync(path)));
  } catch {
    return null;
  }
}

/**
 * Settles the leftover journal of a plain certificate file (`pki renew` of a `pki sign --out` file):
 * records its entry when the journal is this file's and the file holds the journal's certificate, drops
 * it otherwise. Nothing beside the file is read: a journal planted there is not pki's.
 */
export function settleFileJournal(certificatePath: string, inventory: Inventory): SettledJournal | null {
  const path = fileJournalPath(certificatePath, inventory);
  if (!existsSync(path)) return null;
  const journal = readJournal(path);
  if (!journal) return null;
  const target = journal.target;
  const [record, ...more] = journal.records;
  if (
    'fingerprintSha256' in target &&
    target.path === certificatePath &&
    record !== undefined &&
    more.length === 0 &&
    record.fingerprintSha256 === target.fingerprintSha256 &&
    selfConsistent(record) &&
    fingerprintOfFile(certificatePath) === target.fingerprintSha256
  ) {
    return { journal: path, recorded: commit(path, certificatePath, journal.records, inventory), discarded: false };
  }
  removeJournal(path);
  return { journal: path, recorded: [], discarded: true };
}

/** The file a run read, by identity: a different file (or a link) there at write time is refused. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

export function fileIdentity(path: string): FileIdentity & { readonly symlink: boolean; readonly regular: boolean } {
  try {
    const st = lstatSync(path);
    return { dev: st.dev, ino: st.ino, symlink: st.isSymbolicLink(), regular: st.isFile() };
  } catch (e) {
    throw ioError(e, 'read', path);
  }
}

function assertSameFile(path: string, expected: FileIdentity): void {
  const now = fileIdentity(path);
  if (!now.regular || now.dev !== expected.dev || now.ino !== expected.ino) {
    throw new PkiError('ERR_POLICY', `${path} was replaced${now.symlink ? ' by a symbolic link' : ''} while pki renew ran; nothing was written`, {
      hint: 'find out who changed it, then run pki renew again',
    });
  }
}

/**
 * Replaces a plain certificate file and records `record`, journaled in `db/journal/`. `writePath` is where
 * the bytes go (the caller resolved its folder once, at the start); it must still be the regular file
 * `expected` that was read — a link swapped in is refused, and the rename replaces the name itself, so
 * nothing is ever written through a link. `certificatePath` is the path as recorded.
 */
export function replaceFileRecorded(
  certificatePath: string,
  writePath: string,
  content: string | Uint8Array,
  options: AtomicWriteOptions,
  record: NewCertificateRecord,
  inventory: Inventory,
  expected: FileIdentity,
): { settled: SettledJournal | null } {
  const settled = settleFileJournal(certificatePath, inventory);
  assertSameFile(writePath, expected);
  const path = fileJournalPath(certificatePath, inventory);
  writeJournal(path, { path: certificatePath, fingerprintSha256: record.fingerprintSha256 }, [record]);
  try {
    writeFileAtomic(writePath, content, options);
  } catch (e) {
    // Nothing was replaced (writeFileAtomic removes its temp file): the journal goes too.
    try {
      removeJournal(path);
    } catch {
      /* a stale journal whose fingerprint no file has is dropped by the next run */
    }
    throw e;
  }
  commit(path, certificatePath, [record], inventory);
  return { settled };
}

/** One line for the operator about a settled journal. */
export function describeSettled(s: SettledJournal): string {
  if (s.discarded) return `removed ${s.journal}, left by a pki run killed before it switched files (nothing had changed)`;
  return s.recorded.length
    ? `completed a pki run killed after it switched files: recorded serial${s.recorded.length > 1 ? 's' : ''} ${s.recorded.join(', ')} in the inventory (from ${s.journal})`
    : `removed ${s.journal}, left by a pki run killed after it had recorded its certificates`;
}
