/**
 * A CA certificate plus its private key → the `Issuer` that signs. Refuses a key that does not match the
 * certificate, a certificate that is not a CA, and a CA outside its validity window.
 */
import type { Issuer } from './certificate.js';
import { certificatePublicKey, parseCertificate, subjectKeyIdentifierOf, type CertificateFields } from './certificate-fields.js';
import { PkiError } from '../errors.js';
import { spkiDer } from '../keys/keys.js';
import { publicKeyOf, type SigningKey } from '../keys/signing-key.js';
import { decodeBasicConstraints } from './extension-decoders.js';

export interface LoadedIssuer extends Issuer {
  readonly certificate: CertificateFields;
}

export function issuerFromCertificate(certificateDer: Uint8Array, privateKey: SigningKey, now: Date): LoadedIssuer {
  const certificate = parseCertificate(certificateDer);
  const publicKey = certificatePublicKey(certificate);
  if (!spkiDer(publicKeyOf(privateKey)).equals(spkiDer(publicKey))) {
    throw new PkiError('ERR_KEY_MISMATCH', 'the CA private key does not belong to the CA certificate', {
      hint: 'restore the matching key file, or re-create the CA with pki init --force',
    });
  }
  const bc = decodeBasicConstraints(certificate);
  if (!bc.isCA) throw new PkiError('ERR_POLICY', 'the issuing certificate is not a CA (BasicConstraints CA:FALSE)');
  if (now.getTime() > certificate.notAfter.getTime()) {
    throw new PkiError('ERR_ISSUER_EXPIRED', `the issuing CA expired on ${certificate.notAfter.toISOString()}`, {
      hint: 'renew the intermediate CA (pki init --force re-creates the whole CA)',
    });
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    throw new PkiError('ERR_ISSUER_EXPIRED', `the issuing CA is not valid before ${certificate.notBefore.toISOString()}`, {
      hint: "check this machine's clock",
    });
  }
  return {
    certificate,
    subjectDer: certificate.subjectDer,
    // Copied, never recomputed: leaves of a CA made by another tool or an older pki must chain to it.
    keyIdentifier: subjectKeyIdentifierOf(certificate) ?? null,
    privateKey,
    notAfter: certificate.notAfter,
  };
}
