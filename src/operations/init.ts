/**
 * Creating a CA (`pki init`, and `pki generate --init` on an empty home): a root CA and an intermediate CA
 * signed by it, their first CRLs, a fresh inventory and pki.json. The root key belongs offline afterwards;
 * the intermediate does all day-to-day issuing. Every refusal comes before the passphrase is asked and
 * before anything is written.
 */
import type { KeyObject } from 'node:crypto';
import type { SigningKey } from '../core/keys/signing-key.js';
import { issueCertificate } from '../core/x509/certificate.js';
import { parseCertificate, subjectKeyIdentifierOf } from '../core/x509/certificate-fields.js';
import { PkiError } from '../core/errors.js';
import { encryptPrivateKeyPem } from '../core/keys/encryption.js';
import { exportPrivateKeyPem, formatKeySpec, type KeySpec } from '../core/keys/keys.js';
import { validateCommonName } from '../core/x509/names.js';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { hasNameConstraints, NO_NAME_CONSTRAINTS, normalizeNameConstraints, type NameConstraints } from '../core/x509/name-constraints.js';
import { PROFILES } from '../core/x509/profiles.js';
import { generateSerial } from '../core/x509/serial.js';
import { parseDuration, resolveValidity, type Validity } from '../core/x509/validity.js';
import { inspectCertificate } from '../core/inspect/certificate.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { writeFilesAtomic } from '../store/fs/batch-write.js';
import { ensureFolder, ensureHomeFolder, FileMode, type CaHome } from '../store/ca-home.js';
import { defaultConfig, type PkiConfig } from '../store/config.js';
import { openInventory, probeInventoryForInit, type Inventory } from '../store/inventory/index.js';
import { certificateRecord } from '../store/inventory/record.js';
import { publishInitialCrls } from './publish-crl.js';
import { archiveCurrentCa } from '../store/previous-ca.js';
import { certificatesThatStopChaining, describeStopsChaining, type StopsChaining } from './ca-handover.js';
import type { NewKeyProtection } from './key-protection.js';
import { fileExists } from '../store/fs/read-file.js';
import { formatPkcs11Uri, type Pkcs11Uri } from '../store/pkcs11/uri.js';
import { checkInitKmsUri, generateCaKeyPairs, tokenKeyUri, type CaKeyPairs } from './init-keys.js';

export interface InitRequest {
  /** The CA name used in both subjects (`<name> Root CA`, `<name> Intermediate CA`), at most 40 characters. */
  readonly name: string;
  readonly keySpec: KeySpec;
  /** Lifetimes: a duration (10y) or an RFC 3339 time. */
  readonly rootNotAfter: string;
  readonly intermediateNotAfter: string;
  /** Replace an existing (or half-made) CA; its intermediate is archived under ca/previous/. */
  readonly force?: boolean;
  /** Name constraints stamped into the intermediate. */
  readonly permittedDns?: readonly string[];
  readonly excludedDns?: readonly string[];
  readonly permittedIp?: readonly string[];
  readonly excludedIp?: readonly string[];
  /** Generate both keys on this PKCS#11 token (`--kms`) instead of writing key files; no passphrase is asked. */
  readonly kms?: Pkcs11Uri;
}

/** How the new CA keys are stored: encrypted with a passphrase, or in the clear (CI only). cli/passphrase.ts makes one. */

export interface InitContext {
  readonly now: Date;
  /** Asked once every check has passed, so a refused init never prompts. The passphrase is wiped after use. */
  readonly protection: () => Promise<NewKeyProtection>;
  /** Told as things happen (before a prompt, before a replacement): the certificates that stop chaining. */
  readonly warn: (message: string) => void;
}

export interface CertificateSummary {
  readonly certificate: string;
  readonly key: string;
  readonly subject: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
}

