/**
 * The plain-value fields of an OpenSSH certificate (what `ssh-keygen -L` shows about its use), the one
 * shape `pki ssh sign`'s result and `pki inspect`'s report share: dates as ISO 8601 text, serial decimal.
 */
import type { SshCertificate } from './certificate.js';
import type { SshCertType } from './profiles.js';

export interface SshCertificateFields {
  readonly certType: SshCertType;
  readonly keyId: string;
  /** Decimal, as `ssh-keygen -L` prints it. */
  readonly serial: string;
  readonly principals: readonly string[];
  readonly validAfter: string;
  /** ISO 8601, or 'forever'. */
  readonly validBefore: string;
  readonly criticalOptions: Readonly<Record<string, string>>;
  readonly extensions: readonly string[];
}

/** The fields in the order both outputs print them (their --json keys keep this order). */
export function sshCertificateFields(cert: SshCertificate): SshCertificateFields {
  return {
    certType: cert.certType,
    keyId: cert.keyId,
    serial: cert.serial,
    principals: cert.principals,
    validAfter: cert.validAfter.toISOString(),
    validBefore: cert.validBefore === 'forever' ? 'forever' : cert.validBefore.toISOString(),
    criticalOptions: cert.criticalOptions,
    extensions: cert.extensions,
  };
}
