/**
 * `pki ca rotate-root [--finish]` (issue 14, point 5): a new root key under the same name, as RFC 4210
 * §4.4's root key update does it. The new root is self-signed; the two cross certificates certify each
 * root's key under the other ("newWithOld", "oldWithNew"). Because both roots have the same subject, the
 * cross certificate is self-issued and does not count against the old root's path length (RFC 5280
 * §6.1.4 (l)): leaf → intermediate → newWithOld → old root is a valid path for a client that knows only
 * the old root. The intermediate keeps its key and gets a certificate from the new root. Until `--finish`,
 * bundles get both roots in ca.crt and the cross certificate in their chain (store/root-transition.ts).
 * `--finish` refuses while a valid certificate on disk still carries the old chain (it would chain only to
 * the old root), then drops the old root. Each step takes a snapshot first.
 */
import { encodePem, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
import { encryptPrivateKeyPem } from '../core/keys/encryption.js';
import { exportPrivateKeyPem, generateKeyPair } from '../core/keys/keys.js';
import { issueCertificate } from '../core/x509/certificate.js';
import { certificatePublicKey, parseCertificate, subjectKeyIdentifierOf, type CertificateFields } from '../core/x509/certificate-fields.js';
import { issuerFromCertificate } from '../core/x509/issuer.js';
import { PROFILES } from '../core/x509/profiles.js';
import { generateSerial, normalizeSerial } from '../core/x509/serial.js';
import type { SigningKey } from '../core/keys/signing-key.js';
import { resolveValidity } from '../core/x509/validity.js';
import { ensureHomeFolder, fileExists, FileMode, readText, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { takeSnapshot } from '../store/ca-snapshot.js';
import { keySpecFromConfig } from '../store/config.js';
import { writeFilesAtomicSync } from '../store/fs/atomic-write.js';
import { openInventory } from '../store/inventory/index.js';
import { certificateRecord, firstCertificateDer } from '../store/inventory/record.js';
import { carriesChainOf, inRootTransition, rootTransitionFiles, setAsideRootTransition } from '../store/root-transition.js';
import { openCaKeyKeepingPassphrase } from '../store/ca-key.js';
import { intermediatePlan } from './ca-add.js';
import { issueIntermediateCa } from './init.js';
import { publishOldRootCrl, publishRootCrl, rootCrlLifetimeMs } from './publish-crl.js';
import { trustDomainCaName } from './trust-domain.js';

/**
 * The new root allows two CA certificates below it, not one as `pki init`'s roots: GnuTLS and Go count a
 * self-issued cross certificate against the path length (RFC 5280 §6.1.4 (l) says not to; OpenSSL does
 * not), so with pathLen 1 the next rotation's leaf → intermediate → cross → root path would fail there.
 */
const NEW_ROOT_PROFILE = { ...PROFILES.root, pathLen: 2 };

export interface RotateRootResult {
  readonly rootCertificatePath: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly oldRoot: { readonly certificatePath: string; readonly keyPath: string; readonly serial: string };
  readonly newWithOld: string;
  readonly oldWithNew: string;
  readonly intermediate: string;
  readonly snapshot: string;
}

export interface RotateRootContext {
  readonly now: Date;
  readonly rootPassphrase: PassphraseSource;
  readonly passphrase: PassphraseSource;
}

/** What rotate-root does not start on: a rotation in progress, keys on a token. */
function refuseRootRotation(home: CaHome): void {
  if (inRootTransition(home.caDir)) {
    throw new PkiError('ERR_USAGE', 'a root rotation is already in progress', { hint: 'finish it first: renew the bundles ("pki renew --all --force"), then "pki ca rotate-root --finish"' });
  }
  if (home.caKeysToken()) {
    throw new PkiError('ERR_USAGE', 'pki ca rotate-root is not available for CA keys on a PKCS#11 token in this version', { hint: 'see docs/operations.md, "Rotating the root"' });
  }
}

/**
 * The `pki ca add` CAs under the rotated root, each re-certified by the new root with its own key, subject,
 * constraints and end (their expiries stay staggered; never past the new root), revoked ones left out.
 */
async function recertifyAddedCas(home: CaHome, root: { der: Uint8Array; key: SigningKey; notAfter: Date }, now: Date): Promise<{ home: CaHome; pem: string }[]> {
  const views = home.issuingCaNames().map((n) => home.issuingCaHome(n));
  if (views.length === 0) return [];
  const inventory = await openInventory(home);
  try {
    return views.flatMap((view) => {
      const old = parseCertificate(view.readIntermediateCertificate().der);
      if (inventory.find('x509', normalizeSerial(old.serial))?.status === 'revoked') return [];
      const notAfter = old.notAfter < root.notAfter ? old.notAfter : root.notAfter;
      const der = issueIntermediateCa({ ...intermediatePlan(view, view.readConfig()), intermediateValidity: resolveValidity({ now, notAfter: notAfter.toISOString().replace(/\.\d+Z$/, 'Z') }) }, root, certificatePublicKey(old));
      return [{ home: view, pem: encodePem(PemLabel.certificate, der) }];
    });
  } finally {
    inventory.close();
  }
}

/** `pki ca rotate-root`: the new root, both cross certificates and the intermediate re-certified by the new root. */
export async function rotateRoot(main: CaHome, request: { notAfter?: string; trustDomain?: string }, context: RotateRootContext): Promise<RotateRootResult> {
  const home = request.trustDomain !== undefined ? main.trustDomain(request.trustDomain) : main;
  home.requireInitialized();
  refuseRootRotation(home);
  const { now } = context;
  const config = home.readConfig();
  const files = rootTransitionFiles(home.caDir);
  const oldRootPem = readText(home.rootCertPath);
  const oldRootDer = firstCertificateDer(oldRootPem);
  const oldRoot = parseCertificate(oldRootDer);
  const intermediate = parseCertificate(firstCertificateDer(readText(home.intermediateCertPath)));
  const rootValidity = resolveValidity({ now, notAfter: request.notAfter ?? config.validity.root });
  const intermediateValidity = resolveValidity({ now, notAfter: config.validity.intermediate });
  if (!fileExists(home.rootKeyPath)) {
    throw new PkiError('ERR_FILE_NOT_FOUND', `the root CA key ${home.rootKeyPath} is not in the CA home (it belongs offline)`, { hint: 'bring it back from offline storage for this step, then move it away again' });
  }
  const oldKeyText = readText(home.rootKeyPath);
  const { key: oldKey, secret } = await openCaKeyKeepingPassphrase(oldKeyText, context.rootPassphrase);
  try {
    const keys = await generateKeyPair(keySpecFromConfig(config));
    const caName = home.trustDomainName ? trustDomainCaName(config.name, home.trustDomainName) : config.name;
    const subject = { commonName: `${caName} Root CA` };
    const newRootDer = issueCertificate({ serial: generateSerial(), subject, sans: [], profile: NEW_ROOT_PROFILE, publicKey: keys.publicKey, ...rootValidity, issuer: 'self', selfSigningKey: keys.privateKey });
    const newRoot = parseCertificate(newRootDer);
    if (!Buffer.from(newRoot.subjectDer).equals(Buffer.from(oldRoot.subjectDer))) {
      throw new PkiError('ERR_INVALID_CONFIG', `the root's subject is not a common name alone; pki rotates only roots it made`, { hint: 'rotate by hand with openssl' });
    }
    const issuedBy = (root: CertificateFields, key: typeof oldKey) => ({ subjectDer: root.subjectDer, keyIdentifier: subjectKeyIdentifierOf(root) ?? null, privateKey: key, notAfter: root.notAfter });
    // newWithOld ends with the old root (which it lets clients reach); oldWithNew with whichever ends first.
    const crossEnd = (a: Date, b: Date) => (a < b ? a : b);
    const newWithOldDer = issueCertificate({ serial: generateSerial(), subject, sans: [], profile: PROFILES.root, publicKey: keys.publicKey, notBefore: rootValidity.notBefore, notAfter: crossEnd(rootValidity.notAfter, oldRoot.notAfter), issuer: issuedBy(oldRoot, oldKey) });
    const oldWithNewDer = issueCertificate({ serial: generateSerial(), subject, sans: [], profile: PROFILES.root, publicKey: certificatePublicKey(oldRoot), notBefore: rootValidity.notBefore, notAfter: crossEnd(rootValidity.notAfter, oldRoot.notAfter), issuer: issuedBy(newRoot, keys.privateKey) });
    const newRootIssuer = { der: newRootDer, key: keys.privateKey, notAfter: rootValidity.notAfter };
    const intermediateDer = issueIntermediateCa({ ...intermediatePlan(home, config), intermediateValidity }, newRootIssuer, certificatePublicKey(intermediate));
    const added = await recertifyAddedCas(home, newRootIssuer, now);
    const keyPem = secret ? await encryptPrivateKeyPem(keys.privateKey, { passphrase: secret }) : exportPrivateKeyPem(keys.privateKey);
    const pem = (der: Uint8Array) => encodePem(PemLabel.certificate, der);
    const snapshot = await takeSnapshot(home, now);
    // The old root and its key first (a kill after leaves the CA as it was plus the copies), the cross certificates, then the new pair.
    ensureHomeFolder(files.dir, FileMode.privateFolder);
    writeFilesAtomicSync([{ path: files.oldRootKeyPath, data: oldKeyText }], { mode: FileMode.privateKey, overwrite: true });
    writeFilesAtomicSync([{ path: files.oldRootCertPath, data: oldRootPem }, { path: files.oldWithNewPath, data: pem(oldWithNewDer) }], { mode: FileMode.public, overwrite: true });
    const inventory = await openInventory(home);
    try {
      inventory.exclusive(() => {
        inventory.recordIssued([
          certificateRecord(pem(newRootDer), { profile: 'root', certificatePath: home.rootCertPath, keyPath: home.rootKeyPath, ...home.recordColumns }),
          certificateRecord(pem(intermediateDer), { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: home.intermediateKeyPath, ...home.recordColumns }),
          ...added.map((a) => certificateRecord(a.pem, { profile: 'intermediate', certificatePath: a.home.intermediateCertPath, keyPath: a.home.intermediateKeyPath, ...a.home.recordColumns })),
        ]);
        writeFilesAtomicSync([{ path: home.rootKeyPath, data: keyPem }], { mode: FileMode.privateKey, overwrite: true });
        writeFilesAtomicSync([{ path: home.rootCertPath, data: pem(newRootDer) }, { path: home.intermediateCertPath, data: pem(intermediateDer) }, ...added.map((a) => ({ path: a.home.intermediateCertPath, data: a.pem }))], { mode: FileMode.public, overwrite: true });
        // Last: its presence is what starts the transition (ca.crt with both roots, chains with it).
        writeFilesAtomicSync([{ path: files.newWithOldPath, data: pem(newWithOldDer) }], { mode: FileMode.public, overwrite: true });
      });
      // The new root's CRL, and the intermediate's (signed by the same key, now under the new root) so chain.crl.pem has both.
      inventory.exclusive(() => {
        // The old root's CRL first (its key is in hand now): the chain files of the transition carry both.
        publishOldRootCrl(home, inventory, issuerFromCertificate(oldRootDer, oldKey, now), { now, nextUpdateMs: rootCrlLifetimeMs(config) });
        publishRootCrl(home, inventory, issuerFromCertificate(newRootDer, keys.privateKey, now), { now, nextUpdateMs: rootCrlLifetimeMs(config) });
      });
    } finally {
      inventory.close();
    }
    return {
      rootCertificatePath: home.rootCertPath,
      serial: newRoot.serial,
      notAfter: newRoot.notAfter.toISOString(),
      oldRoot: { certificatePath: files.oldRootCertPath, keyPath: files.oldRootKeyPath, serial: oldRoot.serial },
      newWithOld: files.newWithOldPath,
      oldWithNew: files.oldWithNewPath,
      intermediate: home.intermediateCertPath,
      snapshot: snapshot.id,
    };
  } finally {
    secret?.fill(0);
  }
}

/** `--finish`: refused while a valid certificate file still carries the chain to the old root only; then the old root is set aside. */
export async function finishRootRotation(main: CaHome, request: { trustDomain?: string }, context: { now: Date }): Promise<{ archived: string; snapshot: string }> {
  const home = request.trustDomain !== undefined ? main.trustDomain(request.trustDomain) : main;
  home.requireInitialized();
  if (!inRootTransition(home.caDir)) throw new PkiError('ERR_USAGE', 'no root rotation is in progress', { hint: 'start one with "pki ca rotate-root"' });
  // Each leaf against the current certificate of the CA that issued it (the default, or a `pki ca add` CA).
  const currentOf = new Map<string | null, string>();
  const current = (ca: string | null) => currentOf.get(ca) ?? currentOf.set(ca, readText((ca ? home.issuingCaHome(ca) : home).intermediateCertPath).trim()).get(ca)!;
  const inventory = await openInventory(home);
  let stale: string[];
  try {
    stale = inventory
      .list({ kind: 'x509', status: 'valid' })
      .filter((r) => r.profile !== 'root' && r.profile !== 'intermediate' && (r.trustDomain ?? null) === home.trustDomainName && Date.parse(r.notAfter) > context.now.getTime())
      .filter((r) => r.certificatePath !== null && !carriesChainOf(r.certificatePath, current(home.trustDomainName ? null : (r.ca ?? null))))
      .map((r) => r.certificatePath!);
  } finally {
    inventory.close();
  }
  if (stale.length > 0) {
    throw new PkiError('ERR_POLICY', `${stale.length} valid certificate${stale.length === 1 ? '' : 's'} still chain only to the old root (e.g. ${stale[0]})`, {
      hint: 'renew them first ("pki renew --all --force") and deploy the new bundles, then finish',
    });
  }
  const snapshot = await takeSnapshot(home, context.now);
  return { archived: setAsideRootTransition(home.caDir, context.now), snapshot: snapshot.id };
}
