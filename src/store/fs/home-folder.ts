/**
 * The folders of a CA home and the modes of its files: created with their mode, and an existing folder
 * that is wider than it should be narrowed. Its own module so store/inventory/ needs no CaHome to make db/.
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { ioError } from './atomic-write.js';

export const FileMode = {
  privateKey: 0o600,
  public: 0o644,
  folder: 0o755,
  privateFolder: 0o700,
} as const;

/**
 * A folder of the home (`ca/`, `db/`, `ssh/`, `crl/`): mkdir -p, and when it already existed with more
 * permission bits than `mode` (an operator's `mkdir` under umask 000), narrowed to them. Never widened.
 */
export function ensureHomeFolder(path: string, mode: number): void {
  ensureFolder(path, mode);
  try {
    const st = lstatSync(path);
    if (st.isDirectory() && (st.mode & 0o7777 & ~mode) !== 0) chmodSync(path, st.mode & 0o7777 & mode);
  } catch (e) {
    throw ioError(e, 'set the mode of', path);
  }
}

/** mkdir -p with a mode for the folders it creates. */
export function ensureFolder(path: string, mode: number = FileMode.folder): void {
  try {
    mkdirSync(path, { recursive: true, mode });
  } catch (e) {
    throw ioError(e, 'create folder', path);
  }
}
