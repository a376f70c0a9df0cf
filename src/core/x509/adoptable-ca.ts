/**
 * Whether a CA made elsewhere (a flat openssl CA's ca.crt) can become a pki root (`pki init --import-ca`):
 * self-signed, a CA allowed to sign certificates and CRLs and to have an intermediate below it, valid now,
 * with a key and a signature pki would accept from any CA it makes itself (RSA ≥ 2048, no SHA-1/MD5).
 * Pure: the certificate's fields and "now" in, a PkiError out when it cannot be adopted.
 */
import { certificatePublicKey, findExtension, type CertificateFields } from './certificate-fields.js';
import { decodeBasicConstraints, decodeKeyUsage } from './extension-decoders.js';
import { ExtensionOid } from './extensions.js';
import { isIssuedBy } from './issued-by.js';
import { PkiError } from '../errors.js';
import { assertAcceptablePublicKey, keysMatch } from '../keys/keys.js';
import { verificationScheme } from '../keys/signature.js';
import type { KeyObject } from 'node:crypto';

const ADOPT_HINT = 'give the self-signed CA certificate that signed your certificates (a flat openssl CA: ca.crt)';

/** The refusals that need only the certificate, in the order an operator would fix them. */
export function assertAdoptableRoot(fields: CertificateFields, now: Date): void {
  const bc = decodeBasicConstraints(fields);
  if (!bc.isCA) {
    throw new PkiError('ERR_POLICY', 'the certificate to import is not a CA certificate (no basicConstraints CA:TRUE)', { hint: ADOPT_HINT });
  }
  const usage = decodeKeyUsage(fields);
  // Without a keyUsage extension a CA key may sign anything (RFC 5280 §4.2.1.3); with one, it must say so.
  if (findExtension(fields, ExtensionOid.keyUsage) && (!usage.includes('keyCertSign') || !usage.includes('cRLSign'))) {
    throw new PkiError('ERR_POLICY', `the CA certificate's keyUsage (${usage.join(', ') || 'none'}) lacks keyCertSign or cRLSign: it may not sign certificates and CRLs`, { hint: ADOPT_HINT });
  }
  if (bc.pathLen === 0) {
    throw new PkiError('ERR_POLICY', 'the CA certificate has pathlen:0, so no intermediate CA below it would be accepted by clients', {
      hint: 'pki issues from an intermediate under the imported root: re-issue the root without pathlen:0 (same key and name), then import that',
    });
  }
  const algorithm = verificationScheme(fields.signatureAlgorithmOid, fields.signatureAlgorithmParameters);
  if (!algorithm.ok) {
    throw new PkiError('ERR_POLICY', `the CA certificate is signed with ${algorithm.name}: ${algorithm.reason}`, {
      hint: 're-sign the root with SHA-256 (same key and name: clients that trust it keep trusting it), then import that',
    });
  }
  assertAcceptablePublicKey(certificatePublicKey(fields));
  if (!Buffer.from(fields.subjectDer).equals(Buffer.from(fields.issuerDer)) || !isIssuedBy(fields, fields)) {
    throw new PkiError('ERR_POLICY', 'the certificate to import is not self-signed: pki adopts a root CA, not a CA issued by another one', { hint: ADOPT_HINT });
  }
  if (now.getTime() > fields.notAfter.getTime()) {
    throw new PkiError('ERR_ISSUER_EXPIRED', `the CA certificate to import expired on ${fields.notAfter.toISOString()}`, {
      hint: 'an expired root no longer anchors anything: create a new CA with "pki init" and distribute its root',
    });
  }
  if (now.getTime() < fields.notBefore.getTime()) {
    throw new PkiError('ERR_ISSUER_EXPIRED', `the CA certificate to import is not valid before ${fields.notBefore.toISOString()}`, { hint: "check this machine's clock" });
  }
}

/** The key given with --import-key must be the certificate's. */
export function assertKeyOfCertificate(privateKey: KeyObject, fields: CertificateFields, keyPath: string): void {
  if (!keysMatch(privateKey, certificatePublicKey(fields))) {
    throw new PkiError('ERR_KEY_MISMATCH', `the private key ${keyPath} does not belong to the certificate to import`, {
      hint: 'give the key the CA certificate was made with (a flat openssl CA: ca.key beside ca.crt)',
    });
  }
}
