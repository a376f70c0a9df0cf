/**
 * Revoking a certificate (`pki revoke <serial | cert-file>`): marks it revoked in the inventory and
 * re-publishes the CRL that lists it in the same inventory transaction, so a revocation is never recorded
 * without its CRL (or vice versa). A leaf goes into the intermediate's CRL; an intermediate into the
 * root's, when the root key is in the CA home.
 */
import { activeRetired, loadRetiredIssuer } from '../store/retired-ca.js';
import { resolve } from 'node:path';
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { sha256Fingerprint } from '../core/x509/fingerprint.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { DEFAULT_CA_NAME, refOfRecord } from '../store/issuing-ca.js';
import { PkiError } from '../core/errors.js';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import { parseRevocationReason, type RevocationReason } from '../core/x509/revocation-reason.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { isRegularFile, readBytes, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { crashPoint } from '../store/fs/fault-injection.js';
import { versionedEntry } from '../store/fs/versioned-folder.js';
import { openInventory, type CertificateRecord, type Inventory } from '../store/inventory/index.js';
import { describeSettled, settleBundleJournal, settleFileJournal } from '../store/inventory/journal.js';
import { firstCertificateDer } from '../store/inventory/record.js';
import { crlLifetimeMs, loadRootIssuer, publishCrl, publishRetiredCrl, publishRootCrl, rootCrlLifetimeMs, type PublishedCrl } from './publish-crl.js';

export interface RevokeRequest {
  /** A serial (hex, as `pki list` prints it) or the path of the certificate file. */
  readonly target: string;
  /** An RFC 5280 reason name; default `unspecified`. */
  readonly reason?: string;
}

export interface RevokeContext {
  readonly now: Date;
  /** Opens the intermediate's key (a leaf's revocation re-signs its CRL). */
  readonly passphrase: PassphraseSource;
  /** Opens the root's key (an intermediate's revocation re-signs the root's CRL when the key is at hand). */
  readonly rootPassphrase: PassphraseSource;
  /**
   * Told at once when a killed run's journal was settled on the way (the file given was switched in but
   * not recorded): a callback rather than a result field because a refusal may follow it.
   */
  readonly onWarning: (message: string) => void;
}

export type RevokeResult =
  | { readonly kind: 'leaf'; readonly serial: string; readonly subject: string; readonly revokedAt: string | null; readonly reason: RevocationReason; readonly crl: PublishedCrl }
  | {
      /** A leaf the root signed itself (an imported openssl CA's, docs/import.md): the root's CRL lists it. */
      readonly kind: 'root-issued';
      readonly serial: string;
      readonly subject: string;
      readonly revokedAt: string | null;
      readonly reason: RevocationReason;
      /** The root's CRL re-published with it, or null when the root key is offline (`pki crl --root` later). */
      readonly crl: PublishedCrl | null;
      readonly rootKeyPath: string;
    }
  | {
      readonly kind: 'intermediate';
      readonly serial: string;
      readonly subject: string;
      readonly revokedAt: string | null;
      readonly reason: RevocationReason;
      /** The root's CRL re-published with it, or null when the root key is offline (`pki crl --root` later). */
      readonly crl: PublishedCrl | null;
      readonly rootKeyPath: string;
      /** Which intermediate it was: a CA's current one (`default` or a `pki ca add` name), or one `pki ca rotate` had retired. */
      readonly role: { readonly ca: string; readonly retired: boolean };
    };

/** The serial to revoke (and the file's fingerprint when a certificate file was given). */
function resolveTarget(target: string): { serial: string; fingerprint: string | null } {
  if (isRegularFile(target)) {
    const der = firstCertificateDer(readBytes(target));
    return { serial: normalizeSerial(parseCertificate(der).serial), fingerprint: sha256Fingerprint(der) };
  }
  try {
    return { serial: normalizeSerial(target), fingerprint: null };
  } catch (e) {
    if (e instanceof PkiError) {
      throw new PkiError('ERR_INVALID_SERIAL', `"${target}" is neither a certificate file nor a hexadecimal serial number`, {
        hint: 'give the serial as `pki list` or `openssl x509 -serial` prints it, or the path of the certificate',
      });
    }
    throw e;
  }
}

/** The record to revoke, refusals first (before the passphrase and any write; Inventory#revoke checks again under the lock). */
function revocableRecord(inventory: Inventory, target: string, found: { serial: string; fingerprint: string | null }, onWarning: (m: string) => void): CertificateRecord {
  const { serial, fingerprint } = found;
  let record = inventory.find('x509', serial);
  if (!record && fingerprint !== null) {
    // A file that a generate/renew killed between switching it in and recording it: its journal records it.
    const entry = versionedEntry(target);
    const settled = entry ? settleBundleJournal(entry.folder, inventory) : settleFileJournal(resolve(target), inventory);
    if (settled?.recorded.length) {
      onWarning(describeSettled(settled));
      record = inventory.find('x509', serial);
    }
  }
  if (!record || (fingerprint !== null && record.fingerprintSha256 !== fingerprint)) {
    throw new PkiError('ERR_UNKNOWN_SERIAL', `no certificate with serial ${serial} was issued by this CA`, {
      hint: 'check the serial with "pki list --all"; certificates issued before the inventory existed come back with "pki db rebuild"',
    });
  }
  if (record.status === 'revoked') {
    throw new PkiError('ERR_ALREADY_REVOKED', `certificate ${serial} (${record.subject}) was already revoked on ${record.revokedAt} (${record.revocationReason})`);
  }
  if (record.profile === 'root') {
    throw new PkiError('ERR_POLICY', `${serial} is the root CA certificate; a root is not revoked, it is removed from the trust stores`, {
      hint: 'replace a compromised CA with "pki init --force" and redeploy its root',
    });
  }
  return record;
}

