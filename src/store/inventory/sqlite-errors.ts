/**
 * SQLite errors → one-line PkiErrors: busy after the timeout, a damaged file, a read-only folder or a full
 * disk, named as store/fs/atomic-write.ts names them for files.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { PkiError } from '../../core/errors.js';

/** How long a writer waits for another process's transaction before giving up (SQLITE_BUSY). */
export const BUSY_TIMEOUT_MS = 10_000;

/** SQLite error → one-line PkiError (busy after the timeout, a damaged file, a read-only folder). */
export function sqliteError(e: unknown, path: string): unknown {
  if (e instanceof PkiError || !(e instanceof Error)) return e;
  const code = (e as Error & { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new PkiError('ERR_INVENTORY_BUSY', `the inventory ${path} stayed locked by another pki process for ${BUSY_TIMEOUT_MS / 1000} s`, {
      hint: 'retry when the other pki command has finished',
      cause: e,
    });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new PkiError('ERR_INVENTORY_CORRUPT', `the inventory ${path} is damaged: ${e.message}`, {
      hint: 'move it aside and run "pki db rebuild" to recreate it from the certificates on disk',
      cause: e,
    });
  }
  if (code.startsWith('SQLITE_')) {
    return new PkiError('ERR_IO', `inventory ${path}: ${sqliteCause(e, code, path)}`, { cause: e });
  }
  return e;
}

/**
 * SQLite says "unable to open database file" or "disk I/O error" for a read-only mount, a folder the user
 * may not write and a full disk alike: name the cause, as atomic-write.ts does for files.
 */
function sqliteCause(e: Error, code: string, path: string): string {
  if (code === 'SQLITE_FULL') return 'no space left on the device';
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR')) {
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch (err) {
      const c = (err as NodeJS.ErrnoException).code;
      if (c === 'EROFS') return 'the file system is read-only';
      if (c === 'EACCES' || c === 'EPERM') return 'permission denied';
    }
    try {
      if (statfsSync(dirname(path)).bavail === 0) return 'no space left on the device';
    } catch {
      /* no statfs here: keep SQLite's words */
    }
  }
  return e.message;
}
