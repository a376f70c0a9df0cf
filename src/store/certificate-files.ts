/**
 * The files `pki check` reads: the certificate files the inventory records (compared with the record by
 * the SHA-256 of their first certificate, without parsing it) and the files under `--path` (walked
 * recursively for *.crt *.pem *.cer). Parsing stays in core/ (core/x509/certificate-file.ts).
 */
import * as crypto from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../core/errors.js';
import { ioError } from './fs/atomic-write.js';
import { TEMP_PREFIX } from './fs/atomic-write.js';

/** What --path watches: certificate files by their usual extensions (as x509-certificate-exporter's globs are typically written). */
const CERTIFICATE_FILE = /\.(crt|pem|cer)$/i;

export interface PathFiles {
  /** Every file to read, in walk order (sorted names, folders depth-first); `explicit`: named by --path itself. */
  readonly files: { path: string; explicit: boolean }[];
  /** Entries of walked folders that could not be listed or stat'ed. */
  readonly unreadable: { path: string; message: string }[];
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'EACCES' ? 'permission denied' : err.code === 'ENOENT' ? 'no such file' : (err.code ?? err.message);
}

/**
 * The files named by --path: a file as it is (whatever its name), a folder walked recursively for
 * certificate files. Symbolic links to files are followed (Let's Encrypt's live/ folder, /etc/ssl/certs);
 * links to folders are not (no loops), and names starting with `..` or pki's temp prefix are skipped (the
 * versioned bundle layout's own entries: its files are links into them). A --path that does not exist or
 * cannot be read is ERR_FILE_NOT_FOUND / ERR_IO: the operator named it, so it is an error, not a note.
 */
export function collectPathFiles(paths: readonly string[]): PathFiles {
  const files: PathFiles['files'] = [];
  const unreadable: PathFiles['unreadable'] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      unreadable.push({ path: dir, message: `cannot list the folder: ${describe(e)}` });
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('..') || entry.name.startsWith(TEMP_PREFIX)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (CERTIFICATE_FILE.test(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && isFileBehindLink(path, unreadable)))) files.push({ path, explicit: false });
    }
  };
  for (const given of paths) {
    let stat;
    try {
      stat = statSync(given);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new PkiError('ERR_FILE_NOT_FOUND', `--path ${given} does not exist`, { hint: 'give an existing certificate file or folder' });
      }
      throw ioError(e, 'read', given);
    }
    if (stat.isDirectory()) {
      try {
        readdirSync(given);
      } catch (e) {
        throw ioError(e, 'read', given);
      }
      walk(given);
    } else files.push({ path: given, explicit: true });
  }
  return { files, unreadable };
}

function isFileBehindLink(path: string, unreadable: PathFiles['unreadable']): boolean {
  try {
    return statSync(path).isFile();
  } catch (e) {
    unreadable.push({ path, message: `a link whose target cannot be read: ${describe(e)}` });
    return false;
  }
}

/** A --path file's bytes, or why they cannot be read (a note, not an error: one bad file must not hide the others). */
export function readPathFile(path: string): { bytes: Buffer } | { error: string } {
  try {
    return { bytes: readFileSync(path) };
  } catch (e) {
    return { error: `cannot read it: ${describe(e)}` };
  }
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/**
 * The DER of the first certificate in a file's bytes, found without a PEM parser (a chain file's leaf;
 * a DER file is the certificate itself). Null when there is no CERTIFICATE block.
 */
export function firstCertificateBytes(bytes: Buffer): Buffer | null {
  const head = bytes.subarray(0, 4096).toString('latin1');
  if (!head.includes('-----BEGIN ')) return bytes;
  const text = bytes.toString('latin1');
  const start = text.indexOf(BEGIN);
  if (start < 0) return null;
  const end = text.indexOf(END, start);
  if (end < 0) return null;
  // Buffer's base64 decoder skips the line breaks and stops at the padding.
  return Buffer.from(text.slice(start + BEGIN.length, end), 'base64');
}

export type RecordedFile =
  | { readonly status: 'same' }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly message: string }
  /** `der`: the first certificate the file holds now (null: none), for the note. */
  | { readonly status: 'replaced'; readonly der: Buffer | null };

/** One-shot SHA-256 (crypto.hash, Node 20.12+; createHash before), upper-case hex as the inventory stores it. */
const sha256Hex: (data: Buffer) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: Buffer, enc: string): string }).hash('sha256', data, 'hex').toUpperCase()
    : (data) => crypto.createHash('sha256').update(data).digest('hex').toUpperCase();

/** Reused by every comparison: a certificate file (PEM chain included) fits; a larger file is read whole. */
const scratch = Buffer.alloc(64 * 1024);

/**
 * A recorded file's bytes in three system calls (open, read, close) instead of readFileSync's five: this
 * runs once per inventory record, 100,000 times in a large CA (docs/performance.md, W6).
 */
function readSmallFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, scratch, 0, scratch.length, 0);
    return n < scratch.length ? scratch.subarray(0, n) : readFileSync(path);
  } finally {
    closeSync(fd);
  }
}

/** The file pki recorded for a certificate, compared with the record's SHA-256 fingerprint (upper-case hex). */
export function compareRecordedFile(path: string, fingerprintSha256: string): RecordedFile {
  let bytes: Buffer;
  try {
    bytes = readSmallFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    return { status: 'unreadable', message: describe(e) };
  }
  const der = firstCertificateBytes(bytes);
  if (der === null) return { status: 'replaced', der: null };
  // `der` may share the scratch buffer (a DER file): copy it before the next read reuses it.
  return sha256Hex(der) === fingerprintSha256 ? { status: 'same' } : { status: 'replaced', der: Buffer.from(der) };
}
