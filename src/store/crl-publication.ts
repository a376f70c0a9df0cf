/**
 * The CRL files on disk (the use cases that sign them are in operations/publish-crl.ts):
 *
 *   crl/intermediate_ca.crl      the intermediate's CRL of revoked leaves (PEM, RFC 7468 label `X509 CRL`),
 *                                and on request or when it already exists `intermediate_ca.crl.der`;
 *                                `pki crl`, `pki revoke` (at once), `pki renew --all` / `pki crl --if-due` when due
 *   crl/root_ca.crl              the root's CRL of revoked intermediates (an ARL), long-lived because the
 *                                root key lives offline; `pki init`, `pki crl --root`, `pki revoke <intermediate>`
 *   crl/chain.crl.pem            both, root first, in one PEM file for servers that take one CRL file and
 *                                check every level of the chain (nginx ssl_crl, PostgreSQL ssl_crl_file);
 *                                rewritten with either CRL, in the same atomic batch
 *
 * Writers run inside the inventory's write lock (Inventory#exclusive): the CRL Number is allocated, the
 * revoked list read and the file replaced as one step, so concurrent publishers write their CRLs in number
 * order and the file on disk always carries the highest number.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readCrlTimes } from '../core/x509/crl.js';
import { PkiError } from '../core/errors.js';
import { readCrlNumber } from '../core/inspect/crl.js';
import { encodePemBytes, findPemBlock, PemLabel } from '../core/der/pem.js';
import { TEMP_PREFIX, writeFilesAtomicSync } from './fs/atomic-write.js';
import { ensureHomeFolder, fileExists, FileMode, readText, type CaHome } from './ca-home.js';
import type { Inventory, SequenceName } from './inventory/index.js';
import { retiredCrlFolder } from './retired-ca.js';
import { inRootTransition } from './root-transition.js';

/** Which CRL: the intermediate's (of leaves) or the root's (of intermediates); also its inventory sequence. */
export type CrlKind = 'crl' | 'root-crl';

export function crlDerPath(home: CaHome): string {
  return `${home.crlPath}.der`;
}

export function rootCrlPath(home: CaHome): string {
  return join(home.crlDir, 'root_ca.crl');
}

/** crl/chain.crl.pem, or crl/NAME.chain.crl.pem for a `pki ca add` CA. */
export function chainCrlPath(home: CaHome): string {
  return join(home.crlDir, home.issuingCaName ? `${home.issuingCaName}.chain.crl.pem` : 'chain.crl.pem');
}

/** The inventory counter of `kind` for this home: `crl`, `root-crl`, or a trust domain's `crl@NAME`, `root-crl@NAME`. */
export function crlSequence(home: CaHome, kind: CrlKind): SequenceName {
  const files = home.issuingCa();
  return kind === 'crl' ? files.crlSequence : files.rootCrlSequence;
}

