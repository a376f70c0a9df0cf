/**
 * Certificate → inventory record: the one place the inventory's columns are derived from a certificate,
 * shared by init, generate, sign, renew and `pki db rebuild`.
 */
import { authorityKeyIdentifierOf, parseCertificate, type CertificateFields } from '../../core/x509/certificate-fields.js';
import { PkiError } from '../../core/errors.js';
import { decodeBasicConstraints, decodeSubjectAltName } from '../../core/x509/extension-decoders.js';
import { leafProfileOf } from '../../core/x509/profiles.js';
import { formatDistinguishedName } from '../../core/x509/name-decoder.js';
import { encodePem, findPemBlock, looksLikePem, PemLabel } from '../../core/der/pem.js';
import { sha256Fingerprint } from '../../core/x509/fingerprint.js';
import { encodeSubjectName, groupSans, type San, type SubjectName } from '../../core/x509/names.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import { wholeSeconds, type Validity } from '../../core/x509/validity.js';
import type { InventoryProfile, NewCertificateRecord } from './index.js';

/** The first certificate in PEM text or DER bytes (a chain file's leaf). */
export function firstCertificateDer(data: string | Uint8Array): Uint8Array {
  const text = typeof data === 'string' ? data : looksLikePem(data) ? Buffer.from(data).toString('latin1') : null;
  if (text === null) return data as Uint8Array;
  const block = findPemBlock(text, PemLabel.certificate);
  if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', 'no CERTIFICATE block found');
  return block.der;
}

/** What a certificate's own extensions say its profile is (for rebuilds, where nobody tells us): a leaf with no server or client usage is recorded as `server`. */
export function inferProfile(fields: CertificateFields): InventoryProfile {
  if (decodeBasicConstraints(fields).isCA) return Buffer.from(fields.subjectDer).equals(Buffer.from(fields.issuerDer)) ? 'root' : 'intermediate';
  return leafProfileOf(fields, 'server');
}

/** The inventory record of an X.509 certificate (PEM text, first block, or DER). */
export function certificateRecord(
  certificate: string | Uint8Array,
  where: { profile?: InventoryProfile; profileName?: string | null; certificatePath: string | null; keyPath: string | null; supersedes?: string | null } & IssuingCaColumns,
): NewCertificateRecord {
  const der = firstCertificateDer(certificate);
  const fields = parseCertificate(der);
  const aki = authorityKeyIdentifierOf(fields);
  const san = decodeSubjectAltName(fields);
  return {
    kind: 'x509',
    serial: normalizeSerial(fields.serial),
    subject: formatDistinguishedName(fields.subjectDer),
    sans: { dns: san.dns, ip: san.ip, email: san.email, uri: san.uri },
    profile: where.profile ?? inferProfile(fields),
    ...(where.profileName ? { profileName: where.profileName } : {}),
    issuer: formatDistinguishedName(fields.issuerDer),
    notBefore: fields.notBefore.toISOString(),
    notAfter: fields.notAfter.toISOString(),
    fingerprintSha256: sha256Fingerprint(der),
    certificatePath: where.certificatePath,
    keyPath: where.keyPath,
    pem: encodePem(PemLabel.certificate, der),
    supersedes: where.supersedes ?? null,
    keyId: null,
    ...issuingCaColumns(where, aki ? keyIdHex(aki) : null),
  };
}

/** Which CA issued a record (schema v8): absent fields are the default intermediate of the main hierarchy. */
export interface IssuingCaColumns {
  readonly ca?: string | null;
  readonly trustDomain?: string | null;
  readonly issuerKeyId?: string | null;
}

/** A key identifier as the inventory stores it: upper-case hex. */
export function keyIdHex(keyId: Uint8Array): string {
  return Buffer.from(keyId).toString('hex').toUpperCase();
}

function issuingCaColumns(where: IssuingCaColumns, issuerKeyId: string | null): IssuingCaColumns {
  return {
    ...(where.ca ? { ca: where.ca } : {}),
    ...(where.trustDomain ? { trustDomain: where.trustDomain } : {}),
    ...((where.issuerKeyId ?? issuerKeyId) ? { issuerKeyId: where.issuerKeyId ?? issuerKeyId } : {}),
  };
}

/** What a certificate pki has just issued says, as the issuer passed it to issueCertificate. */
export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** `der` as PEM, when the caller has made it already. */
  readonly pem?: string;
  readonly serial: string;
  readonly subject: SubjectName;
  readonly sans: readonly San[];
  /** The issuer's distinguished name as formatDistinguishedName writes it (one per batch). */
  readonly issuer: string;
  readonly validity: Validity;
  /** The issuer's subjectKeyIdentifier, which the certificate carries as its authorityKeyIdentifier (Issuer#keyIdentifier). */
  readonly issuerKeyIdentifier?: Uint8Array | null;
}

/**
 * The inventory record of a certificate pki has just issued, from the values it was issued with instead of
 * parsing it back: the same columns certificateRecord derives (test/core/certificate.test.ts compares the
 * two), at a fraction of the cost over a batch of 1,000.
 */
export function issuedCertificateRecord(
  issued: IssuedCertificate,
  where: { profile: InventoryProfile; profileName?: string | null; certificatePath: string | null; keyPath: string | null; supersedes?: string | null } & IssuingCaColumns,
): NewCertificateRecord {
  const der = Buffer.from(issued.der.buffer, issued.der.byteOffset, issued.der.byteLength);
  return {
    kind: 'x509',
    serial: normalizeSerial(issued.serial),
    subject: formatDistinguishedName(encodeSubjectName(issued.subject)),
    sans: groupSans(issued.sans),
    profile: where.profile,
    ...(where.profileName ? { profileName: where.profileName } : {}),
    issuer: issued.issuer,
    notBefore: wholeSeconds(issued.validity.notBefore).toISOString(),
    notAfter: wholeSeconds(issued.validity.notAfter).toISOString(),
    fingerprintSha256: sha256Fingerprint(der),
    certificatePath: where.certificatePath,
    keyPath: where.keyPath,
    pem: issued.pem ?? encodePem(PemLabel.certificate, der),
    supersedes: where.supersedes ?? null,
    keyId: null,
    ...issuingCaColumns(where, issued.issuerKeyIdentifier ? keyIdHex(issued.issuerKeyIdentifier) : null),
  };
}
