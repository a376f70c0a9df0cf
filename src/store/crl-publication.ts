/**
 * Publishing the CRLs:
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
 * Runs inside the inventory's write lock (Inventory#exclusive): the CRL Number is allocated, the revoked
 * list read and the file replaced as one step, so concurrent publishers write their CRLs in number
 * order and the file on disk always carries the highest number.
 */
import type { KeyObject } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { issuerFromCertificate, type LoadedIssuer } from '../core/x509/issuer.js';
import { buildCrl, readCrlTimes, type CrlEntry } from '../core/x509/crl.js';
import { PkiError } from '../core/errors.js';
import { importPrivateKey } from '../core/keys/keys.js';
import { readCrlNumber } from '../core/inspect/crl.js';
import { decodePem, encodePemBytes, PemLabel } from '../core/der/pem.js';
import { parseDuration, wholeSeconds } from '../core/x509/validity.js';
import { TEMP_PREFIX, writeFilesAtomicSync } from './fs/atomic-write.js';
import { ensureHomeFolder, fileExists, FileMode, readText, type CaHome, type PassphraseSource } from './ca-home.js';
import type { PkiConfig } from './config.js';
import { openInventory, type Inventory } from './inventory/index.js';

export interface PublishedCrl {
  readonly path: string;
  readonly derPath: string | null;
  /** crl/chain.crl.pem when it was rewritten (both CRLs exist), else null. */
  readonly chainPath: string | null;
  readonly crlNumber: string;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly entries: number;
}

/** The intermediate's CRL lifetime: the flag, else pki.json crl.nextUpdate, else 7 days. */
export function crlLifetimeMs(config: PkiConfig, flag?: string): number {
  return parseDuration(flag ?? config.crl?.nextUpdate ?? '7d');
}

/** The root's CRL lifetime: the flag, else pki.json crl.rootNextUpdate, else 1 year. */
export function rootCrlLifetimeMs(config: PkiConfig | undefined, flag?: string): number {
  return parseDuration(flag ?? config?.crl?.rootNextUpdate ?? '1y');
}

export function crlDerPath(home: CaHome): string {
  return `${home.crlPath}.der`;
}

export function rootCrlPath(home: CaHome): string {
  return join(home.crlDir, 'root_ca.crl');
}

export function chainCrlPath(home: CaHome): string {
  return join(home.crlDir, 'chain.crl.pem');
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
  return publishedNumber(home.crlPath, 'crl', inventory);
}

