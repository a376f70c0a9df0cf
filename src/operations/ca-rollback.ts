/**
 * `pki ca rollback [--snapshot ID] [--list]` (issue 14, point 5): the CA home put back as a snapshot
 * (store/ca-snapshot.ts) kept it — ca/, pki.json and the inventory — the latest by default. The
 * snapshot stays, so a rollback can be repeated or undone by hand. Certificates issued since the snapshot
 * make it refuse unless forced: they would drop out of the inventory, and their issuer's key may go.
 */
import { PkiError } from '../core/errors.js';
import type { CaHome } from '../store/ca-home.js';
import { listSnapshots, restoreSnapshot, snapshotTakenAt, type CaSnapshot } from '../store/ca-snapshot.js';
import { openInventory } from '../store/inventory/index.js';

export function caSnapshots(home: CaHome): CaSnapshot[] {
  home.requireInitialized();
  return listSnapshots(home);
}

/**
 * The leaves recorded since the snapshot was taken: a rollback forgets them (the inventory goes back) and,
 * after a rotation, removes the key that signed them, so they could be neither revoked nor renewed.
 */
async function issuedSince(home: CaHome, snapshot: CaSnapshot): Promise<string[]> {
  const taken = snapshotTakenAt(snapshot);
  const inventory = await openInventory(home);
  try {
    // Leaves only: the rotation's own CA records come right after its snapshot.
    return inventory
      .list({ kind: 'x509' })
      .filter((r) => r.profile !== 'root' && r.profile !== 'intermediate' && Date.parse(r.issuedAt) > taken.getTime())
      .map((r) => r.certificatePath ?? `serial ${r.serial}`);
  } finally {
    inventory.close();
  }
}

export async function rollbackCa(home: CaHome, request: { readonly snapshot?: string; readonly force?: boolean }): Promise<CaSnapshot> {
  const snapshots = caSnapshots(home);
  const chosen = request.snapshot === undefined ? snapshots.at(-1) : snapshots.find((s) => s.id === request.snapshot);
  if (!chosen) {
    throw request.snapshot === undefined
      ? new PkiError('ERR_USAGE', `the CA in ${home.dir} has no snapshot to roll back to`, { hint: 'snapshots are taken by pki ca renew and the rotations' })
      : new PkiError('ERR_USAGE', `no snapshot "${request.snapshot}" in ${home.dir}/ca/snapshots`, { hint: 'list them with "pki ca rollback --list"' });
  }
  const since = request.force ? [] : await issuedSince(home, chosen);
  if (since.length > 0) {
    throw new PkiError('ERR_POLICY', `${since.length} certificate${since.length === 1 ? ' was' : 's were'} issued since snapshot ${chosen.id} (e.g. ${since[0]}); a rollback forgets them and may remove the key that signed them`, {
      hint: 'pass --force to roll back anyway, then re-issue them (pki generate --force, pki sign)',
    });
  }
  await restoreSnapshot(home, chosen);
  return chosen;
}
