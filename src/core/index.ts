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

export { decodePem, encodePem, looksLikePem, PemLabel } from './der/pem.js';
export type { PemBlock } from './der/pem.js';

export {
  generateKeyPair,
  resolveKeySpec,
  describeKey,
  keySpecOf,
  formatKeySpec,
  assertAcceptablePublicKey,
  publicKeyFingerprint,
  keysMatch,
  exportPrivateKeyPem,
  importPrivateKey,
  DEFAULT_KEY_SPEC,
  MIN_RSA_BITS,
} from './keys/keys.js';
export type { KeySpec, KeyType, Curve, KeyDescription, KeyPair } from './keys/keys.js';
export { signatureAlgorithmFor } from './keys/signature.js';
export type { SignatureAlgorithm } from './keys/signature.js';
export { encryptPrivateKey, encryptPrivateKeyPem, DEFAULT_PBKDF2_ITERATIONS } from './keys/encryption.js';
export type { KeyEncryptionOptions } from './keys/encryption.js';

export { parseSan, parseSans, groupSans, normalizeDnsName, validateServiceName, validateCommonName, encodeSubjectName } from './x509/names.js';
export type { San, SanSet, SanType, SubjectName } from './x509/names.js';
export { generateSerial, normalizeSerial, SERIAL_BYTES } from './x509/serial.js';
export { parseDuration, parseTimeSpec, resolveValidity, DEFAULT_CLOCK_SKEW_MS } from './x509/validity.js';
export type { Validity } from './x509/validity.js';

export { PROFILES, LEAF_PROFILE_NAMES, isLeafProfileName, keyUsagesFor } from './x509/profiles.js';
export type { Profile, ProfileName, LeafProfileName } from './x509/profiles.js';
export { KEY_USAGE_BITS, EXT_KEY_USAGE_OIDS } from './x509/usages.js';
export type { KeyUsage, ExtKeyUsage } from './x509/usages.js';

export { issueCertificate, computeKeyIdentifier } from './x509/certificate.js';
export type { CertificateSpec, Issuer } from './x509/certificate.js';
export { parseCertificate, certificatePublicKey } from './x509/certificate-fields.js';
export type { CertificateFields, CertificateExtension } from './x509/certificate-fields.js';
export { issuerFromCertificate } from './x509/issuer.js';
export type { LoadedIssuer } from './x509/issuer.js';
export { buildCsr, parseCsr, verifyCsrSignature } from './x509/csr.js';
export type { CsrFields } from './x509/csr.js';
export { buildCrl } from './x509/crl.js';
export type { BuildCrlOptions, CrlEntry } from './x509/crl.js';
export { parseRevocationReason, revocationReasons } from './x509/revocation-reason.js';
export type { RevocationReason } from './x509/revocation-reason.js';
export { buildBundleRequest, bundleFiles, compareBundle } from './lifecycle/bundle.js';
export type { BundleRequest, BundleState, ExistingBundle } from './lifecycle/bundle.js';

export { inspectBytes } from './inspect/index.js';
export type { InspectReport, CertificateReport, CsrReport, CrlReport, KeyReport } from './inspect/index.js';
export { inspectCertificate } from './inspect/certificate.js';
export { inspectCsr } from './inspect/csr.js';
export { inspectCrl, verifyCrlSignature } from './inspect/crl.js';
export { formatDistinguishedName } from './x509/name-decoder.js';

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

export { validateCertificatePath, checkHost } from './verify/index.js';
export type { ChainEntry, CrlCheckMode, PathValidationInput, PathValidationResult, VerifyCheck, VerifyErrorCode, VerifyFailure, VerifyPurpose } from './verify/index.js';
export { certificatesInFile, crlsInFile } from './x509/certificate-file.js';
