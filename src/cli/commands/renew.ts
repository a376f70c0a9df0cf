/**
 * `pki renew <cert-file> [<key-file>]` and `pki renew --all`: re-issue leaf certificates that are due, in
 * place, with the same subject, SANs and profile. Made for cron: quiet when nothing is due, no prompt when
 * a passphrase source exists, one failing certificate does not stop the others, and `--exec` reloads the
 * service once after the batch.
 *
 * Bundles from `pki generate` are versioned folders (docs/layout.md), so the certificate — and with
 * --rekey the key beside it — switch in one rename. Any other certificate file is replaced by one atomic
 * rename; --rekey is refused there, since two renames are not atomic together.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../../core/x509/certificate-fields.js';
import { csrRefusalError, evaluateCsr } from '../../core/x509/csr-policy.js';
import { isPkiError, PkiError } from '../../core/errors.js';
import { ExtensionOid } from '../../core/x509/extensions.js';
import { isIssuedBy } from '../../core/x509/issued-by.js';
import { checkNameConstraints } from '../../core/x509/name-constraints.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKey, keysMatch, keySpecOf } from '../../core/keys/keys.js';
import { decodePem, encodePem, looksLikePem, PemLabel } from '../../core/der/pem.js';
import { isLeafProfileName, PROFILES } from '../../core/x509/profiles.js';
import { parseSans, type San } from '../../core/x509/names.js';
import { DEFAULT_RENEWAL_THRESHOLD, isRenewalDue, planRenewal, renewalDueAt, subjectAltNamesInOrder, validateThreshold, type RenewalPlan, type RenewalPolicy } from '../../core/lifecycle/renewal.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import { parseDuration, parseTimeSpec } from '../../core/x509/validity.js';
import { CaHome, fileExists, FileMode, readBytes, readText } from '../../store/ca-home.js';
import { findPreviousIssuer } from '../../store/previous-ca.js';
import { readRegularFileNoFollow } from '../../store/fs/read-file.js';
import { clockSkewMs, type PkiConfig } from '../../store/config.js';
import { openInventory, type CertificateRecord, type CertificateSummary, type Inventory } from '../../store/inventory/index.js';
import { certificateRecord } from '../../store/inventory/record.js';
import { fileOwnership, liveFilePath, recoverVersionedFolder, versionedEntry, type VersionFile } from '../../store/fs/versioned-folder.js';
import { describeSettled, publishVersionRecorded, replaceFileRecorded, settleBundleJournal, settleFileJournal, type FileIdentity } from '../../store/inventory/journal.js';
import { childEnvironment } from '../child-environment.js';
import { ExitError, formatErrorLine } from '../errors.js';
import { escapeControls } from '../terminal-text.js';
import { issueLeafCertificate } from '../../operations/issue-leaf.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';
import { republishCrlForRenewal, type CrlRepublication } from '../../operations/publish-crl.js';
import { describeRepublication, warnRootCrlDue } from '../crl-text.js';

export interface RenewOptions extends PassphraseOptions {
  readonly all?: boolean;
  readonly rekey?: boolean;
  readonly force?: boolean;
  readonly threshold?: string;
  readonly expiresIn?: string;
  readonly notAfter?: string;
  readonly exec?: string;
  /** With --all: stop tracking certificates whose file is gone (marked superseded), instead of only reporting them. */
  readonly prune?: boolean;
  /** Names to add to the certificate (repeatable); a name it lacks makes it due. */
  readonly san?: string[];
}

export type RenewOutcome =
  | {
      readonly path: string;
      readonly status: 'renewed';
      readonly serial: string;
      readonly newSerial: string;
      readonly notAfter: string;
      readonly rekeyed: boolean;
      readonly keyPath: string | null;
      /** Fingerprint of the replaced CA's intermediate that had issued it (re-issued under the current CA), or null. */
      readonly previousCa: string | null;
      /** The bundle's ca.crt was replaced by the current root. */
      readonly trustAnchorReplaced: boolean;
    }
  | { readonly path: string; readonly status: 'skipped'; readonly serial: string | null; readonly reason: string; readonly dueAt: string | null }
  /** `--all`: the inventory names a file that is gone (a client `generate --force` dropped, an operator's rm); not a failure. */
  | { readonly path: string; readonly status: 'missing'; readonly serial: string; readonly pruned: boolean }
  | { readonly path: string; readonly status: 'failed'; readonly serial: string | null; readonly error: { readonly code: string; readonly message: string; readonly hint: string | null } };

