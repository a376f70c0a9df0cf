/**
 * `pki trust install|uninstall|status` (docs/trust.md): the CA's root in this host's trust stores. The
 * use case reads and checks the root, names it (one label for the anchor file, the NSS nickname and the
 * Java alias, so two CAs never collide), asks each store whether the root is there and plans the steps
 * that add or remove it — only those still needed, so a second install plans nothing. The CLI decides
 * whether the plan runs (root, not --dry-run, this host's platform) or is printed.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
import { verifySignature } from '../core/keys/signature.js';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { decodeBasicConstraints } from '../core/x509/extension-decoders.js';
import { sha256Fingerprint } from '../core/x509/fingerprint.js';
import { commonNameOf, formatDistinguishedName } from '../core/x509/name-decoder.js';
import { CaHome } from '../store/ca-home.js';
import { readBytes } from '../store/fs/read-file.js';
import { inRootTransition, rootTransitionFiles } from '../store/root-transition.js';
import { isCaHome, readCertificateFile } from '../store/trust-roots.js';
import { javaStore } from '../store/trust-store/java.js';
import { nssStores } from '../store/trust-store/nss.js';
import { detectPlatform, type PlatformName } from '../store/trust-store/platform.js';
import { executeSteps, stepCommand } from '../store/trust-store/run-steps.js';
import { systemStore } from '../store/trust-store/system-store.js';
import type { TrustRoot, TrustStep, TrustStore, TrustStoreKind } from '../store/trust-store/types.js';

export type { PlatformName } from '../store/trust-store/platform.js';
export { PLATFORMS, isPlatformName } from '../store/trust-store/platform.js';

export type TrustAction = 'install' | 'uninstall' | 'status';

export interface TrustRequest {
  readonly action: TrustAction;
  /** --root; absent: the CA home's ca/root_ca.crt. */
  readonly rootFile?: string;
  readonly homeDir: string;
  readonly nss: boolean;
  readonly java: boolean;
  readonly javaKeystore?: string;
  /** --platform: plan for this platform's store instead of the detected one. */
  readonly platform?: PlatformName;
  /** $HOME, for --nss. */
  readonly userHome?: string;
  /** $JAVA_HOME, for --java. */
  readonly javaHome?: string;
  readonly now: Date;
}

export interface TrustStoreReport {
  readonly store: TrustStoreKind;
  readonly location: string;
  /** Before the plan runs; null when it cannot be known here. */
  readonly installed: boolean | null;
  readonly steps: readonly TrustStep[];
  /** The steps as shell command lines (a here-document spans several). */
  readonly commands: readonly string[];
}

export interface TrustPlan {
  readonly action: TrustAction;
  readonly root: { readonly file: string; readonly subject: string; readonly sha256: string; readonly label: string; readonly notAfter: string };
  readonly platform: PlatformName;
  /** The platform was given with --platform and is not this host's: the plan can be printed, not run. */
  readonly otherPlatform: boolean;
  readonly stores: readonly TrustStoreReport[];
}

/** `Acme Root CA` → `acme-root-ca`: the CN as a file name any store accepts. */
function slug(text: string | undefined): string {
  const s = (text ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48).replace(/-+$/, '');
  return s || 'root';
}

function notARoot(file: string, why: string, hint: string): PkiError {
  return new PkiError('ERR_NOT_A_ROOT', `${file} ${why}`, { hint });
}

function selfSigned(f: CertificateFields): boolean {
  if (!Buffer.from(f.subjectDer).equals(Buffer.from(f.issuerDer))) return false;
  try {
    return verifySignature(f.signatureAlgorithmOid, f.tbsDer, f.signature, certificatePublicKey(f), f.signatureAlgorithmParameters);
  } catch {
    return false; // a key or algorithm pki cannot check is not a root it puts in a trust store
  }
}

/**
 * What install refuses before anything changes: a certificate that is not a CA (a leaf), one that is not
 * self-signed (an intermediate: the root above it is the anchor), one outside its validity period.
 * Uninstall and status take any certificate: an expired root must still come out.
 */
function checkInstallable(file: string, f: CertificateFields, now: Date): void {
  if (!decodeBasicConstraints(f).isCA) {
    throw notARoot(file, 'is not a CA certificate (basicConstraints cA is false or absent): a leaf is never a trust anchor', "give the CA's root, e.g. the CA home's ca/root_ca.crt");
  }
  if (!selfSigned(f)) {
    throw notARoot(file, `is not self-signed (issued by ${formatDistinguishedName(f.issuerDer)}): an intermediate is not a trust anchor`, 'give the root that issued it');
  }
  if (now.getTime() > f.notAfter.getTime()) {
    throw new PkiError('ERR_ISSUER_EXPIRED', `the root ${file} expired on ${f.notAfter.toISOString()}`, { hint: 'an expired root verifies nothing: renew the CA (pki init) and install the new root' });
  }
  if (now.getTime() < f.notBefore.getTime()) {
    throw new PkiError('ERR_ISSUER_EXPIRED', `the root ${file} is not valid before ${f.notBefore.toISOString()}`, { hint: "check this host's clock" });
  }
}

