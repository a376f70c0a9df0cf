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
 * Bundle journals are `certs/..inventory-journal.json`, read and written holding the folder's `..lock`, so a
 * concurrent run never settles a journal whose writer is still at work. Plain files (renewal of a `pki sign
 * --out` file) have `.<name>.pki-journal.json` beside them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PkiError, isPkiError } from '../core/errors.js';
import { fsyncFolder, ioError, writeFileAtomic, type AtomicWriteOptions } from './atomic-write.js';
import { crashPoint } from './fault-injection.js';
import type { Inventory, NewCertificateRecord } from './inventory/index.js';
import { firstCertificateDer } from './inventory/record.js';
import { liveVersion, publishVersion, withFolderLock, type PublishOptions, type VersionFile } from './versioned-folder.js';

/** The journal of a versioned (bundle) folder. */
export const BUNDLE_JOURNAL = '..inventory-journal.json';
const FORMAT = 'pki-inventory-journal/1';

type Target = { readonly version: string } | { readonly fingerprintSha256: string };

interface Journal {
  readonly format: typeof FORMAT;
  readonly target: Target;
  readonly records: readonly NewCertificateRecord[];
}

/** What settling a leftover journal did, for the command to tell the operator. */
export interface SettledJournal {
  readonly journal: string;
  /** Serials recorded now (empty when all were recorded already, or when the switch never happened). */
  readonly recorded: readonly string[];
  /** True when the files it describes were never switched in: the journal was dropped. */
  readonly discarded: boolean;
}

export function bundleJournalPath(folder: string): string {
  return join(folder, BUNDLE_JOURNAL);
}

/** `.../web.crt` → `.../.web.crt.pki-journal.json`. */
export function fileJournalPath(certificatePath: string): string {
  return join(dirname(certificatePath), `.${basename(certificatePath)}.pki-journal.json`);
}

/** The journal's mode: it holds certificates only (public), but nobody but pki has a reason to read it. */
const JOURNAL_WRITE: AtomicWriteOptions = { mode: 0o600, overwrite: true };

function writeJournal(path: string, target: Target, records: readonly NewCertificateRecord[]): void {
  const journal: Journal = { format: FORMAT, target, records };
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

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown): boolean => v === null || v === undefined || typeof v === 'string';

function validRecord(r: unknown): r is NewCertificateRecord {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  const sans = o.sans as Record<string, unknown> | undefined;
  return (
    (o.kind === 'x509' || o.kind === 'ssh') &&
    [o.serial, o.subject, o.profile, o.issuer, o.notBefore, o.notAfter, o.fingerprintSha256, o.pem].every(isString) &&
    [o.certificatePath, o.keyPath, o.supersedes, o.keyId].every(isNullableString) &&
    typeof sans === 'object' &&
    sans !== null &&
    ['dns', 'ip', 'email', 'uri'].every((k) => Array.isArray(sans[k]))
  );
}

/** The journal at `path`, or null when there is none. A damaged one is refused, naming the file. */
function readJournal(path: string): Journal | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(e, 'read', path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const j = parsed as Partial<Journal> | null;
  const target = j?.target as Record<string, unknown> | undefined;
  if (
    !j ||
    j.format !== FORMAT ||
    typeof target !== 'object' ||
    target === null ||
    !(isString(target.version) || isString(target.fingerprintSha256)) ||
    !Array.isArray(j.records) ||
    !j.records.every(validRecord)
  ) {
    throw new PkiError('ERR_IO', `${path} is not a pki inventory journal (damaged or edited by hand)`, {
      hint: `move it aside, then run "pki db rebuild" to record the certificates on disk`,
    });
  }
  return j as Journal;
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

/** Settles a bundle folder's leftover journal; the caller holds the folder lock. */
function settleFolderLocked(folder: string, inventory: Inventory): SettledJournal | null {
  const path = bundleJournalPath(folder);
  const journal = readJournal(path);
  if (!journal) return null;
  const target = journal.target;
  if ('version' in target && liveVersion(folder) === target.version) {
    return { journal: path, recorded: commit(path, folder, journal.records, inventory), discarded: false };
  }
  removeJournal(path); // the switch never happened: the version folder was (or will be) removed as an orphan
  return { journal: path, recorded: [], discarded: true };
}

/** Cheap test for the no-op paths: one existsSync. */
export function hasBundleJournal(folder: string): boolean {
  return existsSync(bundleJournalPath(folder));
}

/**
 * Settles the leftover journal of a bundle folder, if any (recording what a killed run switched in but
 * did not record). Costs one existsSync when there is none; otherwise takes the folder lock.
 */
export function settleBundleJournal(folder: string, inventory: Inventory): SettledJournal | null {
  if (!hasBundleJournal(folder)) return null;
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
  const path = bundleJournalPath(folder);
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
            writeJournal(path, { version }, records);
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
    return createHash('sha256').update(firstCertificateDer(readFileSync(path))).digest('hex').toUpperCase();
  } catch {
    return null;
  }
}

/**
 * Settles the leftover journal beside a plain certificate file (`pki renew` of a `pki sign --out` file):
 * records its entry when the file holds the journal's certificate, drops it otherwise.
 */
export function settleFileJournal(certificatePath: string, inventory: Inventory): SettledJournal | null {
  const path = fileJournalPath(certificatePath);
  if (!existsSync(path)) return null;
  const journal = readJournal(path);
  if (!journal) return null;
  const target = journal.target;
  if ('fingerprintSha256' in target && fingerprintOfFile(certificatePath) === target.fingerprintSha256) {
    return { journal: path, recorded: commit(path, certificatePath, journal.records, inventory), discarded: false };
  }
  removeJournal(path);
  return { journal: path, recorded: [], discarded: true };
}

/**
 * Replaces a plain certificate file (one atomic rename of `realPath`, which `certificatePath` names or links
 * to) and records `record`, journaled beside `certificatePath`.
 */
export function replaceFileRecorded(
  certificatePath: string,
  realPath: string,
  content: string | Uint8Array,
  options: AtomicWriteOptions,
  record: NewCertificateRecord,
  inventory: Inventory,
): { settled: SettledJournal | null } {
  const settled = settleFileJournal(certificatePath, inventory);
  const path = fileJournalPath(certificatePath);
  writeJournal(path, { fingerprintSha256: record.fingerprintSha256 }, [record]);
  try {
    writeFileAtomic(realPath, content, options);
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
