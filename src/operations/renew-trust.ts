/**
 * What a certificate must be before pki re-signs what it says: a certificate file (readCertificateFile),
 * issued by this CA and recorded at that path (trustedRecord), whose names and key pki would still sign
 * today (approveForRenewal). All three run before any passphrase prompt or write.
 */
import { parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { csrRefusalError, evaluateCsr } from '../core/x509/csr-policy.js';
import { findPemBlock, looksLikePem, PemLabel } from '../core/der/pem.js';
import { isPkiError, PkiError } from '../core/errors.js';
import { ExtensionOid } from '../core/x509/extensions.js';
import { sha256Fingerprint } from '../core/x509/fingerprint.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import { checkNameConstraints } from '../core/x509/name-constraints.js';
import type { San } from '../core/x509/names.js';
import { PROFILES } from '../core/x509/profiles.js';
import type { RenewalPlan } from '../core/lifecycle/renewal.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { readBytes } from '../store/ca-home.js';
import type { PkiConfig } from '../store/config.js';
import type { CertificateRecord, Inventory } from '../store/inventory/index.js';

/** The certificate in a file (or in `bytes` read from it): the first CERTIFICATE block of PEM (a chain file's leaf), or DER. */
export function readCertificateFile(path: string, bytes: Buffer = readBytes(path)): { fields: CertificateFields; pem: boolean } {
  if (bytes.length === 0) throw new PkiError('ERR_EMPTY_INPUT', `${path} is empty`);
  const pem = looksLikePem(bytes);
  try {
    const der = pem ? findPemBlock(bytes.toString('latin1'), PemLabel.certificate)?.der : bytes;
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

/** What the inventory records at `path` now, for the refusal message (read only when refusing). */
function recordedAtPath(inventory: Inventory, path: string): string {
  const here = inventory.listSummaries({ kind: 'x509', status: 'valid' }).filter((r) => r.certificatePath === path);
  return here.length ? `pki recorded serial ${here.map((r) => r.serial).join(', ')} at ${path}` : `pki recorded no valid certificate at ${path}`;
}

/** Where the certificate at `path` must come from: this CA's intermediate, or (already verified) a replaced one. */
export interface TrustAnchors {
  readonly inventory: Inventory;
  readonly intermediate: () => CertificateFields;
  /** store/previous-ca.ts verified the signature against an archived intermediate. */
  readonly signedByPreviousCa: boolean;
}

/**
 * Renewal re-signs what the file says, so the file must be a certificate pki issued and recorded there:
 * signed by the intermediate (its name alone proves nothing), and the inventory's record of that serial has
 * these very bytes at this very path. Needs only the intermediate's certificate, so it runs before any
 * passphrase prompt. Returns the record.
 */
export function trustedRecord(trust: TrustAnchors, path: string, fields: CertificateFields, record: CertificateRecord | undefined): CertificateRecord {
  const serial = normalizeSerial(fields.serial);
  const untrusted = (why: string, hint: string, here = true) =>
    new PkiError('ERR_UNTRUSTED_CERTIFICATE', `${path} holds serial ${serial}, ${why}${here ? `; ${recordedAtPath(trust.inventory, path)}` : ''}`, { hint });
  const reissue = 'if this file should hold a certificate of this CA, issue one with "pki sign --out" (or pki generate); pki does not renew a certificate it did not issue';
  if (!trust.signedByPreviousCa && !isIssuedBy(fields, trust.intermediate())) {
    throw untrusted("whose signature does not verify with this CA's intermediate key: pki did not issue it, whatever its issuer name says", reissue);
  }
  if (!record) {
    throw new PkiError('ERR_UNKNOWN_SERIAL', `${path} holds serial ${serial}, which the inventory does not list; ${recordedAtPath(trust.inventory, path)}`, {
      hint: 'if the inventory was lost or is older than the certificate, run "pki db rebuild" first; otherwise issue a new certificate',
    });
  }
  const fingerprint = sha256Fingerprint(fields.der);
  if (record.fingerprintSha256 !== fingerprint) {
    throw untrusted(`but not the certificate pki recorded for that serial (SHA-256 ${fingerprint.slice(0, 16)}…, recorded ${record.fingerprintSha256.slice(0, 16)}…)`, reissue);
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
export function approveForRenewal(config: PkiConfig, path: string, fields: CertificateFields, plan: RenewalPlan, addedSans: readonly San[]): void {
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
  if (config.nameConstraints) {
    try {
      checkNameConstraints([...plan.sans, ...addedSans], plan.subject, config.nameConstraints);
    } catch (e) {
      if (e instanceof PkiError) throw new PkiError(e.code, `${path}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
      throw e;
    }
  }
}