/** True for a record the root CA signed directly (its issuer is the root's name): leaves of an imported CA. */
function issuedByRoot(home: CaHome, record: CertificateRecord): boolean {
  if (record.profile === 'root') return false;
  return record.issuer === formatDistinguishedName(parseCertificate(firstCertificateDer(home.readRootCertificatePem())).subjectDer);
}

/** Revokes a leaf the root signed: recorded, and the root's CRL re-signed with it when the root key is at hand. */
async function revokeRootIssued(home: CaHome, inventory: Inventory, record: CertificateRecord, reason: RevocationReason, context: RevokeContext, nextUpdateMs: number): Promise<RevokeResult> {
  const { now } = context;
  const root = home.rootKeyAvailable() ? await loadRootIssuer(home, context.rootPassphrase, now) : null;
  const { revoked, crl } = inventory.exclusive(() => {
    const revoked = inventory.revoke('x509', record.serial, now, reason);
    return { revoked, crl: root ? publishRootCrl(home, inventory, root, { now, nextUpdateMs }) : null };
  });
  return { kind: 'root-issued', serial: record.serial, subject: revoked.subject, revokedAt: revoked.revokedAt, reason, crl, rootKeyPath: home.rootKeyLocation() };
}

/**
 * A leaf of the intermediate revoked with an inventory already open and the issuer already loaded (`pki
 * revoke` after its checks, and `pki serve`'s ACME revokeCert): recorded and the intermediate's CRL
 * re-published in one inventory transaction. Steps a kill may interrupt (test/store/revoke-crash.test.ts):
 * a kill before the commit leaves neither recorded; one after the CRL file is replaced but before the
 * commit leaves a CRL that lists the certificate while the inventory does not: the next `pki crl` (or
 * revoke) publishes from the inventory again, and they agree.
 */
export function revokeLeafWithIssuer(
  home: CaHome,
  inventory: Inventory,
  issuer: LoadedIssuer,
  request: { serial: string; reason: RevocationReason; now: Date; nextUpdateMs: number; retiredIssuer?: Parameters<typeof publishRetiredCrl>[2] | null },
): { revoked: CertificateRecord; crl: PublishedCrl } {
  const { serial, reason, now, nextUpdateMs } = request;
  const result = inventory.exclusive(() => {
    const revoked = inventory.revoke('x509', serial, now, reason);
    crashPoint('revoke:recorded');
    // A leaf of an intermediate retired by `pki ca rotate`: its old key's CRL lists it too.
    const retired = request.retiredIssuer ? publishRetiredCrl(home, inventory, request.retiredIssuer, { now, nextUpdateMs }) : null;
    const current = publishCrl(home, inventory, issuer, { now, nextUpdateMs, der: false });
    const crl = retired ? { ...current, retired: [retired] } : current;
    crashPoint('revoke:crl-published');
    return { revoked, crl };
  });
  crashPoint('revoke:committed');
  return result;
}

export async function revokeCertificate(main: CaHome, request: RevokeRequest, context: RevokeContext): Promise<RevokeResult> {
  const { now } = context;
  const config = main.readConfig();
  const reason = parseRevocationReason(request.reason ?? 'unspecified');
  const nextUpdateMs = crlLifetimeMs(config);
  const target = resolveTarget(request.target);
  const { serial } = target;
  const inventory = await openInventory(main);
  try {
    const record = revocableRecord(inventory, request.target, target, context.onWarning);
    // The issuer comes from the inventory (issue 14): a trust domain's or a `pki ca add` CA's certificate
    // goes on that CA's CRL (an intermediate record names the CA it is: its revocation goes on the root's CRL).
    const home = main.homeOf(refOfRecord(record));
    if (record.profile !== 'intermediate' && issuedByRoot(home, record)) return await revokeRootIssued(home, inventory, record, reason, context, rootCrlLifetimeMs(config));
    if (record.profile === 'intermediate') {
      // From now on every command that would sign with it refuses (CaHome#loadIssuer). Its own CRL cannot
      // revoke it; the root's CRL does. With the root key in the CA home it is re-signed in the same
      // transaction (the root passphrase is asked first, so a wrong one records nothing); without it, the
      // operator brings the key back and runs `pki crl --root` (docs/configuration.md, "The root CRL").
      const root = home.rootKeyAvailable() ? await loadRootIssuer(home, context.rootPassphrase, now) : null;
      const { revoked, crl } = inventory.exclusive(() => {
        const revoked = inventory.revoke('x509', serial, now, reason);
        crashPoint('revoke:recorded');
        return { revoked, crl: root ? publishRootCrl(home, inventory, root, { now, nextUpdateMs: rootCrlLifetimeMs(config) }) : null };
      });
      const retired = normalizeSerial(parseCertificate(home.readIntermediateCertificate().der).serial) !== serial;
      return { kind: 'intermediate', serial, subject: revoked.subject, revokedAt: revoked.revokedAt, reason, crl, rootKeyPath: home.rootKeyLocation(), role: { ca: home.issuingCaName ?? DEFAULT_CA_NAME, retired } };
    }
    const issuer = await home.loadIssuer(context.passphrase, now, inventory);
    const retired = record.issuerKeyId ? activeRetired(home, now, inventory).find((r) => r.keyId === record.issuerKeyId) : undefined;
    const retiredIssuer = retired ? await loadRetiredIssuer(retired, context.passphrase, now) : null;
    const { revoked, crl } = revokeLeafWithIssuer(home, inventory, issuer, { serial, reason, now, nextUpdateMs, retiredIssuer });
    return { kind: 'leaf', serial, subject: revoked.subject, revokedAt: revoked.revokedAt, reason, crl };
  } finally {
    inventory.close();
  }
}
