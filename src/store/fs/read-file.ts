/**
 * Reading files with one-line PkiErrors. Its own module (re-exported by ca-home.ts) so that commands
 * which only read a file, such as `pki inspect`, do not load the CA home and its zod config schema.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { PkiError } from '../../core/errors.js';
import { ioError } from './atomic-write.js';

/** Reads a UTF-8 file, mapping fs errors to one-line PkiErrors. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw ioError(e, 'read', path);
  }
}

/**
 * Reads a file; with `maxBytes`, refuses one that is larger (ERR_INPUT_TOO_LARGE) after reading at most
 * maxBytes + 1 bytes, so a huge file, a FIFO or /dev/zero costs no more memory than the cap.
 */
export function readBytes(path: string, options: { maxBytes?: number; what?: string } = {}): Buffer {
  const { maxBytes } = options;
  if (maxBytes === undefined) {
    try {
      return readFileSync(path);
    } catch (e) {
      throw ioError(e, 'read', path);
    }
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw ioError(e, 'read', path);
  }
  try {
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, maxBytes + 1 - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      total += n;
      if (total > maxBytes) {
        throw new PkiError('ERR_INPUT_TOO_LARGE', `${path} is larger than ${formatSize(maxBytes)}${options.what ? `, too large for ${options.what}` : ''}`, {
          hint: 'check that this is the right file',
        });
      }
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw ioError(e, 'read', path);
  } finally {
    closeSync(fd);
  }
}

function formatSize(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
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

/**
 * Reads a regular file without following a link at its last component (O_NOFOLLOW), and returns what it
 * read with the file's identity, so a writer can check that the name still holds that file. A link is
 * ERR_POLICY: a plain certificate file is renewed only by its own name (docs/security.md).
 */
export function readRegularFileNoFollow(path: string): { bytes: Buffer; dev: number; ino: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new PkiError('ERR_POLICY', `${path} is a symbolic link; pki renews a plain certificate file only at its own path, never through a link`, {
        hint: 'renew the file the link points to (the path pki sign --out wrote), or replace the link by the file',
      });
    }
    throw ioError(e, 'read', path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new PkiError('ERR_POLICY', `${path} is not a regular file`, { hint: 'name the certificate file' });
    return { bytes: readFileSync(fd), dev: st.dev, ino: st.ino };
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw ioError(e, 'read', path);
  } finally {
    closeSync(fd);
  }
}
