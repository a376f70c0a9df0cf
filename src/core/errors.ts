/**
 * Typed errors for everything below `cli/`.
 *
 * Every failure carries a stable string `code` (the contract with scripts and tests), a message that
 * states the cause, and an optional `hint` that states the fix. `cli/errors.ts` maps codes to exit
 * codes; nothing here knows about processes or terminals.
 */

/** Every code pki can raise. Add new codes here, grouped by concern. */
export type PkiErrorCode =
  // usage: the command line itself is wrong (exit 2)
  | 'ERR_USAGE'
  // input values
  | 'ERR_INVALID_NAME'
  | 'ERR_INVALID_SAN'
  | 'ERR_INVALID_DURATION'
  | 'ERR_INVALID_TIME'
  | 'ERR_INVALID_SERIAL'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_OPTION'
  // keys
  | 'ERR_WEAK_KEY'
  | 'ERR_UNSUPPORTED_KEY'
  | 'ERR_KEY_MISMATCH'
  // encodings
  | 'ERR_MALFORMED_PEM'
  | 'ERR_MALFORMED_DER'
  | 'ERR_MALFORMED_CERTIFICATE'
  | 'ERR_MALFORMED_CSR'
  | 'ERR_MALFORMED_CRL'
  | 'ERR_MALFORMED_KEY'
  | 'ERR_MALFORMED_SSH'
  | 'ERR_MALFORMED_INDEX'
  | 'ERR_UNKNOWN_OBJECT'
  | 'ERR_EMPTY_INPUT'
  | 'ERR_INPUT_TOO_LARGE'
  // passphrases
  | 'ERR_PASSWORD_REQUIRED'
  | 'ERR_BAD_PASSWORD'
  // issuance policy
  | 'ERR_CSR_SIGNATURE'
  | 'ERR_POLICY'
  | 'ERR_VALIDITY'
  | 'ERR_ISSUER_EXPIRED'
  | 'ERR_ISSUER_REVOKED'
  | 'ERR_NAME_CONSTRAINTS'
  // the CA home and its files
  | 'ERR_CA_MISSING'
  | 'ERR_CA_EXISTS'
  | 'ERR_FILE_EXISTS'
  | 'ERR_FILE_NOT_FOUND'
  | 'ERR_IS_DIRECTORY'
  | 'ERR_BUNDLE_MISMATCH'
  | 'ERR_BUNDLE_PARTIAL'
  | 'ERR_IO'
  | 'ERR_LOCKED'
  | 'ERR_UNSAFE_HOME'
  // inventory and lifecycle
  | 'ERR_INVENTORY_MISSING'
  | 'ERR_INVENTORY_BUSY'
  | 'ERR_INVENTORY_CORRUPT'
  | 'ERR_INVENTORY_VERSION'
  // a shared PostgreSQL inventory (issue 14): the server cannot be reached, refuses the login or the TLS handshake
  | 'ERR_INVENTORY_UNREACHABLE'
  | 'ERR_INVENTORY_AUTH'
  | 'ERR_INVENTORY_TLS'
  | 'ERR_DUPLICATE_SERIAL'
  | 'ERR_UNKNOWN_SERIAL'
  | 'ERR_UNTRUSTED_CERTIFICATE'
  | 'ERR_ALREADY_REVOKED'
  | 'ERR_RENEW_FAILED'
  | 'ERR_EXEC_FAILED'
  // ACME state of pki serve (store/inventory/acme.ts)
  | 'ERR_ACME_NOT_FOUND'
  | 'ERR_ACME_KEY_IN_USE'
  // a bug: an exception that is not a PkiError, as renew --all reports it for one certificate and goes on
  | 'ERR_INTERNAL'
  // OpenSSH
  | 'ERR_SSH_CA_MISSING'
  | 'ERR_SSH_POLICY'
  // network: pki inspect --tls (src/net/)
  | 'ERR_CONNECT'
  | 'ERR_TIMEOUT'
  | 'ERR_STARTTLS'
  | 'ERR_TLS_HANDSHAKE'
  // CA keys on a PKCS#11 token (src/store/pkcs11/): a wrong PIN, a token or key not found, a module or token failure
  | 'ERR_BAD_PIN'
  | 'ERR_TOKEN_NOT_FOUND'
  | 'ERR_TOKEN_KEY_MISSING'
  | 'ERR_PKCS11'
  // trust stores: pki trust (src/store/trust-store/)
  | 'ERR_NOT_A_ROOT'
  | 'ERR_UNSUPPORTED_PLATFORM';

/** Base class of every error pki raises on purpose. Anything else reaching the CLI is a bug. */
export class PkiError extends Error {
  readonly code: PkiErrorCode;
  readonly hint: string | undefined;

  constructor(code: PkiErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PkiError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** True when `e` is a PkiError, optionally with the given code. */
export function isPkiError(e: unknown, code?: PkiErrorCode): e is PkiError {
  return e instanceof PkiError && (code === undefined || e.code === code);
}
