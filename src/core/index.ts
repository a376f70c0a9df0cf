/**
 * The public API of the pki library: everything a program needs to make keys, issue certificates,
 * sign CSRs, build CRLs and OpenSSH certificates, and inspect what others made — without the CLI.
 * Every export is listed by name.
 *
 * @example
 * import { generateKeyPair, issueCertificate, PROFILES, generateSerial, parseSans, encodePem } from 'pki-ca-manager';
 * const keys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
 * const der = issueCertificate({ serial: generateSerial(), subject: { commonName: 'dev' }, sans: parseSans(['localhost']),
 *   profile: PROFILES.server, publicKey: keys.publicKey, notBefore: new Date(), notAfter: new Date(Date.now() + 864e5),
 *   issuer: 'self', selfSigningKey: keys.privateKey });
 * console.log(encodePem('CERTIFICATE', der));
 */
export { PkiError, isPkiError } from './errors.js';
export type { PkiErrorCode } from './errors.js';

export { decodePem, encodePem, looksLikePem, PemLabel } from './pem.js';
export type { PemBlock } from './pem.js';

export {
  generateKeyPair,
  resolveKeySpec,
  describeKey,
  keySpecOf,
  formatKeySpec,
  assertAcceptablePublicKey,
  signatureAlgorithmFor,
  publicKeyFingerprint,
  keysMatch,
  exportPrivateKeyPem,
  importPrivateKey,
  DEFAULT_KEY_SPEC,
  MIN_RSA_BITS,
} from './keys.js';
export type { KeySpec, KeyType, Curve, KeyDescription, KeyPair, SignatureAlgorithm } from './keys.js';
export { encryptPrivateKey, encryptPrivateKeyPem, DEFAULT_PBKDF2_ITERATIONS } from './key-encryption.js';
export type { KeyEncryptionOptions } from './key-encryption.js';

export { parseSan, parseSans, groupSans, normalizeDnsName, validateServiceName, validateCommonName, encodeSubjectName } from './names.js';
export type { San, SanSet, SanType, SubjectName } from './names.js';
export { generateSerial, normalizeSerial, SERIAL_BYTES } from './serial.js';
export { parseDuration, parseTimeSpec, resolveValidity, DEFAULT_CLOCK_SKEW_MS } from './validity.js';
export type { Validity } from './validity.js';

export { PROFILES, LEAF_PROFILE_NAMES, isLeafProfileName, keyUsagesFor } from './profiles.js';
export type { Profile, ProfileName, LeafProfileName } from './profiles.js';
export { KEY_USAGE_BITS, EXT_KEY_USAGE_OIDS } from './usages.js';
export type { KeyUsage, ExtKeyUsage } from './usages.js';

export { issueCertificate, computeKeyIdentifier } from './certificate.js';
export type { CertificateSpec, Issuer } from './certificate.js';
export { parseCertificate, certificatePublicKey } from './certificate-fields.js';
export type { CertificateFields, CertificateExtension } from './certificate-fields.js';
export { issuerFromCertificate } from './issuer.js';
export type { LoadedIssuer } from './issuer.js';
export { buildCsr, parseCsr, verifyCsrSignature } from './csr.js';
export type { CsrFields } from './csr.js';
export { buildCrl } from './crl.js';
export type { BuildCrlOptions, CrlEntry } from './crl.js';
export { parseRevocationReason, revocationReasons } from './revocation-reason.js';
export type { RevocationReason } from './revocation-reason.js';
export { buildBundleRequest, bundleFiles, compareBundle } from './bundle.js';
export type { BundleRequest, BundleState, ExistingBundle } from './bundle.js';

export { inspectBytes } from './inspect/index.js';
export type { InspectReport, CertificateReport, CsrReport, CrlReport, KeyReport } from './inspect/index.js';
export { inspectCertificate } from './inspect/certificate.js';
export { inspectCsr } from './inspect/csr.js';
export { inspectCrl, verifyCrlSignature } from './inspect/crl.js';
export { formatDistinguishedName } from './inspect/name.js';

export {
  issueSshCertificate,
  decodeSshCertificate,
  verifySshCertificateSignature,
  parseSshPublicKey,
  encodeSshPublicKey,
  fingerprintSshPublicKey,
  generateSshCaKey,
  buildKrl,
} from './ssh/index.js';
export type { IssueSshCertificateOptions, SshCertificate, SshPublicKey } from './ssh/index.js';