function rootFilePath(request: TrustRequest): string {
  if (request.rootFile !== undefined) return resolve(request.rootFile); // absolute: the printed commands may run from elsewhere
  const home = new CaHome(request.homeDir);
  if (!isCaHome(home.dir)) {
    throw new PkiError('ERR_CA_MISSING', `no CA found in ${home.dir} (pki.json is missing)`, { hint: 'give the root with --root FILE, or the CA home with --dir' });
  }
  return home.rootCertPath;
}

function loadRoot(request: TrustRequest): { root: TrustRoot; fields: CertificateFields } {
  const file = rootFilePath(request);
  const certificates = readCertificateFile(file, 'the root file');
  if (certificates.length !== 1) throw notARoot(file, `holds ${certificates.length} certificates, not one root`, 'give a file with the root certificate alone');
  const der = certificates[0]!;
  const fields = parseCertificate(der);
  const pem = encodePem(PemLabel.certificate, der);
  const commonName = commonNameOf(fields.subjectDer);
  const label = `pki-${slug(commonName)}-${sha256Fingerprint(der).slice(0, 8).toLowerCase()}`;
  const sha1 = createHash('sha1').update(der).digest('hex').toUpperCase();
  const fileIsPem = readBytes(file).equals(Buffer.from(pem, 'latin1'));
  return { root: { file, der, pem, fileIsPem, label, sha1, commonName }, fields };
}

function stores(request: TrustRequest, root: TrustRoot, platform: PlatformName, onHost: boolean): TrustStore[] {
  const out: TrustStore[] = [systemStore(platform, root, onHost)];
  if (request.nss) {
    if (!request.userHome) throw new PkiError('ERR_USAGE', '--nss needs $HOME: the shared NSS database is $HOME/.pki/nssdb', { hint: 'set HOME' });
    out.push(...nssStores(request.userHome, root));
  }
  if (request.java) out.push(javaStore({ ...(request.javaKeystore ? { keystore: request.javaKeystore } : {}), ...(request.javaHome ? { javaHome: request.javaHome } : {}) }, root));
  return out;
}

function platformOf(request: TrustRequest): { platform: PlatformName; otherPlatform: boolean } {
  const host = detectPlatform();
  if (request.platform) return { platform: request.platform, otherPlatform: request.platform !== host };
  if (!host) {
    throw new PkiError('ERR_UNSUPPORTED_PLATFORM', 'no known system trust store on this host (none of the Debian, RHEL, Alpine, Arch or macOS layouts)', {
      hint: 'print the commands of one with --platform NAME --dry-run, or put the root in place by hand (docs/trust.md)',
    });
  }
  return { platform: host, otherPlatform: false };
}

/** Reads and checks the root and each store, and plans what the action changes. Reads only: nothing is written or run that changes a store. */
export function planTrust(request: TrustRequest): TrustPlan {
  const { root, fields } = loadRoot(request);
  if (request.action === 'install') checkInstallable(root.file, fields, request.now);
  const { platform, otherPlatform } = platformOf(request);
  const reports = stores(request, root, platform, !otherPlatform).map((store): TrustStoreReport => {
    const installed = store.installed() ?? null;
    const steps = request.action === 'install' ? (installed === true ? [] : store.installSteps()) : request.action === 'uninstall' ? store.uninstallSteps(installed ?? undefined) : [];
    return { store: store.kind, location: store.location, installed, steps, commands: steps.flatMap((s) => stepCommand(s).split('\n')) };
  });
  const rootReport = { file: root.file, subject: formatDistinguishedName(fields.subjectDer), sha256: sha256Fingerprint(root.der), label: root.label, notAfter: fields.notAfter.toISOString() };
  return { action: request.action, root: rootReport, platform, otherPlatform, stores: reports };
}

/**
 * The plans of every root the CA home's clients should trust: the home's root, and during a root rotation
 * (`pki ca rotate-root`, until `--finish`) the old root as well, so hosts trust both through the
 * transition (store/root-transition.ts). With --root, that root alone.
 */
export function planTrustRoots(request: TrustRequest): TrustPlan[] {
  const plan = planTrust(request);
  if (request.rootFile !== undefined) return [plan];
  const home = new CaHome(request.homeDir);
  if (!inRootTransition(home.caDir)) return [plan];
  return [plan, planTrust({ ...request, rootFile: rootTransitionFiles(home.caDir).oldRootCertPath })];
}

/** Carries out a plan planTrust made (the CLI calls it as root only), store by store in the plan's order. */
export function applyTrustPlan(plan: TrustPlan): void {
  if (plan.otherPlatform) throw new PkiError('ERR_UNSUPPORTED_PLATFORM', `--platform ${plan.platform} is not this host's platform: its commands can be printed, not run here`, { hint: 'add --dry-run' });
  executeSteps(plan.stores.flatMap((s) => s.steps));
}
