/**
 * Atomic file writes: a temp file in the same folder, created with its final mode (O_EXCL, so a key is
 * never world-readable for an instant), fsync, then rename (replace) or link (no-clobber), then fsync of
 * the folder so the new name survives a power loss.
 */
import { closeSync, constants, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { crashPoint } from './fault-injection.js';
import { createExclusive, writeAll } from './exclusive-create.js';

export interface AtomicWriteOptions {
  /** Final permission bits, e.g. 0o600 for private keys. Applied exactly, whatever the umask. */
  readonly mode: number;
  /** Replace an existing file; without it an existing file is an ERR_FILE_EXISTS refusal. */
  readonly overwrite: boolean;
  /** Group id to give the file (`--group`); owner unchanged. */
  readonly gid?: number;
  /** Owner to give the file (renewal keeps the old file's owner); changed only when it differs. */
  readonly uid?: number;
}

/** Prefix of every temp file pki creates, so a later run can find and remove orphans. */
export const TEMP_PREFIX = '.pki-tmp-';

/** Maps a Node fs error to a one-line PkiError naming the path. */
export function ioError(e: unknown, action: string, path: string): PkiError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') {
    return new PkiError('ERR_FILE_EXISTS', `${path} already exists`, { hint: 'pass --force to replace it' });
  }
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'ENOSPC'
        ? 'no space left on the device'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : code === 'ENOENT'
            ? 'no such file or folder'
            : code === 'EDQUOT'
              ? 'disk quota exceeded'
              : ((e as Error).message ?? String(e));
  return new PkiError(code === 'ENOENT' && action === 'read' ? 'ERR_FILE_NOT_FOUND' : 'ERR_IO', `cannot ${action} ${path}: ${why}`, { cause: e });
}

export function fsyncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * What a file is written from: text, bytes, or bytes in pieces (written in order, never concatenated in
 * memory: `pki check --prometheus` writes ~100 MB of textfile made of 400,000 pieces shared by its families).
 */
export type FileData = string | Uint8Array | readonly Uint8Array[];

/** IOV_MAX on Linux and the BSDs: the most pieces one writev takes. */
const IOV_MAX = 1024;

/** Writes every piece in order with writev, IOV_MAX at a time, resuming after a short write. */
function writePieces(fd: number, pieces: readonly Uint8Array[]): void {
  for (let start = 0; start < pieces.length; start += IOV_MAX) {
    const batch = pieces.slice(start, start + IOV_MAX);
    let left = batch.reduce((n, p) => n + p.length, 0);
    let written = writevSync(fd, batch);
    let i = 0;
    while (written < left) {
      left -= written;
      while (written >= batch[i]!.length) written -= batch[i++]!.length;
      batch[i] = batch[i]!.subarray(written);
      written = writevSync(fd, batch.slice(i));
    }
  }
}

/** Temp file beside `path`, written with its final mode and fsynced; the caller places or removes it. */
function writeTemp(path: string, data: FileData, options: AtomicWriteOptions): string {
  const temp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = createExclusive(temp, options.mode, options);
    if (Array.isArray(data)) writePieces(fd, data);
    else writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : (data as Uint8Array));
    crashPoint(`write:${basename(path)}`);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    return temp;
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    removeQuietly(temp);
    if (e instanceof PkiError) throw e;
    throw ioError(e, 'write', path);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** rename (replace) or link + unlink (no-clobber: EEXIST instead of replacing, atomically). */
function placeTemp(temp: string, path: string, overwrite: boolean): void {
  if (overwrite) {
    renameSync(temp, path);
  } else {
    linkSync(temp, path);
    unlinkSync(temp);
  }
}

/** Writes `data` to `path` atomically. Throws ERR_FILE_EXISTS (without overwrite) or ERR_IO. */
export function writeFileAtomic(path: string, data: FileData, options: AtomicWriteOptions): void {
  writeFilesAtomicSync([{ path, data }], options);
}

/**
 * Several files replaced together: every temp file is written and fsynced before the first rename, so a
 * full disk or a permission error on any of them leaves all the old files in place (a CRL's PEM and DER
 * copies never disagree because one of two writes failed). A kill between the renames can still split
 * them; the next publication rewrites both.
 */
export function writeFilesAtomicSync(files: readonly { path: string; data: FileData }[], options: AtomicWriteOptions): void {
  const temps: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const file of files) temps.push(writeTemp(file.path, file.data, options));
    files.forEach((file, i) => {
      current = file.path;
      placeTemp(temps[i]!, file.path, options.overwrite);
      temps[i] = '';
    });
    for (const folder of new Set(files.map((f) => dirname(f.path)))) fsyncFolder(folder);
  } catch (e) {
    for (const temp of temps) if (temp) removeQuietly(temp);
    if (e instanceof PkiError) throw e;
    throw ioError(e, 'write', current);
  }
}
