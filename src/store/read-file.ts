/**
 * Reading files with one-line PkiErrors. Its own module (re-exported by ca-home.ts) so that commands
 * which only read a file, such as `pki inspect`, do not load the CA home and its zod config schema.
 */
import { readFileSync, statSync } from 'node:fs';
import { ioError } from './atomic-write.js';

/** Reads a UTF-8 file, mapping fs errors to one-line PkiErrors. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw ioError(e, 'read', path);
  }
}

export function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw ioError(e, 'read', path);
  }
}

export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True for an existing regular file (after links): how revoke tells a certificate file from a serial. */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
