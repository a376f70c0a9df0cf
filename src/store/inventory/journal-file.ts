/**
 * The inventory journal's file: its format, where each one lives (`db/journal/`, named by a hash of the
 * path it is about) and how a journal is read back and checked. Writing and settling journals, the
 * protocol itself, is store/inventory/journal.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { ioError } from '../fs/atomic-write.js';
import type { Inventory, NewCertificateRecord } from './index.js';

export const FORMAT = 'pki-inventory-journal/2';

/** What the journal is about: a bundle folder's version, or a plain file's certificate. `path` as the caller named it. */
export type Target = { readonly folder: string; readonly version: string } | { readonly path: string; readonly fingerprintSha256: string };

export interface Journal {
  readonly format: typeof FORMAT;
  readonly target: Target;
  readonly records: readonly NewCertificateRecord[];
}

/** `journalDir`: a backend whose `path` is not a file in the CA home's db/ (PostgreSQL: a URL) names the folder. */
export type JournalHome = Pick<Inventory, 'path'> & { readonly journalDir?: string };

/** `db/journal/` beside the inventory database (or the CA home's db/journal/ for PostgreSQL): inside the CA home, where only pki writes. */
export function journalFolder(inventory: JournalHome): string {
  return inventory.journalDir ?? join(dirname(inventory.path), 'journal');
}

const pathKey = (path: string) => createHash('sha256').update(path, 'utf8').digest('hex').slice(0, 32);

/** The journal of a versioned (bundle) folder: `db/journal/bundle-<hash of the folder path>.json`. */
export function bundleJournalPath(folder: string, inventory: JournalHome): string {
  return join(journalFolder(inventory), `bundle-${pathKey(folder)}.json`);
}

/** The journal of a plain certificate file: `db/journal/file-<hash of the file path>.json`. */
export function fileJournalPath(certificatePath: string, inventory: JournalHome): string {
  return join(journalFolder(inventory), `file-${pathKey(certificatePath)}.json`);
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
    [o.certificatePath, o.keyPath, o.supersedes, o.keyId, o.profileName, o.ca, o.trustDomain, o.issuerKeyId].every(isNullableString) &&
    typeof sans === 'object' &&
    sans !== null &&
    ['dns', 'ip', 'email', 'uri'].every((k) => Array.isArray(sans[k]))
  );
}

/** The journal at `path`, or null when there is none. A damaged one is refused, naming the file. */
export function readJournal(path: string): Journal | null {
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
    !((isString(target.folder) && isString(target.version)) || (isString(target.path) && isString(target.fingerprintSha256))) ||
    !Array.isArray(j.records) ||
    !j.records.every(validRecord)
  ) {
    throw new PkiError('ERR_IO', `${path} is not a pki inventory journal (damaged or edited by hand)`, {
      hint: `move it aside, then run "pki db rebuild" to record the certificates on disk`,
    });
  }
  return j as Journal;
}
