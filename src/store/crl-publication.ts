/**
 * Publishing the intermediate's CRL: `<dir>/crl/intermediate_ca.crl` (PEM, RFC 7468 label `X509 CRL`)
 * and, on request or when it already exists, `intermediate_ca.crl.der`. Shared by `pki crl` and
 * `pki revoke` (which publishes at once).
 *
 * Runs inside the inventory's write lock (Inventory#exclusive): the CRL Number is allocated, the revoked
 * list read and the file replaced as one step, so concurrent publishers write their CRLs in number
 * order and the file on disk always carries the highest number.
 */
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedIssuer } from '../core/issuer.js';
import { buildCrl, type CrlEntry } from '../core/crl.js';
import { readCrlNumber } from '../core/inspect/crl.js';
import { decodePem, encodePemBytes, PemLabel } from '../core/pem.js';
import { wholeSeconds } from '../core/validity.js';
import { TEMP_PREFIX, writeFilesAtomicSync } from './atomic-write.js';
import { ensureHomeFolder, FileMode, readText, type CaHome } from './ca-home.js';
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

/** A file's identity: device, inode, size and times (a replaced or restored file has another one). */
function fileIdentity(path: string): string | null {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return null;
  }
}

/**
 * The CRL Number of the CRL currently published, or 0 when there is none or it cannot be read: after a
 * database loss the next number must still exceed what relying parties have seen. When the file is still
 * the one the inventory recorded publishing (same identity), its number is the inventory's; otherwise
 * (a restored database, a replaced file) the CRL is decoded.
 */
export function publishedCrlNumber(home: CaHome, inventory?: Inventory): bigint {
  const identity = fileIdentity(home.crlPath);
  if (identity === null) return 0n;
  const last = inventory?.lastPublished('crl');
  if (last !== undefined && last.file === identity) return last.number;
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
  const crlNumber = inventory.nextSequenceNumber('crl', publishedCrlNumber(home, inventory) + 1n);
  // Entries go from the index rows into the encoder one by one (no array of 100,000 records). CA records
  // are not listed: the intermediate's CRL covers the leaves it issued.
  let entries = 0;
  function* revoked(): Generator<CrlEntry> {
    for (const r of inventory.iterateLeafRevocations('x509', thisUpdate)) {
      entries++;
      yield { serialHex: r.serial, revokedAt: r.revokedAt, reason: r.revocationReason ?? undefined };
    }
  }
  const der = buildCrl({
    issuerCertificateDer: issuer.certificate.der,
    issuerPrivateKey: issuer.privateKey,
    entries: revoked(),
    crlNumber,
    thisUpdate,
    nextUpdate,
  });
  ensureHomeFolder(home.crlDir, FileMode.folder);
  removeOrphanTemps(home.crlDir);
  const derPath = crlDerPath(home);
  const writeDer = options.der || existsSync(derPath); // keep an existing DER copy in step with the PEM
  // Both copies or neither: a failed write of one leaves the other old too.
  writeFilesAtomicSync([...(writeDer ? [{ path: derPath, data: der }] : []), { path: home.crlPath, data: encodePemBytes(PemLabel.crl, der) }], { mode: FileMode.public, overwrite: true });
  // In this transaction: a kill before it commits leaves the old identity, and the next run decodes the file.
  const published = fileIdentity(home.crlPath);
  if (published !== null) inventory.notePublished('crl', published);
  return {
    path: home.crlPath,
    derPath: writeDer ? derPath : null,
    crlNumber: crlNumber.toString(),
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    entries,
  };
}