/** What `pki init --json` prints. */
export interface InitReport {
  readonly dir: string;
  readonly key: string;
  readonly keysEncrypted: boolean;
  /** The PKCS#11 token holding both keys (pki.json "kms"), when made with --kms. */
  readonly kms?: string;
  readonly root: CertificateSummary;
  readonly intermediate: CertificateSummary;
  readonly crl: { readonly root: string; readonly intermediate: string; readonly chain: string | null; readonly rootNextUpdate: string };
  /** Only with force: the archived intermediate's folder and the certificates that stopped chaining. */
  readonly previousCa?: string | null;
  readonly stopsChaining?: readonly StopsChaining[];
}

export interface InitResult {
  /** The CA name as validated (trimmed). */
  readonly name: string;
  readonly report: InitReport;
  /** The certificates of the replaced CA that no longer chain (empty without force). */
  readonly stopsChaining: readonly StopsChaining[];
}

/** Everything decided before anything is written. */
export interface InitPlan {
  readonly name: string;
  readonly keySpec: KeySpec;
  readonly rootValidity: Validity;
  readonly intermediateValidity: Validity;
  readonly nameConstraints: NameConstraints | null;
  readonly hadLeftovers: boolean;
}

/**
 * pki.json records lifetimes as durations. `--root-not-after 2060-01-01T00:00:00Z` is a time, which the
 * config cannot hold (writing it made every later command refuse pki.json): record the lifetime it meant.
 */
function lifetimeText(given: string, validity: Validity, now: Date): string {
  try {
    parseDuration(given);
    return given.trim();
  } catch {
    const seconds = Math.round((validity.notAfter.getTime() - now.getTime()) / 1000);
    return seconds % 86_400 === 0 ? `${seconds / 86_400}d` : `${seconds}s`;
  }
}

/** How many CA files the home holds already; ERR_CA_EXISTS when there are some and `force` is not given. */
export function refuseExistingCa(home: CaHome, force: boolean, hint = 'pass --force to replace it (certificates issued by the old CA will no longer chain), or choose another --dir'): number {
  const leftovers = [home.configPath, home.rootCertPath, home.rootKeyPath, home.intermediateCertPath, home.intermediateKeyPath].filter((p) => fileExists(p));
  if (leftovers.length > 0 && !force) {
    throw new PkiError('ERR_CA_EXISTS', home.isInitialized() ? `a CA already exists in ${home.dir}` : `${home.dir} holds CA files from an unfinished init (${leftovers.length} files)`, { hint });
  }
  return leftovers.length;
}

/** The refusals, in the order the CLI has always reported them. */
function planInit(home: CaHome, request: InitRequest, now: Date): InitPlan {
  if (request.kms) {
    checkInitKmsUri(request.kms);
    if (request.force) throw new PkiError('ERR_USAGE', '--kms does not replace an existing CA (--force) in this version', { hint: 'create the token CA in a new, empty --dir' });
  }
  const leftovers = refuseExistingCa(home, request.force === true);
  // `pki ca add` CAs hang off the root --force replaces: they would keep issuing under a root nobody trusts.
  const added = request.force ? home.issuingCaNames() : [];
  if (added.length) throw new PkiError('ERR_CA_EXISTS', `pki init --force would leave the issuing CAs ${added.join(', ')} under the replaced root`, { hint: `move ${added.map((n) => `ca/${n}/`).join(', ')} out of ${home.dir} first (they end with the old root), then run init --force and "pki ca add" again` });
  const name = validateCommonName(request.name.trim());
  if (name.length > 40) throw new PkiError('ERR_INVALID_NAME', `CA name "${name}" is longer than 40 characters`);
  const rootValidity = resolveValidity({ now, notAfter: request.rootNotAfter });
  const intermediateValidity = resolveValidity({ now, notAfter: request.intermediateNotAfter });
  if (intermediateValidity.notAfter > rootValidity.notAfter) {
    throw new PkiError('ERR_VALIDITY', `the intermediate (${request.intermediateNotAfter}) would outlive the root (${request.rootNotAfter})`, {
      hint: 'choose a shorter --intermediate-not-after or a longer --root-not-after',
    });
  }
  return { name, keySpec: request.keySpec, rootValidity, intermediateValidity, nameConstraints: requestedNameConstraints(request), hadLeftovers: leftovers > 0 };
}

