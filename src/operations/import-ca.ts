/**
 * Adopting an existing CA (`pki init --import-ca CERT --import-key KEY [--import-index index.txt]`), e.g. the
 * flat layout of the usual eight openssl commands: one self-signed ca.crt whose ca.key signed every leaf.
 * The imported certificate becomes pki's root (ca/root_ca.crt, its key re-encrypted as pki stores CA keys),
 * and a new intermediate is issued under it for day-to-day issuing. Clients keep the anchor they have: the
 * old leaves chain to it directly, the new ones through the intermediate. With an index.txt the old serials
 * and revocations enter the inventory (import-index.ts), and the root's first CRL lists the old revocations.
 * Every refusal comes before anything is written (docs/import.md).
 */
import { PkiError } from '../core/errors.js';
import { formatKeySpec, generateKeyPair, keySpecOf, type KeySpec } from '../core/keys/keys.js';
import { assertAdoptableRoot, assertKeyOfCertificate } from '../core/x509/adoptable-ca.js';
import { parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { commonNameOf } from '../core/x509/name-decoder.js';
import { validateCommonName } from '../core/x509/names.js';
import { resolveValidity, type Validity } from '../core/x509/validity.js';
import { openCaKey, readBytes, readText, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { firstCertificateDer } from '../store/inventory/record.js';
import { configFor, issueIntermediateCa, keyPems, refuseExistingCa, requestedNameConstraints, summary, writeCa, type InitPlan, type InitReport } from './init.js';
import { readOpensslHistory, recordHistory, type ImportedHistory } from './import-index.js';
import type { NewKeyProtection } from './key-protection.js';

export interface ImportCaRequest {
  readonly certificatePath: string;
  readonly keyPath: string;
  readonly indexPath?: string | undefined;
  /** pki.json's name and the new intermediate's `<name> Intermediate CA`; default the imported CN without a trailing "Root CA"/"CA". */
  readonly name?: string | undefined;
  /** The new intermediate's key (the root keeps the imported one). */
  readonly keySpec: KeySpec;
  /** The intermediate's lifetime, cut to the root's notAfter when longer. */
  readonly intermediateNotAfter: string;
  readonly permittedDns?: readonly string[];
  readonly excludedDns?: readonly string[];
  readonly permittedIp?: readonly string[];
  readonly excludedIp?: readonly string[];
}

export interface ImportCaContext {
  readonly now: Date;
  /** Opens --import-key when it is encrypted (asked after every check on the certificate and the index). */
  readonly importPassphrase: PassphraseSource;
  /** How the stored keys are protected, asked once the imported key has opened. */
  readonly protection: () => Promise<NewKeyProtection>;
}

/** What `pki init --import-ca --json` prints: init's report and what was taken over. */
export interface ImportCaReport extends InitReport {
  readonly imported: {
    readonly certificate: string;
    readonly key: string;
    /** The imported root key's type (`RSA 2048`); `key` above is the new intermediate's. */
    readonly rootKey: string;
    readonly index: string | null;
    /** Records taken from index.txt, how many of them from newcerts/ files, how many revoked. */
    readonly certificates: number;
    readonly fromFiles: number;
    readonly fromIndexOnly: number;
    readonly revoked: number;
  };
  readonly warnings: readonly string[];
}

export interface ImportCaResult {
  readonly name: string;
  readonly report: ImportCaReport;
}

/** `Example Root CA` → `Example`, `Example CA` → `Example`: the intermediate becomes `Example Intermediate CA`. */
function defaultName(root: CertificateFields): string {
  const cn = commonNameOf(root.subjectDer)?.trim() ?? '';
  const base = cn.replace(/\s+(root\s+)?ca$/i, '').trim();
  return base || cn || 'pki';
}

function caName(request: ImportCaRequest, root: CertificateFields): string {
  const name = validateCommonName((request.name ?? defaultName(root)).trim());
  if (name.length > 40) {
    throw new PkiError('ERR_INVALID_NAME', `CA name "${name}" is longer than 40 characters`, {
      hint: request.name === undefined ? 'the name comes from the imported CN: give a shorter one with --name' : 'choose a shorter --name',
    });
  }
  return name;
}

/** The imported certificate, read and judged (no key yet, no passphrase). */
function readRoot(path: string, now: Date): { der: Buffer; fields: CertificateFields } {
  const fields = parseCertificate(firstCertificateDer(readBytes(path)));
  assertAdoptableRoot(fields, now);
  return { der: Buffer.from(fields.der), fields };
}

/** The intermediate's window, cut to the root's end (a warning says so): it may not outlive its issuer. */
function intermediateWindow(request: ImportCaRequest, root: CertificateFields, now: Date, warnings: string[]): Validity {
  const validity = resolveValidity({ now, notAfter: request.intermediateNotAfter });
  if (validity.notAfter.getTime() <= root.notAfter.getTime()) return validity;
  warnings.push(`the intermediate CA ends with the imported root on ${root.notAfter.toISOString()} (--intermediate-not-after ${request.intermediateNotAfter} would outlive it)`);
  return { ...validity, notAfter: root.notAfter };
}

/** Runs under the home's lock; see importCa. */
async function importLocked(home: CaHome, request: ImportCaRequest, context: ImportCaContext): Promise<ImportCaResult> {
  const { now } = context;
  refuseExistingCa(home, false, 'import into a new --dir (an existing CA is not replaced by an import)');
  const root = readRoot(request.certificatePath, now);
  const name = caName(request, root.fields);
  const warnings: string[] = [];
  const plan: InitPlan = {
    name,
    keySpec: request.keySpec,
    rootValidity: { notBefore: root.fields.notBefore, notAfter: root.fields.notAfter },
    intermediateValidity: intermediateWindow(request, root.fields, now, warnings),
    nameConstraints: requestedNameConstraints(request),
    hadLeftovers: false,
  };
  const history: ImportedHistory | null = request.indexPath ? readOpensslHistory(request.indexPath, root.fields) : null;
  const keyText = readText(request.keyPath);
  const rootKey = await openCaKey(keyText, context.importPassphrase);
  assertKeyOfCertificate(rootKey, root.fields, request.keyPath);
  const protection = await context.protection();
  const intermediate = await generateKeyPair(request.keySpec);
  const intermediateDer = issueIntermediateCa(plan, { der: root.der, key: rootKey, notAfter: root.fields.notAfter }, intermediate.publicKey);
  const ca = { rootKey, intermediateKey: intermediate.privateKey, rootDer: root.der, intermediateDer };
  const keys = await keyPems(ca, protection);
  const rootLifetime = `${Math.round((root.fields.notAfter.getTime() - root.fields.notBefore.getTime()) / 86_400_000)}d`;
  const config = configFor(plan, { name, keySpec: request.keySpec, rootNotAfter: rootLifetime, intermediateNotAfter: request.intermediateNotAfter }, now);
  const { crls, inventory } = await writeCa(home, { force: false, hadLeftovers: false, config, ...(history ? { history: (inv) => recordHistory(inv, history) } : {}) }, ca, keys, now);
  inventory.close();
  const report: ImportCaReport = {
    dir: home.dir,
    key: formatKeySpec(request.keySpec),
    keysEncrypted: protection.encrypt,
    root: summary(root.der, home.rootCertPath, home.rootKeyPath),
    intermediate: summary(intermediateDer, home.intermediateCertPath, home.intermediateKeyPath),
    crl: { root: crls.root.path, intermediate: crls.intermediate.path, chain: crls.intermediate.chainPath, rootNextUpdate: crls.root.nextUpdate },
    imported: {
      certificate: request.certificatePath,
      key: request.keyPath,
      rootKey: formatKeySpec(keySpecOf(rootKey)),
      index: request.indexPath ?? null,
      certificates: history?.records.length ?? 0,
      fromFiles: history?.fromFiles ?? 0,
      fromIndexOnly: history?.fromIndexOnly ?? 0,
      revoked: history?.revocations.length ?? 0,
    },
    warnings,
  };
  return { name, report };
}

/** Adopts the CA in an empty `home` (the home's lock, as init). The imported files are only read. */
export async function importCa(home: CaHome, request: ImportCaRequest, context: ImportCaContext): Promise<ImportCaResult> {
  return home.withLock(() => importLocked(home, request, context));
}