export interface RenewReport {
  readonly renewed: number;
  readonly skipped: number;
  readonly failed: number;
  /** `--all`: recorded files that are gone (with --prune, now marked superseded and never reported again). */
  readonly missing: number;
  /** With --json (or --force, or a file argument) every certificate; otherwise the not-due are only counted in `skipped`. */
  readonly certificates: readonly RenewOutcome[];
  readonly exec: { readonly command: string; readonly exitCode: number | null; readonly signal: string | null; readonly ok: boolean } | null;
  /** --all: whether the intermediate's CRL was due and re-published (null for a single file). */
  readonly crl: CrlRepublication | null;
}

type Issuer = Awaited<ReturnType<CaHome['loadIssuer']>>;

interface RenewContext {
  readonly now: Date;
  readonly config: PkiConfig;
  readonly inventory: Inventory;
  readonly policy: RenewalPolicy;
  readonly force: boolean;
  readonly rekey: boolean;
  readonly notAfter: Date | undefined;
  readonly prune: boolean;
  /** --san: names added to the renewed certificate (parsed and checked as sign's are). */
  readonly extraSans: readonly San[];
  readonly home: CaHome;
  /** Loads the intermediate once, and only when something is due (a no-op run never asks for a passphrase). */
  readonly issuer: () => Promise<Issuer>;
  /** The intermediate's certificate (no key, no passphrase): what a certificate to renew must be signed by. */
  readonly intermediate: () => CertificateFields;
}

/** Flag combinations and values, checked before anything is read. */
function renewalPolicy(options: RenewOptions): RenewalPolicy {
  if (options.threshold !== undefined && options.expiresIn !== undefined) {
    throw new PkiError('ERR_USAGE', '--threshold and --expires-in both say when a certificate is due; give one');
  }
  if (options.expiresIn !== undefined) return { expiresWithinMs: parseDuration(options.expiresIn) };
  if (options.threshold !== undefined) {
    if (!/^\d*\.?\d+$/.test(options.threshold.trim())) {
      throw new PkiError('ERR_INVALID_OPTION', `--threshold "${options.threshold}" is not a number`, { hint: 'use a fraction such as 0.66' });
    }
    return { threshold: validateThreshold(Number(options.threshold)) };
  }
  return { threshold: DEFAULT_RENEWAL_THRESHOLD };
}

