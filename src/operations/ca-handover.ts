/**
 * What `pki init --force` tells the operator before it replaces the CA (issue 9, point 6): every valid,
 * unexpired certificate of the current CA stops chaining to the new root. Listed on stderr and in --json
 * before anything is written; `pki renew --all` afterwards re-issues them under the new CA (their records
 * are carried over, store/previous-ca.ts).
 */
import { isLeafProfileName } from '../core/x509/profiles.js';
import type { CaHome } from '../store/ca-home.js';
import { inventoryExists, openInventory } from '../store/inventory/index.js';

export interface StopsChaining {
  readonly serial: string;
  readonly subject: string;
  readonly profile: string;
  readonly path: string | null;
  readonly notAfter: string;
}

/** The current CA's valid, unexpired leaves, in inventory order; empty when there is no CA or no inventory. */
export async function certificatesThatStopChaining(home: CaHome, now: Date): Promise<StopsChaining[]> {
  if (!home.isInitialized() || !inventoryExists(home)) return [];
  let inventory;
  try {
    inventory = await openInventory(home);
  } catch {
    return []; // a damaged inventory is moved aside by init as it is; there is nothing to list from it
  }
  try {
    return inventory
      .list({ kind: 'x509', status: 'valid' })
      .filter((r) => isLeafProfileName(r.profile) && Date.parse(r.notAfter) > now.getTime())
      .map((r) => ({ serial: r.serial, subject: r.subject, profile: r.profile, path: r.certificatePath, notAfter: r.notAfter }));
  } finally {
    inventory.close();
  }
}

/** One stderr warning naming each certificate (path, or serial for one printed to stdout) and the fix. */
export function describeStopsChaining(list: readonly StopsChaining[]): string {
  const names = list.map((c) => `${c.path ?? `serial ${c.serial}`} (${c.subject})`);
  return `${list.length} certificate${list.length === 1 ? '' : 's'} of the CA being replaced will stop chaining to the new root: ${names.join(', ')}; afterwards run "pki renew --all" to re-issue them under the new CA (bundles also get the new ca.crt), and deploy the new root wherever the old one is trusted`;
}