/** The name constraints the flags ask to stamp into the intermediate, or null for none. */
export function requestedNameConstraints(request: Pick<InitRequest, 'permittedDns' | 'excludedDns' | 'permittedIp' | 'excludedIp'>): NameConstraints | null {
  const nameConstraints = normalizeNameConstraints({
    ...NO_NAME_CONSTRAINTS,
    permittedDns: [...(request.permittedDns ?? [])],
    excludedDns: [...(request.excludedDns ?? [])],
    permittedIp: [...(request.permittedIp ?? [])],
    excludedIp: [...(request.excludedIp ?? [])],
  });
  return hasNameConstraints(nameConstraints) ? nameConstraints : null;
}

/** The CA in memory: both keys and both certificates (made by issueCa, or adopted by import-ca.ts). */
export interface IssuedCa {
  readonly rootKey: SigningKey;
  readonly intermediateKey: SigningKey;
  readonly rootDer: Buffer;
  readonly intermediateDer: Buffer;
}

/** Both certificates for the key pairs (in memory, or on a token). */
export function issueCa(plan: Pick<InitPlan, 'name' | 'rootValidity' | 'intermediateValidity' | 'nameConstraints'>, { root, intermediate }: CaKeyPairs): IssuedCa {
  const rootDer = issueCertificate({
    serial: generateSerial(),
    subject: { commonName: `${plan.name} Root CA` },
    sans: [],
    profile: PROFILES.root,
    publicKey: root.publicKey,
    ...plan.rootValidity,
    issuer: 'self',
    selfSigningKey: root.privateKey,
  });
  const intermediateDer = issueIntermediateCa(plan, { der: rootDer, key: root.privateKey, notAfter: plan.rootValidity.notAfter }, intermediate.publicKey);
  return { rootKey: root.privateKey, intermediateKey: intermediate.privateKey, rootDer, intermediateDer };
}

/** `<name> Intermediate CA` signed by the root (pki's own, or the one `init --import-ca` adopted). */
export function issueIntermediateCa(
  plan: Pick<InitPlan, 'name' | 'intermediateValidity' | 'nameConstraints'>,
  root: { readonly der: Uint8Array; readonly key: SigningKey; readonly notAfter: Date },
  publicKey: KeyObject,
): Buffer {
  const rootFields = parseCertificate(root.der);
  return issueCertificate({
    serial: generateSerial(),
    subject: { commonName: `${plan.name} Intermediate CA` },
    sans: [],
    profile: PROFILES.intermediate,
    publicKey,
    ...plan.intermediateValidity,
    ...(plan.nameConstraints ? { nameConstraints: plan.nameConstraints } : {}),
    issuer: {
      subjectDer: rootFields.subjectDer,
      keyIdentifier: subjectKeyIdentifierOf(rootFields) ?? null, // the root's SKI, copied
      privateKey: root.key,
      notAfter: root.notAfter,
    },
  });
}

/** Both keys as PEM, encrypted when asked; the passphrase is wiped once used. Key files only. */
export async function keyPems(ca: { rootKey: KeyObject; intermediateKey: KeyObject }, protection: NewKeyProtection): Promise<[string, string]> {
  if (!protection.encrypt) return [exportPrivateKeyPem(ca.rootKey), exportPrivateKeyPem(ca.intermediateKey)];
  try {
    const [root, intermediate] = await Promise.all([
      encryptPrivateKeyPem(ca.rootKey, { passphrase: protection.passphrase }),
      encryptPrivateKeyPem(ca.intermediateKey, { passphrase: protection.passphrase }),
    ]);
    return [root, intermediate];
  } finally {
    protection.passphrase.fill(0);
  }
}

