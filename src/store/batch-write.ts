/**
 * Atomic writes of many files at once (`pki sign --out-dir` with a thousand requests). Each file is still
 * temp + fsync + rename/link, as in atomic-write.ts, but the temp files are written and fsynced
 * concurrently: a file system commits concurrent fsyncs together (ext4 measured here: 3.2 ms per
 * sequential fsync, 0.6 ms each when four run at once), and each folder is fsynced once at the end
 * instead of once per file.
 */
import { constants, linkSync, renameSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { PkiError } from '../core/errors.js';
import { fsyncFolder, ioError, TEMP_PREFIX } from './atomic-write.js';

export interface BatchFile {
  readonly path: string;
  readonly data: string | Uint8Array;
  readonly mode: number;
}

/** How many temp files are in flight at once (libuv runs four fs calls in parallel by default). */
const IN_FLIGHT = 16;

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
        current = file.path;
        const handle = await open(temps[i]!, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, file.mode & 0o600);
        created.add(temps[i]!);
        try {
          await handle.chmod(file.mode);
          await handle.writeFile(file.data);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, files.length) }, worker));
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
