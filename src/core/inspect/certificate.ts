/**
 * Certificate → typed report, the one shape behind both `pki inspect` outputs (human and --json).
 */
import { sha256Fingerprint } from '../x509/fingerprint.js';
import { authorityKeyIdentifierOf, certificatePublicKey, parseCertificate, subjectKeyIdentifierOf, type CertificateFields } from '../x509/certificate-fields.js';
import { ExtensionOid } from '../x509/extensions.js';
import { describeKey, type KeyDescription } from '../keys/keys.js';
import type { SanSet } from '../x509/names.js';
import { signatureAlgorithmName } from '../keys/signature.js';
import { decodeBasicConstraints, decodeExtKeyUsage, decodeKeyUsage, decodeSubjectAltName, decodeUriList } from '../x509/extension-decoders.js';
import { formatDistinguishedName } from '../x509/name-decoder.js';

export interface CertificateReport {
  readonly type: 'certificate';
  readonly version: number;
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex without colons. */
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sans: SanSet;
  readonly key: KeyDescription | { readonly type: 'unknown' };
  readonly isCA: boolean;
  readonly pathLen: number | null;
  readonly keyUsage: string[];
  readonly extKeyUsage: string[];
  readonly subjectKeyIdentifier: string | null;
  readonly authorityKeyIdentifier: string | null;
  readonly crlDistributionPoints: string[];
  readonly ocsp: string[];
  readonly selfSigned: boolean;
  readonly signatureAlgorithm: string;
  readonly fingerprintSha256: string;
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex').toUpperCase() : null);

export function reportCertificateFields(f: CertificateFields): CertificateReport {
  let key: CertificateReport['key'];
  try {
    key = describeKey(certificatePublicKey(f));
  } catch {
    key = { type: 'unknown' };
  }
  const bc = decodeBasicConstraints(f);
  const san = decodeSubjectAltName(f);
  return {
    type: 'certificate',
    version: f.version,
    subject: formatDistinguishedName(f.subjectDer),
    issuer: formatDistinguishedName(f.issuerDer),
    serial: f.serial,
    notBefore: f.notBefore.toISOString(),
    notAfter: f.notAfter.toISOString(),
    sans: { dns: san.dns, ip: san.ip, email: san.email, uri: san.uri },
    key,
    isCA: bc.isCA,
    pathLen: bc.pathLen,
    keyUsage: decodeKeyUsage(f),
    extKeyUsage: decodeExtKeyUsage(f),
    subjectKeyIdentifier: hex(subjectKeyIdentifierOf(f)),
    authorityKeyIdentifier: hex(authorityKeyIdentifierOf(f)),
    crlDistributionPoints: decodeUriList(f, ExtensionOid.crlDistributionPoints),
    ocsp: decodeUriList(f, ExtensionOid.authorityInfoAccess),
    selfSigned: Buffer.from(f.subjectDer).equals(Buffer.from(f.issuerDer)),
    signatureAlgorithm: signatureAlgorithmName(f.signatureAlgorithmOid),
    fingerprintSha256: sha256Fingerprint(f.der),
  };
}

export function inspectCertificate(der: Uint8Array): CertificateReport {
  return reportCertificateFields(parseCertificate(der));
}
