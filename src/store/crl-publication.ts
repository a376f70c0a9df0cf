/**
 * Publishing the intermediate's CRL: `<dir>/crl/intermediate_ca.crl` (PEM, RFC 7468 label `X509 CRL`)
 * and, on request or when it already exists, `intermediate_ca.crl.der`. Shared by `pki crl` and
 * `pki revoke` (which publishes at once).
 *
 * Runs inside the inventory's write lock (Inventory#exclusive): the CRL Number is allocated, the revoked
 * list read and the file replaced as one step, so concurrent publishers write their CRLs in number
 * order and the file on disk always carries the highest number.
 */
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedIssuer } from '../core/issuer.js';
import { buildCrl } from '../core/crl.js';
import { readCrlNumber } from '../core/inspect/crl.js';
import { decodePem, encodePem, PemLabel } from '../core/pem.js';
import { wholeSeconds } from '../core/validity.js';
import { TEMP_PREFIX, writeFilesAtomicSync } from './atomic-write.js';
import { ensureFolder, FileMode, readText, type CaHome } from './ca-home.js';
import type { Inventory } from './inventory/index.js';

export interface PublishedCrl {
  readonly path: string;
  readonly derPath: string | null;
  readonly crlNumber: string;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly entries: number;
}

export function crlDerPath(home: CaHome): string {
  return `${home.crlPath}.der`;
}

/**
 * The CRL Number of the CRL currently published, or 0 when there is none or it cannot be read: after a
 * database loss the next number must still exceed what relying parties have seen.
 */
export function publishedCrlNumber(home: CaHome): bigint {
  if (!existsSync(home.crlPath)) return 0n;
  try {
    const block = decodePem(readText(home.crlPath)).find((b) => b.label === PemLabel.crl);
    return (block ? readCrlNumber(block.der) : null) ?? 0n;
  } catch {
    return 0n;
  }
}

/**
 * Temp files a killed publisher left (writeFileAtomic's `.pki-tmp-*`). Safe to remove here: publishers
 * hold the inventory's write lock, so no other one is writing in crl/ now.
 */
function removeOrphanTemps(folder: string): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    try {
      unlinkSync(join(folder, name));
    } catch {
      /* gone, or not ours to remove: the write below reports a real problem */
    }
  }
}

/** Builds, signs and writes the CRL. Call inside `inventory.exclusive` (revoke does, with its revoke). */
export function publishCrl(
  home: CaHome,
  inventory: Inventory,
  issuer: LoadedIssuer,
  options: { now: Date; nextUpdateMs: number; der: boolean },
): PublishedCrl {
  const thisUpdate = wholeSeconds(options.now);
  const nextUpdate = new Date(thisUpdate.getTime() + options.nextUpdateMs);
  // CA records are not listed: the intermediate's CRL covers the leaves it issued.
  const revoked = inventory.listRevocations('x509', thisUpdate).filter((r) => r.profile !== 'root' && r.profile !== 'intermediate');
  const crlNumber = inventory.nextSequenceNumber('crl', publishedCrlNumber(home) + 1n);
  const der = buildCrl({
    issuerCertificateDer: issuer.certificate.der,
    issuerPrivateKey: issuer.privateKey,
    entries: revoked.map((r) => ({ serialHex: r.serial, revokedAt: new Date(r.revokedAt), reason: r.revocationReason ?? undefined })),
    crlNumber,
    thisUpdate,
    nextUpdate,
  });
  ensureFolder(home.crlDir, FileMode.folder);
  removeOrphanTemps(home.crlDir);
  const derPath = crlDerPath(home);
  const writeDer = options.der || existsSync(derPath); // keep an existing DER copy in step with the PEM
  // Both copies or neither: a failed write of one leaves the other old too.
  writeFilesAtomicSync([...(writeDer ? [{ path: derPath, data: der }] : []), { path: home.crlPath, data: encodePem(PemLabel.crl, der) }], { mode: FileMode.public, overwrite: true });
  return {
    path: home.crlPath,
    derPath: writeDer ? derPath : null,
    crlNumber: crlNumber.toString(),
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    entries: revoked.length,
  };
}
