/**
 * Renewal for a client that proved it holds a certificate of this CA (`POST /1.0/renew` of `pki serve`,
 * the client side being `pki renew --daemon --ca-url`). The TLS handshake proved the client holds the key;
 * this checks the rest, in order: the leaf is signed by this CA's intermediate (the signature, not the
 * name: core/x509/issued-by.ts), within its validity, known to the inventory and not revoked. The
 * successor keeps what `pki renew` keeps (core/lifecycle/renewal.ts planRenewal: the subject byte for
 * byte, the SANs in order, the lifetime, the profile recorded at issue) and is judged by the same rules
 * (renew-trust.ts approveForRenewal: pki.json's policy and name constraints as they are now). With a CSR
 * (`--rekey`) the new key is the request's, after its self-signature is checked; the names still come from
 * the old certificate, never from the request. A superseded certificate (its successor's answer was lost)
 * may renew again; the record of the new one names no file (the files live on the client's host).
 */
import { encodePem, findPemBlock, looksLikePem, PemLabel } from '../core/der/pem.js';
import { isPkiError, PkiError } from '../core/errors.js';
import { assertAcceptablePublicKey, assertNamedCurve, importSpki } from '../core/keys/keys.js';
import { planRenewal, profileFromExtKeyUsage } from '../core/lifecycle/renewal.js';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { parseCsr, verifyCsrSignature } from '../core/x509/csr.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import { applyProfileSubject, checkRequiredSanPatterns, withProfileSans, type LeafProfile } from '../core/x509/profile-config.js';
import { isLeafProfileName } from '../core/x509/profiles.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { clockSkewMs, type PkiConfig } from '../store/config.js';
import type { CertificateRecord, Inventory } from '../store/inventory/index.js';
import { certificateRecord } from '../store/inventory/record.js';
import { issueLeafCertificate, leafProfile } from './issue-leaf.js';
import { approveForRenewal } from './renew-trust.js';

/**
 * One issuing CA whose certificates may renew (issue 14: `pki serve` holds the default intermediate, each
 * `pki ca add` CA and each trust domain's): a certificate signed by any of its keys is renewed by its
 * current one, under its policy, recorded with its inventory columns.
 */
export interface RemoteRenewalCa {
  readonly issuer: LoadedIssuer & { readonly certificatePem: string };
  /** The intermediates `pki ca rotate` retired that are still valid: their leaves renew with the current key. */
  readonly retired: readonly CertificateFields[];
  readonly config: PkiConfig;
  /** CaHome#recordColumns of the CA: `ca` / `trustDomain` of what it issues. */
  readonly recordColumns: { readonly trustDomain?: string; readonly ca?: string };
}

export interface RemoteRenewalInput {
  /** The client's certificate chain from the TLS handshake, leaf first, DER (empty: none sent). */
  readonly clientCertificates: readonly Uint8Array[];
  /** The request body: empty (same key), or a CSR in DER or PEM for a new key. */
  readonly body: Uint8Array;
  /** The CAs it may renew from; the one whose key signed the client's certificate renews it. */
  readonly cas: readonly RemoteRenewalCa[];
  readonly inventory: Inventory;
  readonly now: Date;
}

/** Why a renewal is refused: the HTTP status says who is at fault (401 no credential, 403 a refused one, 400 a bad CSR). */
export type RemoteRefusal = 'no-certificate' | 'foreign' | 'not-yet-valid' | 'expired' | 'unknown' | 'revoked' | 'policy' | 'bad-csr';

export type RemoteRenewalResult =
  | { readonly status: 'issued'; readonly serial: string; readonly newSerial: string; readonly notAfter: Date; readonly rekeyed: boolean; readonly chainPem: string; readonly subject: string }
  | { readonly status: 'refused'; readonly reason: RemoteRefusal; readonly detail: string; readonly serial: string | null };

const refuse = (reason: RemoteRefusal, detail: string, serial: string | null = null): RemoteRenewalResult => ({ status: 'refused', reason, detail, serial });

