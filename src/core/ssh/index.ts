/** Public API of the OpenSSH certificate core, exported by name. */
export { generateSshCaKey, checkSshCaKey, MIN_RSA_CA_BITS } from './ca-key.js';
export type { SshCaKeySpec, SshCaKeyPair } from './ca-key.js';
export { issueSshCertificate } from './certificate-issue.js';
export type { IssueSshCertificateOptions, IssuedSshCertificate } from './certificate-issue.js';
export { decodeSshCertificate, verifySshCertificateSignature } from './certificate-decode.js';
export type { SshCertificate, SshCriticalOptions } from './certificate.js';
export { sshCertificateFields } from './certificate-fields.js';
export type { SshCertificateFields } from './certificate-fields.js';
export { buildKrl, decodeKrl, looksLikeKrl } from './krl.js';
export type { BuildKrlOptions, DecodedKrl, DecodedKrlCertificates, KrlCaRevocations } from './krl.js';
export { SSH_CERTIFICATE_PROFILES, computeSshValidity } from './profiles.js';
export type { SshCertType, SshCertificateProfile } from './profiles.js';
export {
  classifySshText,
  decodeSshPublicKeyBlob,
  encodeSshPublicKey,
  encodeSshPublicKeyBlob,
  fingerprintSshPublicKey,
  parseSshPublicKey,
  sshKeyTypeOf,
  MIN_RSA_SUBJECT_BITS,
} from './public-key.js';
export type { SshKeyType, SshPublicKey, SshTextKind } from './public-key.js';
export { signSshData, verifySshSignature } from './signature.js';
export type { SshSignatureAlgorithm } from './signature.js';
export { formatSourceAddressList } from './source-address.js';
