/**
 * OpenSSH certificates (PROTOCOL.certkeys, "-cert-v01@openssh.com"): the format both sides share. Issuing is in
 * certificate-issue.ts, decoding and the signature check in certificate-decode.ts. Layout, for every key type:
 *
 *   string type, string nonce, <key fields of the plain public key>, uint64 serial, uint32 type,
 *   string key id, string principals, uint64 valid after, uint64 valid before, string critical options,
 *   string extensions, string reserved, string signature key, string signature
 *
 * The signature covers everything from the type through the signature key.
 */
import type { SshCertType } from './profiles.js';
import type { SshKeyType } from './public-key.js';

/** What the certificate type adds to the plain key type: `ssh-ed25519` → `ssh-ed25519-cert-v01@openssh.com`. */
export const CERT_SUFFIX = '-cert-v01@openssh.com';
export const CERT_TYPE_CODE: { readonly [K in SshCertType]: number } = { user: 1, host: 2 };

export interface SshCriticalOptions {
  /** `force-command`: the only command the certificate may run. */
  readonly forceCommand?: string;
  /** `source-address`: CIDR blocks (IPv4 or IPv6) the certificate is accepted from. */
  readonly sourceAddress?: readonly string[];
}

/** A decoded certificate: the report fields, plus the raw parts needed to verify it. */
export interface SshCertificate {
  /** e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: string;
  /** The certified key's plain type, e.g. `ssh-ed25519`. */
  readonly keyType: SshKeyType;
  readonly keyId: string;
  /** Decimal: uint64 does not fit a JSON number. */
  readonly serial: string;
  readonly certType: SshCertType;
  readonly principals: readonly string[];
  readonly validAfter: Date;
  readonly validBefore: Date | 'forever';
  readonly criticalOptions: Readonly<Record<string, string>>;
  readonly extensions: readonly string[];
  readonly publicKeyFingerprint: string;
  readonly signatureKeyType: SshKeyType;
  readonly signatureKeyFingerprint: string;
  readonly signatureAlgorithm: string;
  /** The line's comment; '' for a bare blob. */
  readonly comment: string;
  readonly raw: {
    readonly blob: Buffer;
    /** The certified key as a plain public key blob (what fingerprints hash). */
    readonly publicKey: Buffer;
    /** The bytes the CA signed. */
    readonly signedData: Buffer;
    readonly signatureKey: Buffer;
    readonly signature: Buffer;
  };
}
