/**
 * OpenSSH public keys and certificates → typed reports for `pki inspect`: what `ssh-keygen -l` and
 * `ssh-keygen -L` show, as plain values (no raw buffers, so --json prints them as they are).
 */
import { PkiError } from '../errors.js';
import {
  classifySshText,
  decodeSshCertificate,
  decodeSshPublicKeyBlob,
  fingerprintSshPublicKey,
  sshCertificateFields,
  verifySshCertificateSignature,
  type SshCertificate,
  type SshCertificateFields,
  type SshKeyType,
} from '../ssh/index.js';
import { splitSshKeyLine } from '../ssh/public-key.js';

export interface SshPublicKeyReport {
  readonly type: 'sshPublicKey';
  readonly keyType: SshKeyType;
  /** RSA modulus bits; the curve size for ECDSA; 256 for Ed25519. */
  readonly bits: number;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  readonly comment: string;
}

/** The certificate's fields (shared with `pki ssh sign`'s result, core/ssh/certificate-fields.ts), plus what inspect adds. */
export interface SshCertificateReport extends SshCertificateFields {
  readonly type: 'sshCertificate';
  /** e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly certificateType: string;
  readonly publicKey: { readonly keyType: SshKeyType; readonly fingerprint: string };
  readonly signingCa: { readonly keyType: SshKeyType; readonly fingerprint: string };
  readonly signatureAlgorithm: string;
  /** The signature checks out against the embedded CA key (not whether anyone trusts that CA). */
  readonly signatureValid: boolean;
  readonly comment: string;
}

export type SshReport = SshPublicKeyReport | SshCertificateReport;

const CURVE_BITS: Readonly<Record<string, number>> = {
  'ssh-ed25519': 256,
  'ecdsa-sha2-nistp256': 256,
  'ecdsa-sha2-nistp384': 384,
  'ecdsa-sha2-nistp521': 521,
};

/** True when the text starts like an OpenSSH public key or certificate line (for inspectBytes routing). */
export function looksLikeSshText(text: string): boolean {
  const kind = classifySshText(text);
  return kind === 'public-key' || kind === 'certificate';
}

/**
 * One report per key or certificate line (an `authorized_keys`-style file without options has several).
 * Weak RSA keys are described, not refused: inspect reports what is there.
 */
export function inspectSshText(text: string): SshReport[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new PkiError('ERR_EMPTY_INPUT', 'no OpenSSH key or certificate line found');
  return lines.map((line) => {
    const kind = classifySshText(line);
    if (kind === 'certificate') return reportCertificate(line);
    if (kind === 'public-key') return reportPublicKey(line);
    throw new PkiError('ERR_UNKNOWN_OBJECT', `not an OpenSSH public key or certificate line: "${line.slice(0, 40)}${line.length > 40 ? '…' : ''}"`, {
      hint: 'authorized_keys options and known_hosts host patterns are not supported; inspect the bare key line',
    });
  });
}

function reportPublicKey(line: string): SshPublicKeyReport {
  const { type, blob, comment } = splitSshKeyLine(line, 'public key');
  const decoded = decodeSshPublicKeyBlob(blob);
  if (decoded.type !== type) throw new PkiError('ERR_MALFORMED_SSH', `key line says ${type} but its blob holds ${decoded.type}`);
  const bits = decoded.type === 'ssh-rsa' ? (decoded.keyObject.asymmetricKeyDetails?.modulusLength ?? 0) : CURVE_BITS[decoded.type]!;
  return { type: 'sshPublicKey', keyType: decoded.type, bits, fingerprint: fingerprintSshPublicKey(blob), comment };
}

/** ssh-rsa (SHA-1) CA signatures are refused by the verifier; for a report that reads as "not valid". */
function signatureChecksOut(cert: SshCertificate): boolean {
  try {
    return verifySshCertificateSignature(cert);
  } catch (e) {
    if (e instanceof PkiError) return false;
    throw e;
  }
}

function reportCertificate(line: string): SshCertificateReport {
  const cert = decodeSshCertificate(line);
  return {
    type: 'sshCertificate',
    certificateType: cert.type,
    ...sshCertificateFields(cert),
    publicKey: { keyType: cert.keyType, fingerprint: cert.publicKeyFingerprint },
    signingCa: { keyType: cert.signatureKeyType, fingerprint: cert.signatureKeyFingerprint },
    signatureAlgorithm: cert.signatureAlgorithm,
    signatureValid: signatureChecksOut(cert),
    comment: cert.comment,
  };
}