/** The client certificate, checked against this CA and the inventory; a refusal otherwise. */
function judgeCredential(input: RemoteRenewalInput): { fields: CertificateFields; record: CertificateRecord; ca: RemoteRenewalCa } | RemoteRenewalResult {
  const leafDer = input.clientCertificates[0];
  if (leafDer === undefined) return refuse('no-certificate', 'no client certificate: renewal needs the current certificate as the TLS client certificate');
  let fields: CertificateFields;
  try {
    fields = parseCertificate(leafDer);
  } catch {
    return refuse('foreign', 'the client certificate cannot be parsed');
  }
  const serial = normalizeSerial(fields.serial);
  // The signature decides, not the name: a trust domain's or a rotated intermediate may share a subject.
  const ca = input.cas.find((c) => isIssuedBy(fields, c.issuer.certificate) || c.retired.some((r) => isIssuedBy(fields, r)));
  if (!ca) return refuse('foreign', `certificate ${serial} was not issued by an intermediate of this CA`, serial);
  const now = input.now.getTime();
  if (now < fields.notBefore.getTime()) return refuse('not-yet-valid', `certificate ${serial} is not valid before ${fields.notBefore.toISOString()}`, serial);
  if (now > fields.notAfter.getTime()) return refuse('expired', `certificate ${serial} expired on ${fields.notAfter.toISOString()}; an expired certificate is not renewed over mTLS`, serial);
  const record = input.inventory.find('x509', serial);
  if (!record) return refuse('unknown', `certificate ${serial} is not in this CA's inventory`, serial);
  if (record.status === 'revoked') return refuse('revoked', `certificate ${serial} is revoked`, serial);
  return { fields, record, ca };
}

/** The new key: the request's (self-signature checked, weak keys refused), else the old certificate's. */
function requestedKey(body: Uint8Array): { key: import('node:crypto').KeyObject; spkiDer: Uint8Array } | null {
  if (body.byteLength === 0) return null;
  const text = looksLikePem(body) ? Buffer.from(body).toString('latin1') : null;
  const der = text === null ? body : findPemBlock(text, PemLabel.csr)?.der;
  if (!der) throw new PkiError('ERR_MALFORMED_CSR', 'the body holds no CERTIFICATE REQUEST block');
  const csr = parseCsr(der);
  assertNamedCurve(csr.spkiDer);
  const imported = importSpki(csr.spkiDer);
  assertAcceptablePublicKey(imported.key);
  if (!verifyCsrSignature(csr, imported.key)) throw new PkiError('ERR_CSR_SIGNATURE', 'the certificate request is not signed by its own key');
  return imported;
}

/** The profile the certificate was recorded with (pki.json must still define it), else its usages'. */
function profileFor(config: PkiConfig, record: CertificateRecord, fields: CertificateFields): LeafProfile {
  const role = isLeafProfileName(record.profile) ? record.profile : profileFromExtKeyUsage(fields); // also refuses CA certificates
  return leafProfile(config, record.profileName ?? role);
}

/** Checks the client's credential and, when it passes, issues and records the successor. */
export function renewForClient(input: RemoteRenewalInput): RemoteRenewalResult {
  const judged = judgeCredential(input);
  if ('status' in judged) return judged;
  const { fields, record, ca } = judged;
  const serial = record.serial;
  let newKey: ReturnType<typeof requestedKey>;
  try {
    newKey = requestedKey(input.body);
  } catch (e) {
    if (!isPkiError(e)) throw e;
    return refuse('bad-csr', e.message, serial);
  }
  try {
    const profile = profileFor(ca.config, record, fields);
    const plan = planRenewal(fields, { now: input.now, skewMs: clockSkewMs(ca.config), profile: profile.role });
    approveForRenewal(ca.config, `certificate ${serial}`, fields, plan, []);
    checkRequiredSanPatterns(withProfileSans(plan.sans, profile), profile);
    // As pki renew: the subject byte for byte, unless the profile sets attributes (then CN and O plus the profile's).
    const kept = { ...(plan.subject.commonName !== undefined ? { commonName: plan.subject.commonName } : {}), ...(plan.subject.organization !== undefined ? { organization: plan.subject.organization } : {}) };
    const subject = Object.keys(profile.subject).length > 0 ? applyProfileSubject(kept, profile) : plan.subject;
    const leaf = issueLeafCertificate({
      issuer: ca.issuer,
      config: ca.config,
      profile,
      subject,
      sans: plan.sans,
      publicKey: newKey?.key ?? certificatePublicKey(fields),
      ...(newKey ? { spkiDer: newKey.spkiDer } : {}),
      validity: plan.validity,
    });
    input.inventory.recordIssued([certificateRecord(leaf.der, { profile: profile.role, profileName: profile.name, certificatePath: null, keyPath: null, supersedes: serial, ...ca.recordColumns })]);
    return {
      status: 'issued',
      serial,
      newSerial: normalizeSerial(leaf.serial),
      notAfter: plan.validity.notAfter,
      rekeyed: newKey !== null,
      chainPem: encodePem(PemLabel.certificate, leaf.der) + ca.issuer.certificatePem,
      subject: record.subject,
    };
  } catch (e) {
    if (!isPkiError(e) || e.code === 'ERR_INTERNAL' || e.code.startsWith('ERR_INVENTORY')) throw e;
    return refuse('policy', e.message, serial);
  }
}
