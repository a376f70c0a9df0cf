/**
 * Renewing one leaf certificate in place (`pki renew <cert-file> [<key-file>]`, and each due one of
 * `pki renew --all`): same subject, SANs and profile, a fresh serial, the old lifetime starting now.
 *
 * Bundles from `pki generate` are versioned folders (docs/bundle-layout.md), so the certificate — and with
 * --rekey the key beside it — switch in one rename. Any other certificate file is replaced by one atomic
 * rename; --rekey is refused there, since two renames are not atomic together. Files and inventory change
 * together through an inventory journal (store/inventory/journal.ts).
 */
import { isIssuedBy } from '../core/x509/issued-by.js';
import { retiredIssuerOf } from '../store/retired-ca.js';
import { basename, dirname, join, resolve } from 'node:path';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { DEFAULT_CA_NAME, describeIssuingCa, refOfRecord, sameIssuingCa, type IssuingCaRef } from '../store/issuing-ca.js';
import { PkiError } from '../core/errors.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKey, keysMatch, keySpecOf } from '../core/keys/keys.js';
import { isRenewalDue, planRenewal, renewalDueAt, subjectAltNamesInOrder, type RenewalPlan } from '../core/lifecycle/renewal.js';
import { certificatePublicKey, type CertificateFields } from '../core/x509/certificate-fields.js';
import type { San } from '../core/x509/names.js';
import { isLeafProfileName } from '../core/x509/profiles.js';
import { applyProfileSubject, checkRequiredSanPatterns, withProfileSans, type LeafProfile } from '../core/x509/profile-config.js';
import { resolveValidity } from '../core/x509/validity.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { fileExists, readBytes, type CaHome } from '../store/ca-home.js';
import { clockSkewMs } from '../store/config.js';
import { readRegularFileNoFollow } from '../store/fs/read-file.js';
import { liveFilePath, recoverVersionedFolder, versionedEntry } from '../store/fs/versioned-folder.js';
import type { CertificateRecord } from '../store/inventory/index.js';
import { describeSettled, settleBundleJournal, settleFileJournal, type FileIdentity } from '../store/inventory/journal.js';
import { findPreviousIssuer, type PreviousCa } from '../store/previous-ca.js';
import { issueLeafCertificate, leafProfile } from './issue-leaf.js';
import { writeRenewedBundle, writeRenewedFile } from './renew-write.js';
import { issuerSession, openRenewSession, type RenewContext, type RenewedOutcome, type RenewSession, type RenewSettings, type SkippedOutcome } from './renew-session.js';
import { approveForRenewal, readCertificateFile, trustedRecord } from './renew-trust.js';
import { realFolder } from '../store/fs/paths.js';

export interface RenewCertificateRequest extends RenewSettings {
  /** The certificate file: a bundle's (through its link) or a plain file (`pki sign --out`). */
  readonly certificatePath: string;
  /** Its key, checked to belong to it; with a bundle found beside it (or from the inventory) when not given. */
  readonly keyPath?: string;
  /** Names to add (`--san`, as `pki sign` takes them); one the certificate lacks makes it due. */
  readonly san?: readonly string[];
}

/** Renewed or not due; or refused, with the error (a PkiError, else a bug) — nothing on disk changed then. */
export type RenewCertificateResult =
  | { readonly status: 'done'; readonly outcome: RenewedOutcome | SkippedOutcome; readonly warnings: readonly string[] }
  | { readonly status: 'refused'; readonly error: unknown; readonly warnings: readonly string[] };

/** Renews one certificate file. Throws what stops any renewal (no CA, an unreadable inventory, a bad --san). */
export async function renewCertificate(home: CaHome, request: RenewCertificateRequest, context: RenewContext): Promise<RenewCertificateResult> {
  const session = await openRenewSession(home, request, context, request.san);
  try {
    const outcome = await renewInSession(session, request.certificatePath, request.keyPath);
    return { status: 'done', outcome, warnings: session.warnings };
  } catch (error) {
    return { status: 'refused', error, warnings: session.warnings };
  } finally {
    session.inventory.close();
  }
}

