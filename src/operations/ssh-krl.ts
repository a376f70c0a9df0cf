/**
 * KRL publication: `<dir>/ssh/revoked_keys`, the OpenSSH KRL that sshd's `RevokedKeys` reads, rebuilt from
 * the inventory. `pki ssh krl` runs it alone; ssh init (the first, empty KRL) and ssh revoke (in the same
 * transaction as the revocation) call publishKrl.
 */
import { buildKrl } from '../core/ssh/index.js';
import type { CaHome } from '../store/ca-home.js';
import type { CertificateRecord, Inventory } from '../store/inventory/index.js';
import { decodeSshRecord } from '../store/inventory/ssh-record.js';
import { openSshInventory, SshCaFiles } from '../store/ssh-ca.js';

export interface PublishedKrl {
  readonly path: string;
  readonly version: string;
  readonly serialsRevoked: number;
  readonly keyIdsRevoked: number;
}

/**
 * Key ids a KRL revokes: those of revoked, unexpired certificates that no other live (valid) certificate
 * of the same CA shares. Revoking one of several certificates with a shared key id must not take the
 * others down; a key id that is entirely revoked also stops copies the inventory never saw.
 */
export function revokedKeyIds(revoked: readonly CertificateRecord[], all: readonly CertificateRecord[]): Map<string, Set<string>> {
  const liveIds = new Set(all.filter((r) => r.status === 'valid' && r.keyId).map((r) => `${r.issuer}\n${r.keyId}`));
  const byIssuer = new Map<string, Set<string>>();
  for (const r of revoked) {
    if (!r.keyId || liveIds.has(`${r.issuer}\n${r.keyId}`)) continue;
    const set = byIssuer.get(r.issuer) ?? new Set<string>();
    set.add(r.keyId);
    byIssuer.set(r.issuer, set);
  }
  return byIssuer;
}

/**
 * Builds the KRL from every revoked, unexpired SSH certificate, grouped by the CA key that signed it
 * (read from the stored certificate line), and writes it. Call inside `inventory.exclusive` so KRL
 * versions reach the file in order.
 */
export function publishKrl(files: SshCaFiles, inventory: Inventory, now: Date): PublishedKrl {
  const revoked = inventory.listRevokedUnexpired('ssh', now);
  const keyIds = revokedKeyIds(revoked, inventory.list({ kind: 'ssh' }));
  const byCa = new Map<string, { caPublicKey: Buffer; serials: bigint[]; keyIds: string[] }>();
  for (const record of revoked) {
    const cert = decodeSshRecord(record);
    const entry = byCa.get(record.issuer) ?? { caPublicKey: cert.raw.signatureKey, serials: [], keyIds: [...(keyIds.get(record.issuer) ?? [])] };
    entry.serials.push(BigInt(cert.serial));
    byCa.set(record.issuer, entry);
  }
  const version = inventory.nextSequenceNumber('krl');
  const krl = buildKrl({
    version,
    generatedAt: now,
    comment: 'pki',
    certificates: [...byCa.values()].map((e) => ({ caPublicKey: e.caPublicKey, serialsRevoked: e.serials, keyIdsRevoked: e.keyIds })),
  });
  files.writeKrl(krl);
  let serials = 0;
  let ids = 0;
  for (const e of byCa.values()) {
    serials += e.serials.length;
    ids += e.keyIds.length;
  }
  return { path: files.krlPath, version: version.toString(10), serialsRevoked: serials, keyIdsRevoked: ids };
}

/** `pki ssh krl`: rewrites the KRL of a home with SSH CAs (refused without the user CA or the inventory). */
export async function publishSshKrl(home: CaHome, context: { readonly now: Date }): Promise<PublishedKrl> {
  const files = new SshCaFiles(home);
  files.requireCa('user');
  const inventory = await openSshInventory(home, false);
  try {
    return inventory.exclusive(() => publishKrl(files, inventory, context.now));
  } finally {
    inventory.close();
  }
}
