/**
 * Whether a certificate was really signed by an issuer: its issuer name is the issuer's subject and its
 * signature verifies with the issuer's public key. The name alone proves nothing — anyone can make a CA
 * with the same subject DN (issue 9).
 */
import { certificatePublicKey, type CertificateFields } from './certificate-fields.js';
import { isPkiError } from '../errors.js';
import { verifySignature } from '../keys/signature.js';

export function isIssuedBy(certificate: CertificateFields, issuer: Pick<CertificateFields, 'subjectDer' | 'spkiDer'>): boolean {
  if (!Buffer.from(certificate.issuerDer).equals(Buffer.from(issuer.subjectDer))) return false;
  try {
    return verifySignature(certificate.signatureAlgorithmOid, certificate.tbsDer, certificate.signature, certificatePublicKey(issuer), certificate.signatureAlgorithmParameters);
  } catch (e) {
    if (isPkiError(e)) return false; // SHA-1, MD5, unknown algorithms: not a signature pki accepts
    throw e;
  }
}
