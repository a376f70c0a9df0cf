/**
 * The vocabulary of certificate path validation (RFC 5280 §6) shared by `pki verify`, `pki inspect --tls`
 * and `pki check`: what goes in, what comes out, and the stable verdict codes scripts rely on
 * (docs/verify.md lists each with its cause and fix). A verdict is not a PkiError: an invalid certificate
 * is the answer to the question asked, printed on stdout, not a failure of the command.
 */

/** Which extended key usage the leaf must carry (or anyExtendedKeyUsage). `any` checks none. */
export type VerifyPurpose = 'server' | 'client' | 'any';

/** Whose revocation is checked: no one, the leaf (openssl -crl_check), every certificate below the anchor (-crl_check_all). */
export type CrlCheckMode = 'none' | 'leaf' | 'all';

export interface PathValidationInput {
  /** DER of the certificate to validate (the first certificate of the file `pki verify` was given). */
  readonly leaf: Uint8Array;
  /** Candidate intermediates, in no particular order: the rest of the leaf's file and every --untrusted file. */
  readonly untrusted: readonly Uint8Array[];
  /** Trust anchors (--roots): a path ends at the first of these it reaches. */
  readonly roots: readonly Uint8Array[];
  /** DNS name or IP literal the leaf must be valid for (--host; an IP literal is compared as an IP). */
  readonly host?: string;
  /** IP address the leaf must be valid for (--ip). */
  readonly ip?: string;
  readonly purpose: VerifyPurpose;
  /** The time the path is validated at (--time; default now). */
  readonly time: Date;
  /** DER CRLs (--crl, and the CA home's own with --crl-check). Each must be usable, whatever crlCheck says. */
  readonly crls: readonly Uint8Array[];
  readonly crlCheck: CrlCheckMode;
  /** At most this many intermediate CA certificates between the leaf and the anchor (--max-depth). */
  readonly maxDepth?: number;
}

/** One certificate of the path, leaf first, trust anchor last, as `--json` prints it. */
export interface ChainEntry {
  /** RFC 4514-style text, e.g. `CN=redis,O=pki`, as formatDistinguishedName prints it. */
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex, as openssl x509 -serial prints it. */
  readonly serial: string;
  /** RFC 3339, seconds precision (`2026-10-01T00:00:00Z`). */
  readonly notBefore: string;
  readonly notAfter: string;
  /** Lower-case hex SHA-256 of the DER. */
  readonly fingerprintSha256: string;
}

/** One check that was made, in the order made: `{name: 'signature', ok: true, detail: 'CN=redis ← CN=pki Intermediate CA'}`. */
export interface VerifyCheck {
  readonly name: VerifyCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export type VerifyCheckName =
  | 'path'
  | 'signature'
  | 'validity'
  | 'basicConstraints'
  | 'pathLength'
  | 'keyUsage'
  | 'criticalExtensions'
  | 'algorithm'
  | 'extendedKeyUsage'
  | 'nameConstraints'
  | 'host'
  | 'crl'
  | 'revocation';

/** Stable verdict codes (docs/verify.md). */
export type VerifyErrorCode =
  | 'ERR_CERT_EXPIRED'
  | 'ERR_CERT_NOT_YET_VALID'
  | 'ERR_UNKNOWN_AUTHORITY'
  | 'ERR_CHAIN_LOOP'
  | 'ERR_HOSTNAME_MISMATCH'
  | 'ERR_PURPOSE'
  | 'ERR_REVOKED'
  | 'ERR_PATH_LENGTH'
  | 'ERR_NAME_CONSTRAINTS'
  | 'ERR_BAD_SIGNATURE'
  | 'ERR_NOT_CA'
  | 'ERR_KEY_USAGE'
  | 'ERR_UNKNOWN_CRITICAL_EXTENSION'
  | 'ERR_WEAK_ALGORITHM'
  | 'ERR_WEAK_KEY'
  | 'ERR_UNSUPPORTED_ALGORITHM'
  | 'ERR_MALFORMED_CERTIFICATE'
  | 'ERR_CRL_MISSING'
  | 'ERR_CRL_STALE'
  | 'ERR_CRL_NOT_YET_VALID'
  | 'ERR_CRL_BAD_SIGNATURE'
  | 'ERR_CRL_UNKNOWN_CRITICAL_EXTENSION'
  | 'ERR_CRL_MALFORMED';

export interface VerifyFailure {
  readonly code: VerifyErrorCode;
  /** The cause, e.g. `certificate has expired on 2026-10-01T00:00:00Z`. */
  readonly message: string;
  /** Subject of the failing certificate: for ERR_CRL_MISSING the one whose revocation cannot be checked, for the other ERR_CRL_* the CRL's issuer. */
  readonly certificate: string;
  /** The fix, e.g. `renew it: pki renew …`; rendered in parentheses after the message. */
  readonly hint?: string;
}

export interface PathValidationResult {
  readonly valid: boolean;
  /** The path that was validated (the best candidate when none is valid); leaf first. Empty when the leaf cannot be read. */
  readonly chain: readonly ChainEntry[];
  readonly error: VerifyFailure | null;
  readonly checks: readonly VerifyCheck[];
}

/** What a sub-check (host, name constraints, one CRL) answers: ok with a detail, or a failure. */
export type CheckOutcome =
  | { readonly ok: true; readonly name: VerifyCheckName; readonly detail: string }
  | { readonly ok: false; readonly name: VerifyCheckName; readonly failure: VerifyFailure };
