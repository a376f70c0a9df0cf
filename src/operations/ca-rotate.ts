/**
 * `pki ca rotate` (issue 14, point 5): a new intermediate key and certificate, signed by the root brought
 * back for the occasion, under the same subject (so configurations naming the issuer keep matching; the
 * key identifiers tell the two apart). New issuance switches at once. The old intermediate is retired,
 * not deleted (store/retired-ca.ts): its certificate and key move to `ca/retired/<key id>/`, it keeps
 * signing the CRL of what it issued (`crl/retired/<key id>.crl`, in chain.crl.pem) until its certificate
 * expires, and `pki renew` accepts its leaves and re-issues them under the new key with the new chain.
 * Clients trust the root, which does not change, so every leaf — before and after — keeps verifying.
 * A snapshot is taken first (`pki ca rollback`).
 */
import { encodePem, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
import { encryptPrivateKeyPem } from '../core/keys/encryption.js';
import { exportPrivateKeyPem, formatKeySpec, generateKeyPair } from '../core/keys/keys.js';
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { issuerFromCertificate } from '../core/x509/issuer.js';
import { resolveValidity } from '../core/x509/validity.js';
import { ensureHomeFolder, FileMode, readText, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { takeSnapshot } from '../store/ca-snapshot.js';
import { openCaKeyKeepingPassphrase } from '../store/ca-key.js';
import { keySpecFromConfig } from '../store/config.js';
import { writeFilesAtomicSync } from '../store/fs/atomic-write.js';
import { openInventory, type Inventory } from '../store/inventory/index.js';
import { certificateRecord, firstCertificateDer } from '../store/inventory/record.js';
import { caKeyId, retiredFolder, retiredPaths, type RetiredIntermediate } from '../store/retired-ca.js';
import { dirname } from 'node:path';
import { issueIntermediateCa } from './init.js';
import { crlLifetimeMs, loadRootIssuer, publishCrl, publishRetiredCrl, type PublishedCrl } from './publish-crl.js';
import { intermediatePlan } from './ca-add.js';

export interface CaRotateRequest {
  /** The issuing CA; undefined or `default` for the default intermediate. */
  readonly name?: string;
  /** The new intermediate's lifetime or end; default pki.json validity.intermediate. */
  readonly notAfter?: string;
  readonly trustDomain?: string;
}

export interface CaRotateResult {
  readonly certificatePath: string;
  readonly serial: string;
  readonly keyId: string;
  readonly key: string;
  readonly notAfter: string;
  /** The retired intermediate: where it went, and until when it signs CRLs. */
  readonly retired: { readonly certificatePath: string; readonly serial: string; readonly keyId: string; readonly notAfter: string; readonly crlPath: string };
  readonly crl: PublishedCrl;
  readonly rootKeyPath: string;
  readonly snapshot: string;
}

export interface CaRotateContext {
  readonly now: Date;
  readonly rootPassphrase: PassphraseSource;
  /** Opens the current intermediate's key; the new key is encrypted with the same passphrase (scripts keep theirs). */
  readonly passphrase: PassphraseSource;
}

export async function rotateIntermediate(main: CaHome, request: CaRotateRequest, context: CaRotateContext): Promise<CaRotateResult> {
  const domain = request.trustDomain !== undefined ? main.trustDomain(request.trustDomain) : main;
  // A `pki ca add` CA is renewed and rotated in ca/NAME/ by the same root (its policy kept).
  const home = request.name !== undefined ? domain.issuingCaHome(request.name) : domain;
  home.requireInitialized();
  if (home.caKeysToken()) {
    throw new PkiError('ERR_USAGE', 'pki ca rotate is not available for CA keys on a PKCS#11 token in this version', { hint: 'renew the intermediate with the same key ("pki ca renew") instead' });
  }
  const { now } = context;
  const config = home.readConfig();
  const oldPem = readText(home.intermediateCertPath);
  const oldDer = firstCertificateDer(oldPem);
  const old = parseCertificate(oldDer);
  const oldKeyId = caKeyId(old);
  const retired = retiredPaths(home, oldKeyId);
  const validity = resolveValidity({ now, notAfter: request.notAfter ?? config.validity.intermediate });
  // Every refusal that needs no secret first: then the intermediate's passphrase, then the root's.
  const oldKeyText = readText(home.intermediateKeyPath);
  const { key: oldKey, secret } = await openCaKeyKeepingPassphrase(oldKeyText, context.passphrase);
  try {
    const root = await loadRootIssuer(home, context.rootPassphrase, now);
    if (validity.notAfter > root.certificate.notAfter) {
      throw new PkiError('ERR_VALIDITY', `the new intermediate would outlive the root (${root.certificate.notAfter.toISOString()})`, { hint: 'choose a shorter --not-after, or rotate the root first' });
    }
    const keySpec = keySpecFromConfig(config);
    const keys = await generateKeyPair(keySpec);
    const plan = intermediatePlan(home, config);
    const der = issueIntermediateCa(
      { ...plan, intermediateValidity: validity },
      { der: root.certificate.der, key: root.privateKey, notAfter: root.certificate.notAfter },
      keys.publicKey,
    );
    const rotated = parseCertificate(der);
    if (!Buffer.from(rotated.subjectDer).equals(Buffer.from(old.subjectDer))) {
      throw new PkiError('ERR_INVALID_CONFIG', `pki.json name "${config.name}" no longer gives the intermediate's subject`, { hint: 'restore pki.json "name" to the name the CA was made with' });
    }
    const keyPem = secret ? await encryptPrivateKeyPem(keys.privateKey, { passphrase: secret }) : exportPrivateKeyPem(keys.privateKey);
    const pem = encodePem(PemLabel.certificate, der);
    const snapshot = await takeSnapshot(home, now);
    const inventory = await openInventory(home);
    try {
      writeRotation(home, inventory, { retired, oldPem, oldKeyText, pem, keyPem });
      const nextUpdateMs = crlLifetimeMs(config);
      const retiredIntermediate: RetiredIntermediate = { ...retired, certificate: old, certificatePem: oldPem };
      const crl = inventory.exclusive(() => {
        publishRetiredCrl(home, inventory, { ...issuerFromCertificate(oldDer, oldKey, now), retired: retiredIntermediate }, { now, nextUpdateMs });
        return publishCrl(home, inventory, issuerFromCertificate(der, keys.privateKey, now), { now, nextUpdateMs, der: false });
      });
      return {
        certificatePath: home.intermediateCertPath,
        serial: rotated.serial,
        keyId: caKeyId(rotated),
        key: formatKeySpec(keySpec),
        notAfter: rotated.notAfter.toISOString(),
        retired: { certificatePath: retired.certPath, serial: old.serial, keyId: oldKeyId, notAfter: old.notAfter.toISOString(), crlPath: retired.crlPath },
        crl,
        rootKeyPath: home.rootKeyPath,
        snapshot: snapshot.id,
      };
    } finally {
      inventory.close();
    }
  } finally {
    secret?.fill(0);
  }
}

/**
 * The files of a rotation: the old pair kept under ca/retired/<key id>/ first (a kill after this leaves
 * the CA as it was, plus a copy), then the new pair over ca/intermediate_ca.* with its inventory record.
 */
function writeRotation(home: CaHome, inventory: Inventory, files: { retired: ReturnType<typeof retiredPaths>; oldPem: string; oldKeyText: string; pem: string; keyPem: string }): void {
  ensureHomeFolder(retiredFolder(home), FileMode.privateFolder);
  ensureHomeFolder(dirname(files.retired.certPath), FileMode.privateFolder);
  writeFilesAtomicSync([{ path: files.retired.keyPath, data: files.oldKeyText }], { mode: FileMode.privateKey, overwrite: true });
  writeFilesAtomicSync([{ path: files.retired.certPath, data: files.oldPem }], { mode: FileMode.public, overwrite: true });
  inventory.exclusive(() => {
    inventory.recordIssued([certificateRecord(files.pem, { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: home.intermediateKeyPath, ...home.recordColumns })]);
    writeFilesAtomicSync([{ path: home.intermediateKeyPath, data: files.keyPem }], { mode: FileMode.privateKey, overwrite: true });
    writeFilesAtomicSync([{ path: home.intermediateCertPath, data: files.pem }], { mode: FileMode.public, overwrite: true });
  });
}