function publishedNumber(path: string, sequence: 'crl' | 'root-crl', inventory?: Inventory): bigint {
  const identity = fileIdentity(path);
  if (identity === null) return 0n;
  const last = inventory?.lastPublished(sequence);
  if (last !== undefined && last.file === identity) return last.number;
  try {
    const block = decodePem(readText(path)).find((b) => b.label === PemLabel.crl);
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
  const pem = encodePemBytes(PemLabel.crl, der);
  // The chain file is rewritten with the CRL: a chain left with the previous intermediate CRL would keep
  // serving certificates revoked since.
  const rootPem = publishedCrlPem(rootCrlPath(home));
  const chainPath = rootPem === null ? null : chainCrlPath(home);
  // All copies or none: a failed write of one leaves the others old too.
  writeFilesAtomicSync(
    [
      ...(writeDer ? [{ path: derPath, data: der }] : []),
      { path: home.crlPath, data: pem },
      ...(chainPath !== null && rootPem !== null ? [{ path: chainPath, data: Buffer.concat([rootPem, pem]) }] : []),
    ],
    { mode: FileMode.public, overwrite: true },
  );
  // In this transaction: a kill before it commits leaves the old identity, and the next run decodes the file.
  const published = fileIdentity(home.crlPath);
  if (published !== null) inventory.notePublished('crl', published);
  return {
    path: home.crlPath,
    derPath: writeDer ? derPath : null,
    chainPath,
    crlNumber: crlNumber.toString(),
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    entries,
  };
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
    block = decodePem(readText(path)).find((b) => b.label === PemLabel.crl);
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
 * The root CA ready to sign its CRL. The root key normally lives offline (docs/configuration.md, "The
 * root CRL"): a missing key says how to bring it back for this one step.
 */
export async function loadRootIssuer(home: CaHome, passphrase: PassphraseSource, now: Date): Promise<LoadedIssuer> {
  home.requireInitialized();
  if (!fileExists(home.rootKeyPath)) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `the root CA key ${home.rootKeyPath} is not in the CA home (it belongs offline)`, {
      hint: `copy it back to ${home.rootKeyPath} (mode 0600) for this step, run the command again, then move it offline again`,
    });
  }
  const block = decodePem(readText(home.rootCertPath)).find((b) => b.label === PemLabel.certificate);
  if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${home.rootCertPath} holds no certificate`);
  const keyText = readText(home.rootKeyPath);
  const secret = keyText.includes(`BEGIN ${PemLabel.encryptedPrivateKey}`) ? await passphrase() : undefined;
  try {
    return issuerFromCertificate(block.der, importPrivateKey(keyText, secret), now);
  } finally {
    secret?.fill(0);
  }
}

/**
 * Builds, signs and writes the root's CRL: the intermediates the inventory records as revoked (and not
 * yet expired), the next root CRL Number, and chain.crl.pem when the intermediate's CRL exists. Call
 * inside `inventory.exclusive`.
 */
export function publishRootCrl(home: CaHome, inventory: Inventory, root: LoadedIssuer, options: { now: Date; nextUpdateMs: number }): PublishedCrl {
  const thisUpdate = wholeSeconds(options.now);
  const nextUpdate = new Date(thisUpdate.getTime() + options.nextUpdateMs);
  const path = rootCrlPath(home);
  const crlNumber = inventory.nextSequenceNumber('root-crl', publishedNumber(path, 'root-crl', inventory) + 1n);
  const entries: CrlEntry[] = inventory
    .listRevocations('x509', thisUpdate)
    .filter((r) => r.profile === 'intermediate')
    .map((r) => ({ serialHex: r.serial, revokedAt: r.revokedAt, reason: r.revocationReason ?? undefined }));
  const der = buildCrl({ issuerCertificateDer: root.certificate.der, issuerPrivateKey: root.privateKey, entries, crlNumber, thisUpdate, nextUpdate });
  const pem = encodePemBytes(PemLabel.crl, der);
  ensureHomeFolder(home.crlDir, FileMode.folder);
  removeOrphanTemps(home.crlDir);
  const intermediatePem = publishedCrlPem(home.crlPath);
  const chainPath = intermediatePem === null ? null : chainCrlPath(home);
  writeFilesAtomicSync([{ path, data: pem }, ...(chainPath !== null && intermediatePem !== null ? [{ path: chainPath, data: Buffer.concat([pem, intermediatePem]) }] : [])], {
    mode: FileMode.public,
    overwrite: true,
  });
  const published = fileIdentity(path);
  if (published !== null) inventory.notePublished('root-crl', published);
  return { path, derPath: null, chainPath, crlNumber: crlNumber.toString(), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), entries: entries.length };
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
    const block = decodePem(readText(path)).find((b) => b.label === PemLabel.crl);
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

/** What a cron run did about the CRLs (`pki crl --if-due`, `pki renew --all`). */
export interface CrlRepublication {
  /** The intermediate's CRL: published, not due, or failed (renew --all reports the error and goes on). */
  readonly status: 'published' | 'not due' | 'failed';
  readonly dueness: CrlDueness;
  readonly crl: PublishedCrl | null;
  readonly error: { readonly code: string; readonly message: string; readonly hint: string | null } | null;
  /** The root's CRL is never re-signed by cron (its key belongs offline): when due, the run says so. */
  readonly root: CrlDueness | null;
}

/**
 * Re-publishes the intermediate's CRL when it is due (crlDueness), loading the intermediate only then,
 * so a run with nothing due asks for no passphrase. Throws what loading or publishing throws.
 */
export async function publishCrlIfDue(
  home: CaHome,
  inventory: Inventory,
  options: { now: Date; nextUpdateMs: number; loadIssuer: () => Promise<LoadedIssuer> },
): Promise<CrlRepublication> {
  const dueness = crlDueness(home.crlPath, options.now);
  const rootPath = rootCrlPath(home);
  const root = fileExists(rootPath) ? crlDueness(rootPath, options.now) : null;
  if (!dueness.due) return { status: 'not due', dueness, crl: null, error: null, root };
  const issuer = await options.loadIssuer();
  const crl = inventory.exclusive(() => publishCrl(home, inventory, issuer, { now: options.now, nextUpdateMs: options.nextUpdateMs, der: false }));
  return { status: 'published', dueness, crl, error: null, root };
}

/**
 * `pki renew --all`'s CRL step: publishCrlIfDue, with a refusal (an expired or revoked intermediate, a
 * wrong passphrase) reported as `failed` rather than thrown, so the renewals already done are reported.
 */
export async function republishCrlForRenewal(
  home: CaHome,
  inventory: Inventory,
  options: { now: Date; config: PkiConfig; loadIssuer: () => Promise<LoadedIssuer> },
): Promise<CrlRepublication> {
  try {
    return await publishCrlIfDue(home, inventory, { now: options.now, nextUpdateMs: crlLifetimeMs(options.config), loadIssuer: options.loadIssuer });
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    const dueness = crlDueness(home.crlPath, options.now);
    return { status: 'failed', dueness, crl: null, error: { code: e.code, message: e.message, hint: e.hint ?? null }, root: null };
  }
}

/**
 * `pki init`'s last step: the root's CRL (no revoked intermediates yet), the intermediate's first CRL and
 * the chain file, so servers configured with crl/chain.crl.pem accept clients from the first minute. Both
 * keys are still in memory; the root key is not needed again for a year (pki.json crl.rootNextUpdate).
 */
export async function publishInitialCrls(
  home: CaHome,
  keys: { rootDer: Uint8Array; rootKey: KeyObject; intermediateDer: Uint8Array; intermediateKey: KeyObject },
  now: Date,
): Promise<{ root: PublishedCrl; intermediate: PublishedCrl }> {
  const config = home.readConfig();
  const root = issuerFromCertificate(keys.rootDer, keys.rootKey, now);
  const intermediate = issuerFromCertificate(keys.intermediateDer, keys.intermediateKey, now);
  const inventory = await openInventory(home);
  try {
    return inventory.exclusive(() => ({
      root: publishRootCrl(home, inventory, root, { now, nextUpdateMs: rootCrlLifetimeMs(config) }),
      intermediate: publishCrl(home, inventory, intermediate, { now, nextUpdateMs: crlLifetimeMs(config), der: false }),
    }));
  } finally {
    inventory.close();
  }
}