/** The file to renew, found through its bundle link or read by its own name. */
export interface RenewTarget {
  /** The bundle it belongs to, or null for a plain file. */
  readonly entry: { readonly folder: string; readonly name: string } | null;
  /** The path reports name: the bundle's link, or the plain file's resolved path. */
  readonly publicPath: string;
  /** A plain file: where the new one is written and the identity it must still have then. */
  readonly plain: { readonly writePath: string; readonly identity: FileIdentity } | null;
  readonly fields: CertificateFields;
  readonly pem: boolean;
}

/** Opens the file: a killed earlier run's leftovers and journal go first (settling one is a warning). */
function openTarget(session: RenewSession, certPath: string): RenewTarget {
  const path = resolve(certPath);
  const entry = versionedEntry(path);
  if (entry) session.home.checkFolderInside(entry.folder); // a bundle inside the home is never reached through a link
  if (entry) recoverVersionedFolder(entry.folder); // a killed earlier run's leftovers go first
  // A run killed between switching the files and recording them: record what is live first (one stat otherwise).
  const settled = entry ? settleBundleJournal(entry.folder, session.inventory) : settleFileJournal(path, session.inventory);
  if (settled?.recorded.length) session.warnings.push(describeSettled(settled));
  const publicPath = entry ? join(entry.folder, entry.name) : path;
  if (entry) return { entry, publicPath, plain: null, ...readCertificateFile(publicPath) };
  // A plain file is read, and later replaced, by its own name: never through a link (docs/security.md).
  // Its folder is resolved once, here; the write goes to that folder and checks the name still holds this file.
  const read = readRegularFileNoFollow(path);
  let folder: string;
  try {
    folder = realFolder(dirname(path));
  } catch {
    folder = dirname(path);
  }
  const plain = { writePath: join(folder, basename(path)), identity: { dev: read.dev, ino: read.ino } };
  return { entry: null, publicPath, plain, ...readCertificateFile(publicPath, read.bytes) };
}

/** `redis.crt` → `redis.key`: the layout `pki generate` writes. */
function siblingKeyName(certName: string): string {
  return certName.replace(/\.(crt|pem|cer)$/, '') + '.key';
}

/** Where the certificate's key is: its name in the bundle folder (null when none, or a plain file), and the path reported. */
interface KeyLocation {
  readonly keyName: string | null;
  readonly keyPath: string | null;
}

/** Where the key is, and whether it can change together with the certificate; a key given must belong to it. */
function locateKey(session: RenewSession, target: RenewTarget, keyArg: string | undefined, record: CertificateRecord | undefined): KeyLocation {
  const { entry, publicPath } = target;
  const rekey = session.settings.rekey === true;
  let keyName: string | null = null; // in the versioned folder
  let keyPath: string | null = null;
  if (entry) {
    const given = keyArg ?? (record?.keyPath ? record.keyPath : undefined);
    if (given !== undefined) {
      const keyEntry = versionedEntry(given);
      if (keyEntry && keyEntry.folder === entry.folder) keyName = keyEntry.name;
      else if (rekey || keyArg !== undefined) {
        throw new PkiError('ERR_POLICY', `${resolve(given)} is not in the same bundle folder as ${publicPath}`, {
          hint: 'a key and its certificate switch together only inside one bundle folder (docs/bundle-layout.md)',
        });
      }
    } else if (fileExists(liveFilePath(entry.folder, siblingKeyName(entry.name)))) {
      keyName = siblingKeyName(entry.name);
    }
    if (keyName !== null) keyPath = join(entry.folder, keyName);
  } else {
    if (rekey) {
      throw new PkiError('ERR_POLICY', `--rekey needs the bundle layout: ${publicPath} is a plain file, and a certificate and a key in two files cannot be replaced together atomically`, {
        hint: 'renew without --rekey (the key stays), or issue a fresh bundle with "pki generate … --force" (docs/bundle-layout.md)',
      });
    }
    keyPath = keyArg !== undefined ? resolve(keyArg) : (record?.keyPath ?? null);
  }
  if (rekey && keyName === null) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `no key found for ${publicPath} (looked for ${siblingKeyName(basename(publicPath))} beside it)`, {
      hint: 'name the key file: pki renew <cert-file> <key-file> --rekey',
    });
  }
  if (keyArg !== undefined) {
    // A key that does not belong to the certificate means the files were mixed up: refuse before any write.
    const key = importPrivateKey(readBytes(keyName !== null && entry ? liveFilePath(entry.folder, keyName) : resolve(keyArg)));
    if (!keysMatch(key, certificatePublicKey(target.fields))) {
      throw new PkiError('ERR_KEY_MISMATCH', `${resolve(keyArg)} is not the key of ${publicPath}`, { hint: 'give the key file that belongs to this certificate' });
    }
  }
  return { keyName, keyPath };
}