/** The certificate in a file (or in `bytes` read from it): the first CERTIFICATE block of PEM (a chain file's leaf), or DER. */
function readCertificateFile(path: string, bytes: Buffer = readBytes(path)): { fields: CertificateFields; pem: boolean } {
  if (bytes.length === 0) throw new PkiError('ERR_EMPTY_INPUT', `${path} is empty`);
  const pem = looksLikePem(bytes);
  try {
    const der = pem ? decodePem(bytes.toString('latin1')).find((b) => b.label === PemLabel.certificate)?.der : bytes;
    if (!der) throw new PkiError('ERR_MALFORMED_CERTIFICATE', 'it holds no CERTIFICATE block');
    return { fields: parseCertificate(der), pem };
  } catch (e) {
    if (isPkiError(e)) {
      const code = e.code === 'ERR_MALFORMED_DER' ? 'ERR_MALFORMED_CERTIFICATE' : e.code;
      throw new PkiError(code, `${path} is not a certificate: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** `redis.crt` → `redis.key`: the layout `pki generate` writes. */
function siblingKeyName(certName: string): string {
  return certName.replace(/\.(crt|pem|cer)$/, '') + '.key';
}

const fingerprintOf = (der: Uint8Array) => createHash('sha256').update(der).digest('hex').toUpperCase();

/** What the inventory records at `path` now, for the refusal message (read only when refusing). */
function recordedAtPath(inventory: Inventory, path: string): string {
  const here = inventory.listSummaries({ kind: 'x509', status: 'valid' }).filter((r) => r.certificatePath === path);
  return here.length ? `pki recorded serial ${here.map((r) => r.serial).join(', ')} at ${path}` : `pki recorded no valid certificate at ${path}`;
}

/**
 * Renewal re-signs what the file says, so the file must be a certificate pki issued and recorded there:
 * signed by the intermediate (its name alone proves nothing), and the inventory's record of that serial has
 * these very bytes at this very path. Needs only the intermediate's certificate, so it runs before any
 * passphrase prompt. Returns the record.
 */
function trustedRecord(ctx: RenewContext, path: string, fields: CertificateFields, record: CertificateRecord | undefined, signedByPreviousCa: boolean): CertificateRecord {
  const serial = normalizeSerial(fields.serial);
  const untrusted = (why: string, hint: string, here = true) =>
    new PkiError('ERR_UNTRUSTED_CERTIFICATE', `${path} holds serial ${serial}, ${why}${here ? `; ${recordedAtPath(ctx.inventory, path)}` : ''}`, { hint });
  const reissue = 'if this file should hold a certificate of this CA, issue one with "pki sign --out" (or pki generate); pki does not renew a certificate it did not issue';
  // signedByPreviousCa: store/previous-ca.ts verified the signature against an archived intermediate.
  if (!signedByPreviousCa && !isIssuedBy(fields, ctx.intermediate())) {
    throw untrusted("whose signature does not verify with this CA's intermediate key: pki did not issue it, whatever its issuer name says", reissue);
  }
  if (!record) {
    throw new PkiError('ERR_UNKNOWN_SERIAL', `${path} holds serial ${serial}, which the inventory does not list; ${recordedAtPath(ctx.inventory, path)}`, {
      hint: 'if the inventory was lost or is older than the certificate, run "pki db rebuild" first; otherwise issue a new certificate',
    });
  }
  if (record.fingerprintSha256 !== fingerprintOf(fields.der)) {
    throw untrusted(`but not the certificate pki recorded for that serial (SHA-256 ${fingerprintOf(fields.der).slice(0, 16)}…, recorded ${record.fingerprintSha256.slice(0, 16)}…)`, reissue);
  }
  if (record.certificatePath !== path) {
    throw untrusted(`which pki recorded ${record.certificatePath ? `at ${record.certificatePath}` : 'without a file (printed at issue)'}, not here`, `renew ${record.certificatePath ?? 'it'} instead, or issue a certificate for this path with "pki sign --out ${path}"`, false);
  }
  return record;
}

/**
 * The old certificate's names and key, judged as `pki sign` judges a request (core/x509/csr-policy.ts): what
 * was acceptable at issue but is not now (a tightened policy, name constraints added to pki.json) is not
 * re-signed. Only its subject, SANs and key count: the new certificate's other extensions come from the profile.
 */
function approveForRenewal(ctx: RenewContext, path: string, fields: CertificateFields, plan: RenewalPlan, addedSans: readonly San[]): void {
  const decision = evaluateCsr(
    {
      der: fields.der,
      infoDer: fields.tbsDer,
      subjectDer: fields.subjectDer,
      spkiDer: fields.spkiDer,
      extensions: fields.extensions.filter((e) => e.oid === ExtensionOid.subjectAltName),
      otherAttributes: [],
      signatureAlgorithmOid: fields.signatureAlgorithmOid,
      signature: fields.signature,
    },
    { profile: PROFILES[plan.profile], keyCertified: true },
  );
  if (!decision.accepted) throw csrRefusalError(decision, path);
  if (ctx.config.nameConstraints) {
    try {
      checkNameConstraints([...plan.sans, ...addedSans], plan.subject, ctx.config.nameConstraints);
    } catch (e) {
      if (e instanceof PkiError) throw new PkiError(e.code, `${path}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
      throw e;
    }
  }
}

/** Certificate files keep their permission bits, without set-uid/set-gid/sticky or execute bits. */
const certificateMode = (mode: number) => mode & 0o666;
/**
 * A new key is 0600, or 0640 when the old one was group-readable as `generate --key-mode 0640` makes it.
 * Nothing else is copied: not group write, not set-uid/set-gid/sticky bits, and a key someone made
 * readable by others (not a mode pki writes) gets 0600 (docs/security.md).
 */
const keyMode = (mode: number) => ((mode & 0o007) === 0 ? FileMode.privateKey | (mode & 0o040) : FileMode.privateKey);

async function renewFile(ctx: RenewContext, certPath: string, keyArg: string | undefined, listed?: CertificateRecord): Promise<RenewOutcome> {
  const path = resolve(certPath);
  const entry = versionedEntry(path);
  if (entry) ctx.home.checkFolderInside(entry.folder); // a bundle inside the home is never reached through a link
  if (entry) recoverVersionedFolder(entry.folder); // a killed earlier run's leftovers go first
  // A run killed between switching the files and recording them: record what is live first (one existsSync otherwise).
  const settled = entry ? settleBundleJournal(entry.folder, ctx.inventory) : settleFileJournal(path, ctx.inventory);
  if (settled?.recorded.length) warn(describeSettled(settled));
  const publicPath = entry ? join(entry.folder, entry.name) : path;
  // A plain file is read, and later replaced, by its own name: never through a link (docs/security.md).
  // Its folder is resolved once, here; the write goes to that folder and checks the name still holds this file.
  let plain: { writePath: string; identity: FileIdentity } | null = null;
  let bytes: Buffer | undefined;
  if (!entry) {
    const read = readRegularFileNoFollow(path);
    bytes = read.bytes;
    let folder: string;
    try {
      folder = realpathSync(dirname(path));
    } catch {
      folder = dirname(path);
    }
    plain = { writePath: join(folder, basename(path)), identity: { dev: read.dev, ino: read.ino } };
  }
  const { fields, pem } = readCertificateFile(publicPath, bytes);
  const serial = normalizeSerial(fields.serial);
  const record = listed && listed.serial === serial ? listed : ctx.inventory.find('x509', serial);
  if (record?.status === 'revoked') {
    throw new PkiError('ERR_POLICY', `certificate ${serial} (${record.subject}) is revoked; a revoked certificate is not renewed`, {
      hint: 'issue a new certificate (pki generate --force, or pki sign) and deploy it',
    });
  }

  // Where the key is, and whether it can change together with the certificate.
  let keyName: string | null = null; // in the versioned folder
  let keyPath: string | null = null;
  if (entry) {
    const given = keyArg ?? (record?.keyPath ? record.keyPath : undefined);
    if (given !== undefined) {
      const keyEntry = versionedEntry(given);
      if (keyEntry && keyEntry.folder === entry.folder) keyName = keyEntry.name;
      else if (ctx.rekey || keyArg !== undefined) {
        throw new PkiError('ERR_POLICY', `${resolve(given)} is not in the same bundle folder as ${publicPath}`, {
          hint: 'a key and its certificate switch together only inside one bundle folder (docs/layout.md)',
        });
      }
    } else if (fileExists(liveFilePath(entry.folder, siblingKeyName(entry.name)))) {
      keyName = siblingKeyName(entry.name);
    }
    if (keyName !== null) keyPath = join(entry.folder, keyName);
  } else {
    if (ctx.rekey) {
      throw new PkiError('ERR_POLICY', `--rekey needs the bundle layout: ${path} is a plain file, and a certificate and a key in two files cannot be replaced together atomically`, {
        hint: 'renew without --rekey (the key stays), or issue a fresh bundle with "pki generate … --force" (docs/layout.md)',
      });
    }
    keyPath = keyArg !== undefined ? resolve(keyArg) : (record?.keyPath ?? null);
  }
  if (ctx.rekey && keyName === null) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `no key found for ${publicPath} (looked for ${siblingKeyName(basename(publicPath))} beside it)`, {
      hint: 'name the key file: pki renew <cert-file> <key-file> --rekey',
    });
  }
  if (keyArg !== undefined) {
    // A key that does not belong to the certificate means the files were mixed up: refuse before any write.
    const key = importPrivateKey(readBytes(keyName !== null && entry ? liveFilePath(entry.folder, keyName) : resolve(keyArg)));
    if (!keysMatch(key, certificatePublicKey(fields))) {
      throw new PkiError('ERR_KEY_MISMATCH', `${resolve(keyArg)} is not the key of ${publicPath}`, { hint: 'give the key file that belongs to this certificate' });
    }
  }

  const profile = record && isLeafProfileName(record.profile) ? record.profile : undefined;
  const dueAt = renewalDueAt(fields, ctx.policy);
  const names = planRenewal(fields, { now: ctx.now, ...(profile ? { profile } : {}) }); // refuses CA certificates and odd SANs even when not due
  // A certificate of a CA `init --force` replaced (its signature verified against the archived
  // intermediate): due whatever its dates, re-issued under the current CA.
  const previousCa = findPreviousIssuer(ctx.home, fields, ctx.intermediate());
  // Refused even when not due, and before any prompt or write: a forged or foreign file is never re-signed.
  trustedRecord(ctx, publicPath, fields, record, previousCa !== null);
  const have = new Set(subjectAltNamesInOrder(fields).map((s) => `${s.type}:${s.value}`));
  const addedSans = ctx.extraSans.filter((s) => !have.has(`${s.type}:${s.value}`));
  approveForRenewal(ctx, publicPath, fields, names, addedSans);
  if (!ctx.force && !previousCa && addedSans.length === 0 && !isRenewalDue(fields, ctx.now, ctx.policy)) {
    return { path: publicPath, status: 'skipped', serial, reason: 'not due', dueAt: dueAt.toISOString() };
  }

  const issuer = await ctx.issuer();
  const plan = planRenewal(fields, { now: ctx.now, skewMs: clockSkewMs(ctx.config), ...(ctx.notAfter ? { notAfter: ctx.notAfter } : {}), ...(profile ? { profile } : {}) });
  const newKeys = ctx.rekey ? await generateKeyPair(keySpecOf(certificatePublicKey(fields))) : null;
  const leaf = issueLeafCertificate({
    issuer,
    config: ctx.config,
    profile: PROFILES[plan.profile],
    subject: plan.subject,
    sans: [...plan.sans, ...addedSans],
    publicKey: newKeys?.publicKey ?? certificatePublicKey(fields),
    validity: plan.validity,
  });
  // Chain = the new leaf + the current intermediate, as generate and sign write it.
  const content = pem ? encodePem(PemLabel.certificate, leaf.der) + issuer.certificatePem : leaf.der;

  // Files and inventory change together through an inventory journal (store/inventory/journal.ts).
  const newRecord = certificateRecord(leaf.der, { profile: plan.profile, certificatePath: publicPath, keyPath, supersedes: record ? serial : null });
  let trustAnchorReplaced = false;
  if (entry) {
    const cert = fileOwnership(liveFilePath(entry.folder, entry.name));
    const files: VersionFile[] = [{ name: entry.name, content, ...cert, mode: certificateMode(cert.mode) }];
    if (newKeys && keyName !== null) {
      const key = fileOwnership(liveFilePath(entry.folder, keyName));
      files.push({ name: keyName, content: exportPrivateKeyPem(newKeys.privateKey), ...key, mode: keyMode(key.mode) });
    }
    const anchor = staleTrustAnchor(ctx.home, entry.folder);
    if (anchor) files.push(anchor);
    trustAnchorReplaced = anchor !== null;
    publishVersionRecorded(entry.folder, files, { noClobber: false, keepOthers: true }, [newRecord], ctx.inventory, ctx.now);
  } else if (plain) {
    const own = fileOwnership(plain.writePath);
    replaceFileRecorded(path, plain.writePath, content, { mode: certificateMode(own.mode), overwrite: true, uid: own.uid, gid: own.gid }, newRecord, ctx.inventory, plain.identity);
  }
  return {
    path: publicPath,
    status: 'renewed',
    serial,
    newSerial: normalizeSerial(leaf.serial),
    notAfter: plan.validity.notAfter.toISOString(),
    rekeyed: newKeys !== null,
    keyPath,
    previousCa: previousCa?.fingerprint ?? null,
    trustAnchorReplaced,
  };
}

