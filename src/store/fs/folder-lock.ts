/**
 * The writer lock of a folder: `..lock`, an O_EXCL file holding the holder's pid. A lock whose pid is gone
 * (SIGKILL, power cut) is stale and taken over. Versioned folders (store/fs/versioned-folder.ts) lock each
 * bundle folder with it; `pki init` and `pki ssh init` lock the CA home (CaHome#withLock) so that two runs
 * never mix one run's keys with the other's certificates.
 */
import { closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { ioError } from './atomic-write.js';
import { createExclusive } from './exclusive-create.js';

/** The lock file's name inside the locked folder. */
export const LOCK_NAME = '..lock';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders whose `..lock` this process holds. */
const heldLocks = new Set<string>();

/** Takes the lock, waiting up to `timeoutMs` (0: one try, then ERR_LOCKED). */
function acquire(folder: string, timeoutMs: number): void {
  const lockPath = join(folder, LOCK_NAME);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = createExclusive(lockPath, 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(e, 'lock', folder);
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    } catch {
      continue; // released meanwhile
    }
    // A pid that is gone (SIGKILL, power cut) left a stale lock. An empty file is a writer between open and write.
    if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
      try {
        unlinkSync(lockPath);
      } catch {
        /* another process took it over first */
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new PkiError('ERR_LOCKED', `${folder} is locked by another pki process${Number.isInteger(holder) ? ` (pid ${holder})` : ''}`, {
        hint: `wait for it to finish; if no pki process is running, remove ${lockPath}`,
      });
    }
    sleepMs(50);
  }
}

function release(folder: string): void {
  try {
    unlinkSync(join(folder, LOCK_NAME));
  } catch {
    /* gone */
  }
}

/**
 * Runs `fn` holding the folder's writer lock. Waits up to `timeoutMs` for another pki process; a lock left
 * by a killed process (its pid is gone) is taken over.
 */
export function withFolderLock<T>(folder: string, fn: () => T, timeoutMs = 30_000): T {
  // Re-entrant within this process: publishing a version and recording it in the inventory form one locked step.
  const key = resolve(folder);
  if (heldLocks.has(key)) return fn();
  acquire(folder, timeoutMs);
  heldLocks.add(key);
  try {
    return fn();
  } finally {
    heldLocks.delete(key);
    release(folder);
  }
}

/** withFolderLock for an async `fn` (passphrase prompts, key generation): held until its promise settles. */
export async function withFolderLockAsync<T>(folder: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const key = resolve(folder);
  if (heldLocks.has(key)) return fn();
  acquire(folder, timeoutMs);
  heldLocks.add(key);
  try {
    return await fn();
  } finally {
    heldLocks.delete(key);
    release(folder);
  }
}

/** True when `..lock` names a process that is gone (killed while holding it): taking the lock removes it. */
export function staleLock(folder: string): boolean {
  try {
    const holder = Number.parseInt(readFileSync(join(folder, LOCK_NAME), 'utf8'), 10);
    return Number.isInteger(holder) && holder > 0 && !processAlive(holder);
  } catch {
    return false;
  }
}