/** A certificate that passed every check and is due: what its successor adds and where it came from. */
interface Approved {
  readonly record: CertificateRecord;
  /** The profile it is re-issued with: --profile's (a switch), else the one recorded, else its usages'. */
  readonly profile: LeafProfile;
  readonly switched: boolean;
  readonly addedSans: readonly San[];
  readonly previousCa: PreviousCa | null;
}

/**
 * The checks every renewal passes, due or not, before any prompt or write (a forged or foreign file is never
 * re-signed), then the due decision: an Approved renewal, or the skipped outcome saying when it is due.
 */
function judge(session: RenewSession, target: RenewTarget, record: CertificateRecord | undefined): Approved | SkippedOutcome {
  const { fields, publicPath } = target;
  const serial = normalizeSerial(fields.serial);
  const role = record && isLeafProfileName(record.profile) ? record.profile : undefined;
  const names = planRenewal(fields, { now: session.now, ...(role ? { profile: role } : {}) }); // refuses CA certificates and odd SANs even when not due
  const { profile, switched } = renewalProfile(session, publicPath, record?.profileName ?? names.profile);
  // A certificate of a CA `init --force` replaced (its signature verified against the archived
  // intermediate): due whatever its dates, re-issued under the current CA.
  const previousCa = findPreviousIssuer(session.home, fields, session.intermediate());
  // A leaf of an intermediate `pki ca rotate` retired is this CA's too (its key's signature verified), renewed under the new key.
  const retired = previousCa === null && !isIssuedBy(fields, session.intermediate()) ? retiredIssuerOf(session.home, fields) : null;
  const trusted = trustedRecord({ inventory: session.inventory, intermediate: session.intermediate, signedByPreviousCa: previousCa !== null || retired !== null }, publicPath, fields, record);
  const have = new Set(subjectAltNamesInOrder(fields).map((s) => `${s.type}:${s.value}`));
  const addedSans = session.extraSans.filter((s) => !have.has(`${s.type}:${s.value}`));
  approveForRenewal(session.config, publicPath, fields, names, addedSans);
  checkRequiredSanPatterns(withProfileSans([...names.sans, ...addedSans], profile), profile); // before any passphrase
  const { policy, force } = session.settings;
  if (!force && !previousCa && !switched && addedSans.length === 0 && !isRenewalDue(fields, session.now, policy)) {
    return { path: publicPath, status: 'skipped', serial, reason: 'not due', dueAt: renewalDueAt(fields, policy).toISOString() };
  }
  return { record: trusted, profile, switched, addedSans, previousCa };
}

/** --profile (a switch when it differs from the recorded one), else the recorded profile, which pki.json must still define. */
function renewalProfile(session: RenewSession, path: string, recorded: string): { profile: LeafProfile; switched: boolean } {
  const wanted = session.settings.profile;
  if (wanted !== undefined) return { profile: leafProfile(session.config, wanted), switched: wanted !== recorded };
  try {
    return { profile: leafProfile(session.config, recorded), switched: false };
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    throw new PkiError('ERR_POLICY', `${path} was issued with profile "${recorded}", which pki.json no longer defines (${e.message.replace(/^.*; /, '')})`, {
      hint: `define "${recorded}" under "profiles" in pki.json again, or switch with: pki renew ${path} --profile NAME`,
    });
  }
}

/**
 * Renews the certificate at `certPath` within a run, or says it is not due; throws a refusal. `listed`:
 * the inventory's record of it when the caller already holds it (`--all`); `inBatch`: a run over many (`--all`).
 */