/**
 * A bundle's ca.crt that is not the current root (the CA was replaced with `init --force`): the file that
 * replaces it in the renewed version, so the bundle verifies again. Null when it is current or absent.
 */
function staleTrustAnchor(home: CaHome, folder: string): VersionFile | null {
  const live = liveFilePath(folder, 'ca.crt');
  if (!fileExists(live)) return null;
  const rootPem = home.readRootCertificatePem();
  if (readText(live).trim() === rootPem.trim()) return null;
  return { name: 'ca.crt', content: rootPem, ...fileOwnership(live) };
}

function failure(path: string, serial: string | null, e: unknown): RenewOutcome {
  const error = isPkiError(e)
    ? { code: e.code, message: e.message, hint: e.hint ?? null }
    : { code: 'ERR_INTERNAL', message: `internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (this is a bug)`, hint: null };
  return { path, status: 'failed', serial, error };
}

/**
 * The certificates `--all` reports on: every valid leaf in the inventory, one per file path. Those the
 * inventory's listDue does not name (and --force does not force) are reported as not due without reading
 * their files, so a cron run over many certificates touches only the due ones.
 */
function batch(inventory: Inventory, ctx: RenewContext): { record: CertificateSummary; due: boolean }[] {
  const seen = new Set<string>();
  const out: { record: CertificateSummary; due: boolean }[] = [];
  const previous = inventory.previousCaSerials(); // a replaced CA's certificates are due whatever their dates
  // One pass over summaries (no PEM, answered from an index), judged by the same rule renewFile applies:
  // reading 100,000 full records took seconds. renewFile reads the full record of the due ones.
  for (const r of inventory.listSummaries({ kind: 'x509', status: 'valid' })) {
    if (r.kind !== 'x509' || !isLeafProfileName(r.profile)) continue;
    const key = r.certificatePath ?? `serial:${r.serial}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ record: r, due: ctx.force || previous.has(r.serial) || isRenewalDue({ notBefore: new Date(r.notBefore), notAfter: new Date(r.notAfter) }, ctx.now, ctx.policy) });
  }
  return out;
}

/**
 * A recorded file that no longer exists (through the bundle links): reported as `missing`, and with
 * --prune its record is marked superseded so later runs stop naming it. Null when the file is there.
 */
function missingFile(ctx: RenewContext, record: CertificateSummary): RenewOutcome | null {
  if (record.certificatePath === null || existsSync(record.certificatePath)) return null;
  if (ctx.prune) ctx.inventory.retire('x509', [record.serial]);
  return { path: record.certificatePath, status: 'missing', serial: record.serial, pruned: ctx.prune };
}

/** One listed, due certificate of `--all`: renewed, or the reason it was not. */
async function renewListed(ctx: RenewContext, record: CertificateSummary): Promise<RenewOutcome> {
  if (record.certificatePath === null) {
    return { path: `(serial ${record.serial})`, status: 'skipped', serial: record.serial, reason: 'printed to stdout at issue; no file to renew', dueAt: null };
  }
  const missing = missingFile(ctx, record);
  if (missing) return missing;
  try {
    return await renewFile(ctx, record.certificatePath, record.keyPath ?? undefined);
  } catch (e) {
    return failure(record.certificatePath, record.serial, e);
  }
}

function runExec(command: string, json: boolean): NonNullable<RenewReport['exec']> {
  // Through sh -c so quoting works as in a shell; with --json its output goes to stderr to keep stdout one document.
  // Without pki's own variables (PKI_PASSWORD …): the reload command must not see the CA passphrase.
  const r = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', json ? 2 : 'inherit', 'inherit'], env: childEnvironment() });
  return { command, exitCode: r.status, signal: r.signal, ok: r.status === 0 && !r.error };
}

function renderHuman(report: RenewReport, all: boolean, quiet: boolean): string {
  const lines: string[] = [];
  for (const c of report.certificates) {
    if (c.status === 'renewed') {
      lines.push(
        `Renewed ${c.path}: serial ${c.serial} → ${c.newSerial}, valid until ${c.notAfter.slice(0, 10)}${c.rekeyed ? ', new key' : ''}${c.previousCa ? ', re-issued under the new CA' : ''}${c.trustAnchorReplaced ? ', new ca.crt' : ''}`,
      );
    } else if (c.status === 'skipped' && !quiet && !all) {
      lines.push(c.dueAt ? `Not due: ${c.path} (serial ${c.serial}) is due from ${c.dueAt.slice(0, 19).replace('T', ' ')} UTC; nothing changed.` : `Skipped ${c.path}: ${c.reason}`);
    } else if (c.status === 'missing') {
      lines.push(
        c.pruned
          ? `Pruned ${c.path} (serial ${c.serial}): the file is gone; its record is marked superseded.`
          : `Missing ${c.path} (serial ${c.serial}): the file is gone; "pki renew --all --prune" stops tracking it.`,
      );
    }
  }
  if (all && (!quiet || report.renewed || report.failed || report.missing)) {
    lines.push(`${report.renewed} renewed, ${report.skipped} not due, ${report.failed} failed${report.missing ? `, ${report.missing} missing` : ''}.`);
  }
  if (report.exec) lines.push(report.exec.ok ? `Ran: ${report.exec.command}` : `Failed: ${report.exec.command}`);
  if (report.crl?.status === 'published') lines.push(describeRepublication(report.crl));
  return lines.join('\n');
}

export async function runRenew(certFile: string | undefined, keyFile: string | undefined, options: RenewOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.all && certFile !== undefined) {
    throw new PkiError('ERR_USAGE', '--all renews what the inventory lists; it takes no file argument', { hint: 'drop the file, or drop --all' });
  }
  if (options.all && options.san?.length) {
    throw new PkiError('ERR_USAGE', '--san adds names to one certificate; it does not go with --all', { hint: 'pki renew certs/redis.crt --san cache.internal' });
  }
  if (options.prune && !options.all) {
    throw new PkiError('ERR_USAGE', '--prune goes with --all: it stops tracking recorded files that are gone', { hint: 'pki renew --all --prune' });
  }
  if (!options.all && certFile === undefined) {
    throw new PkiError('ERR_USAGE', 'name the certificate to renew, or pass --all', { hint: 'pki renew certs/redis.crt, or pki renew --all from cron' });
  }
  const policy = renewalPolicy(options);
  const notAfter = options.notAfter !== undefined ? parseTimeSpec(options.notAfter, now) : undefined;
  const home = openHome(globals);
  const config = home.readConfig();
  const inventory = await openInventory(home);
  let issuerPromise: Promise<Issuer> | undefined;
  let intermediate: CertificateFields | undefined;
  const ctx: RenewContext = {
    now,
    config,
    inventory,
    policy,
    force: options.force === true,
    rekey: options.rekey === true,
    notAfter,
    prune: options.prune === true,
    extraSans: parseSans(options.san ?? []),
    home,
    issuer: () => (issuerPromise ??= home.loadIssuer(passphraseSource(options), now, inventory)),
    intermediate: () => (intermediate ??= parseCertificate(home.readIntermediateCertificate().der)),
  };
  const outcomes: RenewOutcome[] = [];
  let notDueUnlisted = 0; // not due, counted but not in `outcomes` (human output lists only what changed)
  let crl: CrlRepublication | null = null;
  try {
    // Without --json the report names only what changed or failed, so the inventory decides what may be
    // due in SQL and the not-due ones are only counted: 100,000 of them are never turned into objects.
    // --prune looks at every recorded file, due or not, so it takes the whole list.
    const candidates = options.all && !globals.json && !ctx.force && !ctx.prune ? inventory.renewalCandidates(now, policy) : null;
    if (candidates && !candidates.sharedPaths) {
      let listed = 0;
      for (const record of candidates.candidates) {
        if (!record.previousCa && !isRenewalDue({ notBefore: new Date(record.notBefore), notAfter: new Date(record.notAfter) }, now, policy)) continue;
        listed++;
        outcomes.push(await renewListed(ctx, record));
      }
      notDueUnlisted = candidates.total - listed;
    } else if (options.all) {
      for (const { record, due } of batch(inventory, ctx)) {
        if (!due) {
          const missing = ctx.prune ? missingFile(ctx, record) : null;
          if (missing) {
            outcomes.push(missing);
            continue;
          }
          const dueAt = renewalDueAt({ notBefore: new Date(record.notBefore), notAfter: new Date(record.notAfter) }, ctx.policy);
          outcomes.push({ path: record.certificatePath ?? `(serial ${record.serial})`, status: 'skipped', serial: record.serial, reason: 'not due', dueAt: dueAt.toISOString() });
          continue;
        }
        outcomes.push(await renewListed(ctx, record));
      }
    } else {
      // A single certificate: its refusal is the command's error (one line, exit 1).
      outcomes.push(await renewFile(ctx, certFile!, keyFile, undefined));
    }
    // The cron entry point also keeps the intermediate's CRL from expiring (store/crl-publication.ts).
    if (options.all) crl = await republishCrlForRenewal(home, inventory, { now, config, loadIssuer: ctx.issuer });
  } finally {
    inventory.close();
  }

  const count = (s: RenewOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  const renewed = count('renewed');
  // A re-published CRL also needs the servers reloaded (nginx and PostgreSQL read it at start and reload).
  const exec = options.exec !== undefined && (renewed > 0 || crl?.status === 'published') ? runExec(options.exec, globals.json) : null;
  const report: RenewReport = { renewed, skipped: count('skipped') + notDueUnlisted, failed: count('failed'), missing: count('missing'), certificates: outcomes, exec, crl };
  // --quiet (cron): silent only when nothing changed; renewals, failures and missing files are always worth a mail.
  const quiet = globals.quiet && renewed === 0 && report.failed === 0 && report.missing === 0 && exec === null;
  emit({ json: globals.json, quiet }, report, (r) => renderHuman(r, options.all === true, globals.quiet));

  const failedOnes = outcomes.filter((o): o is Extract<RenewOutcome, { status: 'failed' }> => o.status === 'failed');
  for (const f of failedOnes) process.stderr.write(`${formatErrorLine({ message: `${f.path}: ${f.error.message}`, hint: f.error.hint ?? undefined })}\n`);
  if (failedOnes.length) {
    process.stderr.write(`pki: error: ${failedOnes.length} of ${outcomes.length + notDueUnlisted} certificates failed to renew: ${escapeControls(failedOnes.map((f) => f.path).join(', '))}\n`);
  }
  if (exec && !exec.ok) {
    process.stderr.write(`pki: error: --exec command failed (${exec.signal ? `killed by ${exec.signal}` : `exit ${exec.exitCode}`}): ${exec.command}\n`);
  }
  warnRootCrlDue(crl?.root ?? null);
  if (crl?.status === 'failed' && crl.error) process.stderr.write(`${formatErrorLine({ message: `the CRL is due but was not re-published: ${crl.error.message}`, hint: crl.error.hint ?? undefined })}\n`);
  if (failedOnes.length || (exec && !exec.ok) || crl?.status === 'failed') throw new ExitError(1);
}
