/**
 * Exclusive create with the final mode: a new file (never an existing one, never through a symlink) that
 * has its permission bits — and owner, when asked — before a byte is written, so a private key is never
 * readable by others for an instant, whatever the umask. Atomic writes, versioned folders, the inventory
 * database and the folder lock all create their files through it.
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, openSync, writeSync } from 'node:fs';

export interface CreateOwner {
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

/**
 * Creates `path` with `mode` (O_EXCL | O_NOFOLLOW; opened with at most 0600, then set exactly) and, when
 * `owner` names one, that owner and group — changed only where they differ. Returns the open descriptor;
 * the caller writes, fsyncs and closes it. Throws the fs error as it is (EEXIST for an existing file).
 */
export function createExclusive(path: string, mode: number, owner: CreateOwner = {}): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o600);
  try {
    fchmodSync(fd, mode);
    if (owner.uid !== undefined || owner.gid !== undefined) {
      const st = fstatSync(fd);
      const uid = owner.uid ?? st.uid;
      const gid = owner.gid ?? st.gid;
      if (uid !== st.uid || gid !== st.gid) fchownSync(fd, uid, gid);
    }
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Writes all of `bytes` at the descriptor's position (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
