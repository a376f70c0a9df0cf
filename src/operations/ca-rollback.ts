/**
 * `pki ca rollback [--snapshot ID] [--list]` (issue 14, point 5): the CA home put back as a snapshot
 * (store/ca-snapshot.ts) kept it — ca/, pki.json and the inventory — the latest by default. The
 * snapshot stays, so a rollback can be repeated or undone by hand.
 */
import { PkiError } from '../core/errors.js';
import type { CaHome } from '../store/ca-home.js';
import { listSnapshots, restoreSnapshot, type CaSnapshot } from '../store/ca-snapshot.js';

export function caSnapshots(home: CaHome): CaSnapshot[] {
  home.requireInitialized();
  return listSnapshots(home);
}

export async function rollbackCa(home: CaHome, request: { readonly snapshot?: string }): Promise<CaSnapshot> {
  const snapshots = caSnapshots(home);
  const chosen = request.snapshot === undefined ? snapshots.at(-1) : snapshots.find((s) => s.id === request.snapshot);
  if (!chosen) {
    throw request.snapshot === undefined
      ? new PkiError('ERR_USAGE', `the CA in ${home.dir} has no snapshot to roll back to`, { hint: 'snapshots are taken by pki ca renew and the rotations' })
      : new PkiError('ERR_USAGE', `no snapshot "${request.snapshot}" in ${home.dir}/ca/snapshots`, { hint: 'list them with "pki ca rollback --list"' });
  }
  await restoreSnapshot(home, chosen);
  return chosen;
}
