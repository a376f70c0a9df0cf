/**
 * Atomic writes of many files at once (`pki sign --out-dir` with a thousand requests). Each file is still
 * temp + fsync + rename/link, as in atomic-write.ts, but the temp files are written and fsynced
 * concurrently: a file system commits concurrent fsyncs together (ext4 measured here: 3.2 ms per
 * sequential fsync, 0.6 ms each when four run at once), and each folder is fsynced once at the end
 * instead of once per file.
 */
import { close, constants, fchmod, fsync, linkSync, open, renameSync, unlinkSync, write } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { fsyncFolder, ioError, TEMP_PREFIX } from './atomic-write.js';
import { crashPoint } from './fault-injection.js';

export interface BatchFile {
  readonly path: string;
  readonly data: string | Uint8Array;
  readonly mode: number;
}

/** How many temp files are in flight at once (libuv runs four fs calls in parallel by default). */
const IN_FLIGHT = 16;

/**
 * The callback fs API, promised by hand: fs/promises' FileHandle costs about twice the main-thread CPU
 * per file (close tracking, one promise chain per call), 0.2 s over a batch of 1,000.
 */
const call = <T>(fn: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

/** Writes all of `bytes` at the start of `fd`. */
async function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await call<number>((done) => write(fd, bytes, offset, bytes.length - offset, offset, done));
}

/**
 * Writes every file atomically: each one appears complete or not at all. Not one transaction over the
 * set: callers check for collisions first (an EEXIST in the rename phase leaves earlier files placed).
 */
export async function writeFilesAtomic(files: readonly BatchFile[], options: { overwrite: boolean }): Promise<void> {
  const temps = files.map((f) => join(dirname(f.path), `${TEMP_PREFIX}${basename(f.path)}.${randomBytes(6).toString('hex')}`));
  const created = new Set<string>();
  let current = '';
  try {
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const file = files[i]!;
        try {
          const fd = await call<number>((done) => open(temps[i]!, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, file.mode & 0o600, done));
          created.add(temps[i]!);
          try {
            await call<void>((done) => fchmod(fd, file.mode, done));
            await writeAll(fd, typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data);
            crashPoint(`write:${basename(file.path)}`); // the same step names as atomic-write.ts
            await call<void>((done) => fsync(fd, done));
          } finally {
            await call<void>((done) => close(fd, done));
          }
        } catch (e) {
          current ||= file.path; // the first failing file names the error (the others run concurrently)
          throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, files.length) }, worker));
    current = '';
    files.forEach((file, i) => {
      current = file.path;
      if (options.overwrite) renameSync(temps[i]!, file.path);
      else {
        linkSync(temps[i]!, file.path); // no-clobber, atomically
        unlinkSync(temps[i]!);
      }
      created.delete(temps[i]!);
    });
    for (const folder of new Set(files.map((f) => dirname(f.path)))) fsyncFolder(folder);
  } catch (e) {
    for (const temp of created) {
      try {
        unlinkSync(temp);
      } catch {
        /* already gone */
      }
    }
    if (e instanceof PkiError) throw e;
    throw ioError(e, 'write', current);
  }
}