/** pki.json of a new CA (lifetimes as durations, the name constraints stamped). */
export function configFor(plan: InitPlan, request: InitRequest, now: Date): PkiConfig {
  const nc = plan.nameConstraints;
  return {
    ...defaultConfig(plan.name, plan.keySpec, { root: lifetimeText(request.rootNotAfter, plan.rootValidity, now), intermediate: lifetimeText(request.intermediateNotAfter, plan.intermediateValidity, now) }),
    ...(nc ? { nameConstraints: { ...nc, permittedDns: [...nc.permittedDns], excludedDns: [...nc.excludedDns], permittedIp: [...nc.permittedIp], excludedIp: [...nc.excludedIp], permittedEmail: [], permittedUri: [] } } : {}),
  };
}

/** How writeCa writes a CA: over leftovers or an existing CA, the pki.json to write, and the history an import brings. */
export interface CaWrite {
  readonly force: boolean;
  readonly hadLeftovers: boolean;
  readonly config: PkiConfig;
  /** `pki init --import-index`: records the adopted CA's earlier certificates, after the CA's own and before pki.json. */
  readonly history?: (inventory: Inventory) => void;
}

/**
 * Writes keys, certificates, inventory, pki.json and the first CRLs, in the order that keeps a kill
 * recoverable. Returns the inventory still open (one open per run): the caller closes it or hands it on.
 */
export async function writeCa(home: CaHome, write: CaWrite, ca: IssuedCa, keys: [string, string] | null, now: Date) {
  ensureFolder(home.dir);
  ensureHomeFolder(home.caDir, FileMode.privateFolder);
  const overwrite = write.force;
  // The old intermediate stays as ca/previous/<fingerprint>/, so renew recognises what it signed.
  const previousCa = overwrite ? archiveCurrentCa(home) : null;
  const rootPem = encodePem(PemLabel.certificate, ca.rootDer);
  const intermediatePem = encodePem(PemLabel.certificate, ca.intermediateDer);
  // The four files of ca/ as one batch: every one fsynced before any is placed (the fsyncs run together,
  // one commit), placed keys first, ca/ fsynced once.
  // Keys on a token (`keys` null): no key files, and none left over from a CA this one replaces.
  await writeFilesAtomic(
    [
      ...(keys ? [{ path: home.rootKeyPath, data: keys[0], mode: FileMode.privateKey }, { path: home.intermediateKeyPath, data: keys[1], mode: FileMode.privateKey }] : []),
      { path: home.rootCertPath, data: rootPem, mode: FileMode.public },
      { path: home.intermediateCertPath, data: intermediatePem, mode: FileMode.public },
    ],
    { overwrite },
  );
  // A new CA starts a fresh inventory (an old one is kept as db/pki.sqlite.replaced-<time>), recorded in one transaction.
  // Without an old X.509 CA, an inventory here holds only the SSH CAs' records (`pki ssh init` came first): keep it.
  const inventory = await openInventory(home, write.hadLeftovers ? 'fresh' : 'create-if-missing', now, previousCa);
  try {
    inventory.recordIssued([
      certificateRecord(rootPem, { profile: 'root', certificatePath: home.rootCertPath, keyPath: keys ? home.rootKeyPath : null }),
      certificateRecord(intermediatePem, { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: keys ? home.intermediateKeyPath : null }),
    ]);
    write.history?.(inventory);
    // pki.json last: its presence is what marks the CA as complete.
    const { config } = write;
    writeFileAtomic(home.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: FileMode.public, overwrite });
    // The root's and the intermediate's first CRLs and crl/chain.crl.pem, while the root key is at hand.
    const crls = publishInitialCrls(home, inventory, { rootDer: ca.rootDer, rootKey: ca.rootKey, intermediateDer: ca.intermediateDer, intermediateKey: ca.intermediateKey }, config, now);
    return { previousCa, crls, inventory };
  } catch (e) {
    inventory.close();
    throw e;
  }
}

export function summary(der: Uint8Array, certificate: string, key: string): CertificateSummary {
  const r = inspectCertificate(der);
  return { certificate, key, subject: r.subject, serial: r.serial, notAfter: r.notAfter, fingerprintSha256: r.fingerprintSha256 };
}

