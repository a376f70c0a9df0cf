/** Two small file-system facts operations need without touching node:fs themselves (docs/architecture.md). */
import { realpathSync, unlinkSync } from 'node:fs';

/** The folder's real path, links resolved: a plain file is renewed in the folder it really is in. */
export function realFolder(path: string): string {
  return realpathSync(path);
}

/** Removes a file this run wrote and must take back; a file already gone is fine. */
export function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