function crlFilePath(home: CaHome, kind: CrlKind): string {
  return kind === 'crl' ? home.crlPath : rootCrlPath(home);
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
 * The CRL Number of the intermediate's CRL currently published, or 0 when there is none or it cannot be
 * read: after a database loss the next number must still exceed what relying parties have seen.
 */
export function publishedCrlNumber(home: CaHome, inventory?: Inventory): bigint {
  return publishedNumber(home, 'crl', inventory);
}

/**
 * The CRL Number published in `kind`'s file, or 0. When the file is still the one the inventory recorded
 * publishing (same identity), its number is the inventory's; otherwise (a restored database, a replaced
 * file) the CRL is decoded.
 */
export function publishedNumber(home: CaHome, kind: CrlKind, inventory?: Inventory): bigint {
  const path = crlFilePath(home, kind);
  const identity = fileIdentity(path);
  if (identity === null) return 0n;
  const last = inventory?.lastPublished(crlSequence(home, kind));
  if (last !== undefined && last.file === identity) return last.number;
  try {
    const block = findPemBlock(readText(path), PemLabel.crl);
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

/** Where a signed CRL was written: its file, the DER copy and the chain file when they were rewritten. */
export interface WrittenCrl {
  readonly path: string;
  readonly derPath: string | null;
  /** crl/chain.crl.pem when it was rewritten (both CRLs exist), else null. */
  readonly chainPath: string | null;
}

/**
 * Writes a signed CRL (DER) to its file, with the DER copy (the intermediate's, on request or when it
 * exists) and chain.crl.pem (root first) when the other CRL exists, all copies or none: a chain left with
 * the previous CRL would keep serving certificates revoked since. Then notes the file's identity in the
 * inventory, in the caller's transaction: a kill before it commits leaves the old identity, and the next
 * run decodes the file. Call inside `inventory.exclusive`.
 */
export function writeCrlFiles(home: CaHome, inventory: Inventory, kind: CrlKind, der: Uint8Array, options: { der: boolean }): WrittenCrl {
  ensureHomeFolder(home.crlDir, FileMode.folder);
  removeOrphanTemps(home.crlDir);
  const path = crlFilePath(home, kind);
  const derPath = crlDerPath(home);
  const writeDer = kind === 'crl' && (options.der || existsSync(derPath)); // keep an existing DER copy in step with the PEM
  const pem = encodePemBytes(PemLabel.crl, der);
  const otherPem = publishedCrlPem(crlFilePath(home, kind === 'crl' ? 'root-crl' : 'crl'));
  const chainPath = otherPem === null ? null : chainCrlPath(home);
  // After `pki ca rotate` the retired intermediates' CRLs follow (store/retired-ca.ts): a client of the old key stays checked.
  const retired = retiredCrlPems(home, null);
  const chain = otherPem === null ? null : kind === 'crl' ? Buffer.concat([...rootCrlPems(home, otherPem), pem, ...retired]) : Buffer.concat([...rootCrlPems(home, pem), otherPem, ...retired]);
  // The root's CRL is in every chain file of the CAs under it (the default's and each `pki ca add` CA's).
  const siblings = kind === 'root-crl' ? siblingChainFiles(home, pem) : [];
  writeFilesAtomicSync(
    [...(writeDer ? [{ path: derPath, data: der }] : []), { path, data: pem }, ...(chainPath !== null && chain !== null ? [{ path: chainPath, data: chain }] : []), ...siblings],
    { mode: FileMode.public, overwrite: true },
  );
  const published = fileIdentity(path);
  if (published !== null) inventory.notePublished(crlSequence(home, kind), published);
  return { path, derPath: writeDer ? derPath : null, chainPath };
}

/** crl/old_root_ca.crl: the old root's CRL during a root rotation (`pki ca rotate-root`, until `--finish`). */
export function oldRootCrlPath(home: CaHome): string {
  return join(home.crlDir, 'old_root_ca.crl');
}

/**
 * The root level of a chain file: the root's CRL, and during a root rotation the old root's after it — a
 * relying party that knows only the old root checks the cross certificate (newWithOld, which the old
 * root signed) against it, and without it refuses every chain ("unable to get certificate CRL").
 */
function rootCrlPems(home: CaHome, rootPem: Buffer): Buffer[] {
  const old = inRootTransition(home.caDir) ? publishedCrlPem(oldRootCrlPath(home)) : null;
  return old ? [rootPem, old] : [rootPem];
}

/** Writes the old root's CRL (signed at `pki ca rotate-root` with the old key); chain files take it when next written. */
export function writeOldRootCrlFile(home: CaHome, der: Uint8Array): string {
  ensureHomeFolder(home.crlDir, FileMode.folder);
  const path = oldRootCrlPath(home);
  writeFilesAtomicSync([{ path, data: encodePemBytes(PemLabel.crl, der) }], { mode: FileMode.public, overwrite: true });
  return path;
}

/** The chain files of the other issuing CAs under the same root, with `rootPem` as their root CRL (those whose CRL exists). */
function siblingChainFiles(home: CaHome, rootPem: Buffer): { path: string; data: Buffer }[] {
  if (home.trustDomainName) return [];
  const main = home.main ?? home;
  const all = [main, ...main.issuingCaNames().map((n) => main.issuingCaHome(n))];
  const out: { path: string; data: Buffer }[] = [];
  for (const other of all) {
    if (other.issuingCaName === home.issuingCaName) continue;
    const current = publishedCrlPem(other.crlPath);
    if (current !== null) out.push({ path: chainCrlPath(other), data: Buffer.concat([...rootCrlPems(home, rootPem), current, ...retiredCrlPems(other, null)]) });
  }
  return out;
}

/** The published CRLs of retired intermediates (crl/retired/*.crl, by name), `replacing` given as new content. */
function retiredCrlPems(home: CaHome, replacing: { path: string; pem: Buffer } | null): Buffer[] {
  const dir = retiredCrlFolder(home);
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.crl')) : [];
  const paths = [...new Set([...names.map((n) => join(dir, n)), ...(replacing ? [replacing.path] : [])])].sort();
  return paths.map((path) => (path === replacing?.path ? replacing.pem : publishedCrlPem(path))).filter((pem): pem is Buffer => pem !== null);
}

/**
 * Writes the CRL a retired intermediate signed (`pki ca rotate`) to `path` under crl/retired/, and
 * chain.crl.pem with it (root, current intermediate, retired ones) when the other two exist. Call inside
 * `inventory.exclusive`.
 */
export function writeRetiredCrlFile(home: CaHome, path: string, der: Uint8Array): WrittenCrl {
  ensureHomeFolder(home.crlDir, FileMode.folder);
  ensureHomeFolder(join(home.crlDir, 'retired'), FileMode.folder);
  ensureHomeFolder(retiredCrlFolder(home), FileMode.folder);
  const pem = encodePemBytes(PemLabel.crl, der);
  const root = publishedCrlPem(rootCrlPath(home));
  const current = publishedCrlPem(home.crlPath);
  const chainPath = root !== null && current !== null ? chainCrlPath(home) : null;
  const chain = chainPath !== null ? Buffer.concat([...rootCrlPems(home, root!), current!, ...retiredCrlPems(home, { path, pem })]) : null;
  writeFilesAtomicSync([{ path, data: pem }, ...(chainPath !== null && chain !== null ? [{ path: chainPath, data: chain }] : [])], { mode: FileMode.public, overwrite: true });
  return { path, derPath: null, chainPath };
}

/**
 * The PEM of a published CRL, re-encoded from its DER (so the chain file holds exactly one well-formed
 * block per CRL), or null when the file does not exist. A file that is there but holds no CRL is an
 * error: writing a chain without it would make servers refuse every client, silently.
 */
function publishedCrlPem(path: string): Buffer | null {
  if (!fileExists(path)) return null;
  let block;
  try {
    block = findPemBlock(readText(path), PemLabel.crl);
  } catch {
    block = undefined;
  }
  if (block === undefined) {
    throw new PkiError('ERR_MALFORMED_CRL', `${path} holds no CRL, so crl/chain.crl.pem cannot be written`, {
      hint: path.endsWith('root_ca.crl') ? 're-publish it with "pki crl --root" (needs the root key), or restore it from a backup' : 're-publish it with "pki crl"',
    });
  }
  return encodePemBytes(PemLabel.crl, block.der);
}

/**
 * The root CA's certificate (DER) and key file (PEM text, maybe encrypted), to sign its CRL. The root key
 * normally lives offline (docs/configuration.md, "The root CRL"): a missing key says how to bring it back
 * for this one step.
 */
export function readRootCaFiles(home: CaHome): { certificateDer: Uint8Array; keyText: string } {
  home.requireInitialized();
  if (!fileExists(home.rootKeyPath)) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `the root CA key ${home.rootKeyPath} is not in the CA home (it belongs offline)`, {
      hint: `copy it back to ${home.rootKeyPath} (mode 0600) for this step, run the command again, then move it offline again`,
    });
  }
  const block = findPemBlock(readText(home.rootCertPath), PemLabel.certificate);
  if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${home.rootCertPath} holds no certificate`);
  return { certificateDer: block.der, keyText: readText(home.rootKeyPath) };
}

/** Whether a published CRL is due for re-publication at `now`. */
export interface CrlDueness {
  readonly path: string;
  readonly due: boolean;
  /** Why it is due: 'missing', 'unreadable', 'expired', 'due' (within the last third of its lifetime), or 'not due'. */
  readonly reason: 'missing' | 'unreadable' | 'expired' | 'due' | 'not due';
  readonly nextUpdate: string | null;
  /** When the last third of its lifetime begins; null when the file gives no dates. */
  readonly dueAt: string | null;
}

/**
 * A CRL is due once it is within a third of its lifetime (thisUpdate → nextUpdate) of nextUpdate: a
 * 7-day CRL is re-published from day 5, so a daily cron line has two tries before servers refuse it.
 * The same rule as certificates (core/lifecycle/renewal.ts: two thirds of the lifetime).
 */
export function crlDueness(path: string, now: Date): CrlDueness {
  if (!fileExists(path)) return { path, due: true, reason: 'missing', nextUpdate: null, dueAt: null };
  const times = publishedCrlTimes(path);
  if (times === null) return { path, due: true, reason: 'unreadable', nextUpdate: null, dueAt: null };
  if (times.nextUpdate === null) return { path, due: false, reason: 'not due', nextUpdate: null, dueAt: null };
  const lifetime = times.nextUpdate.getTime() - times.thisUpdate.getTime();
  const dueAt = new Date(times.nextUpdate.getTime() - Math.floor(lifetime / 3));
  const reason = now >= times.nextUpdate ? 'expired' : now >= dueAt ? 'due' : 'not due';
  return { path, due: reason !== 'not due', reason, nextUpdate: times.nextUpdate.toISOString(), dueAt: dueAt.toISOString() };
}

/** Bytes of PEM read to find a CRL's dates: its issuer name and both times fit many times over. */
const CRL_HEAD_BYTES = 16 * 1024;

/**
 * thisUpdate and nextUpdate of the CRL in a PEM (or DER) file, from its first 16 KiB only (a 100,000-entry
 * CRL is 3 MB of PEM and decoding it whole took 0.35 s of every cron run), else from the whole file;
 * null when the file holds no readable CRL.
 */
function publishedCrlTimes(path: string): { thisUpdate: Date; nextUpdate: Date | null } | null {
  try {
    const head = readHead(path, CRL_HEAD_BYTES);
    const text = head.toString('latin1');
    const begin = text.indexOf(`-----BEGIN ${PemLabel.crl}-----`);
    if (begin >= 0) {
      const bodyStart = begin + `-----BEGIN ${PemLabel.crl}-----`.length;
      const end = text.indexOf('-----', bodyStart);
      const compact = text.slice(bodyStart, end < 0 ? undefined : end).replace(/[\r\n\t ]/g, '');
      if (/^[A-Za-z0-9+/=]*$/.test(compact)) {
        try {
          return readCrlTimes(Buffer.from(compact.slice(0, compact.length - (compact.length % 4)), 'base64'), { prefix: true });
        } catch {
          /* a header beyond 16 KiB, or damage: the whole file decides below */
        }
      }
    }
    const block = findPemBlock(readText(path), PemLabel.crl);
    return block ? readCrlTimes(block.der) : null;
  } catch {
    return null;
  }
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
