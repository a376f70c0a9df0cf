/**
 * `pki ca renew` (issue 14, point 5): a new certificate for the intermediate, signed by the root brought
 * back for the occasion, with the intermediate's own key, subject and name constraints (pki.json), so
 * every leaf it already issued still verifies against the new certificate (same name, same key, same
 * subject key identifier) and leaves issued afterwards are valid until the new notAfter allows. Service
 * bundles pick up the new chain on their next `pki renew`. The old certificate's record is marked
 * superseded by the new one (recordIssued, same path).
 *
 * `pki ca renew NAME` renews a `pki ca add` CA the same way (its subject and ca/NAME/ca.json's constraints).
 * `--rekey` is a rotation, in which the old key keeps signing CRLs for what it issued: the command runs
 * `pki ca rotate` (operations/ca-rotate.ts) for it.
 */
import { intermediatePlan } from './ca-add.js';
import { encodePem, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
import { certificatePublicKey, parseCertificate } from '../core/x509/certificate-fields.js';
import { resolveValidity } from '../core/x509/validity.js';
import { FileMode, readText, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { takeSnapshot } from '../store/ca-snapshot.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { openInventory } from '../store/inventory/index.js';
import { certificateRecord, firstCertificateDer } from '../store/inventory/record.js';
import { issueIntermediateCa } from './init.js';
import { loadRootIssuer } from './publish-crl.js';

export interface CaRenewRequest {
  /** The issuing CA; undefined or `default` for the default intermediate. */
  readonly name?: string;
  /** The new certificate's lifetime or end; default pki.json validity.intermediate. */
  readonly notAfter?: string;
  readonly trustDomain?: string;
}

export interface CaRenewResult {
  readonly certificatePath: string;
  readonly serial: string;
  readonly previousSerial: string;
  readonly previousNotAfter: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly rootKeyPath: string;
  /** The snapshot taken before (ca/snapshots/ID): `pki ca rollback` restores it. */
  readonly snapshot: string;
}

export async function renewIntermediateCertificate(
  main: CaHome,
  request: CaRenewRequest,
  context: { readonly now: Date; readonly rootPassphrase: PassphraseSource },
): Promise<CaRenewResult> {
  // A trust domain's intermediate is renewed by the domain's root, in the domain's own ca/ (snapshot included).
  const domain = request.trustDomain !== undefined ? main.trustDomain(request.trustDomain) : main;
  // A `pki ca add` CA is renewed and rotated in ca/NAME/ by the same root (its policy kept).
  const home = request.name !== undefined ? domain.issuingCaHome(request.name) : domain;
  home.requireInitialized();
  const config = home.readConfig();
  const oldPem = readText(home.intermediateCertPath);
  const old = parseCertificate(firstCertificateDer(oldPem));
  const validity = resolveValidity({ now: context.now, notAfter: request.notAfter ?? config.validity.intermediate });
  const root = await loadRootIssuer(home, context.rootPassphrase, context.now);
  if (validity.notAfter > root.certificate.notAfter) {
    throw new PkiError('ERR_VALIDITY', `the intermediate would outlive the root (${root.certificate.notAfter.toISOString()})`, {
      hint: 'choose a shorter --not-after, or rotate the root first',
    });
  }
  const plan = intermediatePlan(home, config);
  const der = issueIntermediateCa(
    { ...plan, intermediateValidity: validity },
    { der: root.certificate.der, key: root.privateKey, notAfter: root.certificate.notAfter },
    certificatePublicKey(old),
  );
  const renewed = parseCertificate(der);
  // The leaves already issued name the old certificate's subject as their issuer: it must not change.
  if (!Buffer.from(renewed.subjectDer).equals(Buffer.from(old.subjectDer))) {
    throw new PkiError('ERR_INVALID_CONFIG', `pki.json name "${config.name}" no longer gives the intermediate's subject, so its leaves would stop chaining`, {
      hint: 'restore pki.json "name" to the name the CA was made with',
    });
  }
  const pem = encodePem(PemLabel.certificate, der);
  // Everything checked and the certificate made: the CA as it is now is kept for `pki ca rollback`.
  const snapshot = await takeSnapshot(home, context.now);
  const inventory = await openInventory(home);
  try {
    inventory.exclusive(() => {
      inventory.recordIssued([certificateRecord(pem, { profile: 'intermediate', certificatePath: home.intermediateCertPath, keyPath: home.intermediateKeyPath, ...home.recordColumns })]);
      writeFileAtomic(home.intermediateCertPath, pem, { mode: FileMode.public, overwrite: true });
    });
  } finally {
    inventory.close();
  }
  return {
    certificatePath: home.intermediateCertPath,
    serial: renewed.serial,
    previousSerial: old.serial,
    previousNotAfter: old.notAfter.toISOString(),
    notBefore: renewed.notBefore.toISOString(),
    notAfter: renewed.notAfter.toISOString(),
    rootKeyPath: home.rootKeyLocation(),
    snapshot: snapshot.id,
  };
}