export async function renewInSession(run: RenewSession, certPath: string, keyArg: string | undefined, listed?: CertificateRecord, inBatch = listed !== undefined): Promise<RenewedOutcome | SkippedOutcome> {
  const target = openTarget(run, certPath);
  const serial = normalizeSerial(target.fields.serial);
  const record = listed && listed.serial === serial ? listed : run.inventory.find('x509', serial);
  // A trust domain's certificate is renewed by that domain's intermediate, with its root as ca.crt; a
  // `pki ca add` CA's by that CA.
  const session = record ? issuerSession(run, refOfRecord(record)) : run;
  const only = run.settings.only;
  if (only && !(record && sameIssuingCa(refOfRecord(record), only))) {
    const name = (ref: IssuingCaRef) => (ref.trustDomain ? describeIssuingCa(ref) : `CA ${describeIssuingCa(ref)}`);
    const reason = `issued by ${record ? name(refOfRecord(record)) : 'no CA of this home'}, not ${name(only)}`;
    if (inBatch) return { path: certPath, status: 'skipped', serial, reason, dueAt: null };
    const flag = only.trustDomain ? `--trust-domain ${only.trustDomain}` : `--ca ${only.name ?? DEFAULT_CA_NAME}`;
    throw new PkiError('ERR_USAGE', `${certPath} was ${reason}: a certificate is renewed by the CA that issued it`, { hint: `drop ${flag.split(' ')[0]}, or re-issue it from that CA (pki generate ${flag} --force, pki sign ${flag})` });
  }
  if (record?.status === 'revoked') {
    throw new PkiError('ERR_POLICY', `certificate ${serial} (${record.subject}) is revoked; a revoked certificate is not renewed`, {
      hint: 'issue a new certificate (pki generate --force, or pki sign) and deploy it',
    });
  }
  const key = locateKey(session, target, keyArg, record);
  const decision = judge(session, target, record);
  if ('status' in decision) return decision;
  return issueRenewal(session, target, key, decision);
}

/** Signs the successor (with a new key under --rekey) and switches the files and the inventory together. */
async function issueRenewal(session: RenewSession, target: RenewTarget, key: KeyLocation, approved: Approved): Promise<RenewedOutcome> {
  const { fields, entry, publicPath } = target;
  const { settings, now } = session;
  const issuer = await session.issuer();
  const { profile, switched } = approved;
  const skewMs = clockSkewMs(session.config);
  // A switch takes the new profile's lifetime (when it has one); otherwise the old lifetime, starting now.
  const profileEnd = switched && profile.notAfter !== undefined ? resolveValidity({ now, notAfter: profile.notAfter, skewMs }).notAfter : undefined;
  const notAfter = settings.notAfter ?? profileEnd;
  const plan: RenewalPlan = planRenewal(fields, { now, skewMs, ...(notAfter ? { notAfter } : {}), profile: profile.role });
  // The subject stays byte for byte, unless the profile sets attributes (or is new): then CN (and, unswitched, O) plus the profile's.
  const hasAttributes = Object.keys(profile.subject).length > 0;
  const kept = { ...(plan.subject.commonName !== undefined ? { commonName: plan.subject.commonName } : {}), ...(!switched && plan.subject.organization !== undefined ? { organization: plan.subject.organization } : {}) };
  const subject = switched || hasAttributes ? applyProfileSubject(kept, profile) : plan.subject;
  const newKeys = settings.rekey ? await generateKeyPair(keySpecOf(certificatePublicKey(fields))) : null;
  const leaf = issueLeafCertificate({
    issuer,
    config: session.config,
    profile,
    subject,
    sans: [...plan.sans, ...approved.addedSans],
    publicKey: newKeys?.publicKey ?? certificatePublicKey(fields),
    validity: plan.validity,
  });
  // Chain = the new leaf + the current intermediate, as generate and sign write it.
  const content = target.pem ? encodePem(PemLabel.certificate, leaf.der) + issuer.certificatePem : leaf.der;
  const serial = normalizeSerial(fields.serial);
  const written = { der: leaf.der, profile: profile.role, profileName: profile.name, certificatePath: publicPath, keyPath: key.keyPath, supersedes: serial, content };
  let trustAnchorReplaced = false;
  if (entry) {
    const newKey = newKeys && key.keyName !== null ? { name: key.keyName, pem: exportPrivateKeyPem(newKeys.privateKey) } : null;
    trustAnchorReplaced = writeRenewedBundle(session, entry.folder, entry.name, written, newKey);
  } else if (target.plain) {
    writeRenewedFile(session, target.plain, written);
  }
  return {
    path: publicPath,
    status: 'renewed',
    serial,
    newSerial: normalizeSerial(leaf.serial),
    notAfter: plan.validity.notAfter.toISOString(),
    rekeyed: newKeys !== null,
    keyPath: key.keyPath,
    previousCa: approved.previousCa?.fingerprint ?? null,
    trustAnchorReplaced,
  };
}