/** Runs under the home's lock; see initCa. `keepInventory` takes the open inventory (it closes it), else it is closed here. */
async function initLocked(home: CaHome, request: InitRequest, context: InitContext, keepInventory?: (inventory: Inventory) => void): Promise<InitResult> {
  const { now } = context;
  const plan = planInit(home, request, now);
  // init --force: name what will stop chaining before anything is replaced (issue 9).
  const stopsChaining = request.force ? await certificatesThatStopChaining(home, now) : [];
  if (stopsChaining.length) context.warn(describeStopsChaining(stopsChaining));
  // A PostgreSQL inventory is reached before any key is made or file written (issue 14), and named in
  // pki.json so that the home and its copies on other CA hosts keep using it without PKI_DATABASE_URL.
  const database = await probeInventoryForInit(home);
  // On a token: the PIN comes from its pin-source file, and no passphrase is asked for key files there are none of.
  const protection: NewKeyProtection = request.kms ? { encrypt: false } : await context.protection();
  const pairs = await generateCaKeyPairs(plan.keySpec, request.kms);
  const ca = issueCa(plan, pairs);
  const keys = pairs.onToken ? null : await keyPems({ rootKey: pairs.root.privateKey as KeyObject, intermediateKey: pairs.intermediate.privateKey as KeyObject }, protection);
  const kms = request.kms ? formatPkcs11Uri(request.kms) : undefined;
  const config = { ...configFor(plan, request, now), ...(database ? { inventory: { url: database.display } } : {}), ...(kms ? { kms } : {}) };
  const write: CaWrite = { force: request.force === true, hadLeftovers: plan.hadLeftovers, config };
  const { previousCa, crls, inventory } = await writeCa(home, write, ca, keys, now);
  if (keepInventory) keepInventory(inventory);
  else inventory.close();
  const report: InitReport = {
    dir: home.dir,
    key: formatKeySpec(plan.keySpec),
    keysEncrypted: protection.encrypt,
    ...(kms ? { kms } : {}),
    root: summary(ca.rootDer, home.rootCertPath, request.kms ? tokenKeyUri(request.kms, 'root') : home.rootKeyPath),
    intermediate: summary(ca.intermediateDer, home.intermediateCertPath, request.kms ? tokenKeyUri(request.kms, 'intermediate') : home.intermediateKeyPath),
    crl: { root: crls.root.path, intermediate: crls.intermediate.path, chain: crls.intermediate.chainPath, rootNextUpdate: crls.root.nextUpdate },
    ...(request.force ? { previousCa, stopsChaining } : {}),
  };
  return { name: plan.name, report, stopsChaining };
}

/**
 * Creates the CA in `home`. One init at a time (the home's lock): two at once would leave one run's keys
 * beside the other's certificates. Refuses an existing CA unless `force`.
 */
export async function initCa(home: CaHome, request: InitRequest, context: InitContext): Promise<InitResult> {
  return home.withLock(() => initLocked(home, request, context));
}

/**
 * As initCa, but a CA that exists by the time the lock is held (another run made it meanwhile) is used as
 * it is: returns null then. For `pki generate --init`, which passes `keepInventory` to issue the bundle
 * into the inventory init opened (each open and close costs a WAL checkpoint and its fsyncs).
 */
export async function initCaIfMissing(
  home: CaHome,
  request: Omit<InitRequest, 'force'>,
  context: InitContext,
  keepInventory?: (inventory: Inventory) => void,
): Promise<InitResult | null> {
  return home.withLock(async () => (home.isInitialized() ? null : initLocked(home, request, context, keepInventory)));
}

/** init's defaults for what `pki generate --init` does not ask: the CA name and both lifetimes (as `pki init`'s flags). */
export const DEFAULT_CA = { name: 'pki', rootNotAfter: '10y', intermediateNotAfter: '5y' } as const;
