/**
 * How the inventory stores file paths (issue 9, docs/inventory.md "Paths"): a file inside the CA home is
 * recorded relative to the home (`services/redis/main/certs/redis.crt`), so a copied or moved home
 * (`cp -a pki pki2`) acts on its own files, never on the original's; a file outside the home (`generate
 * --out /etc/redis/tls`, `sign --out /srv/web.crt`) is recorded absolute — an absolute path is the marker
 * for "outside the home", and it names the same file whichever copy of the home reads it. Callers of the
 * Inventory interface see absolute paths only: they are resolved against the home on the way out.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class InventoryPaths {
  /** The CA home, absolute. */
  readonly home: string;

  constructor(home: string) {
    this.home = resolve(home);
  }

  /** The column value for `path`: relative when inside the home, absolute otherwise. */
  toStored(path: string | null): string | null {
    if (path === null) return null;
    return storedRelativeTo([this.home], resolve(path));
  }

  /** An absolute path from a column value. */
  toAbsolute(stored: string | null): string | null {
    if (stored === null) return null;
    // Concatenation, not join: stored paths are already normal, and this runs per row of `renew --all`.
    return stored.startsWith('/') ? stored : `${this.home}/${stored}`;
  }
}

/**
 * `path` relative to the first of `homes` it lies inside (the migration passes the home the paths were
 * written under as well as the current one), or unchanged.
 */
export function storedRelativeTo(homes: readonly string[], path: string): string {
  for (const home of homes) {
    if (path.startsWith(home + sep)) {
      const rel = relative(home, path);
      if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
    }
  }
  return path;
}
