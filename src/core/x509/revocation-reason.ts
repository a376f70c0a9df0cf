/**
 * CRL revocation reasons (RFC 5280 §5.3.1): the one vocabulary shared by `revoke`, `buildCrl` and
 * `inspectCrl`. Code 7 is unassigned in the RFC, so it has no name here.
 */
import { PkiError } from '../errors.js';

export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** Name → CRLReason ENUMERATED value, spelled exactly as in the RFC 5280 ASN.1 module. */
export const revocationReasonCodes: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** Every reason name, in code order. */
export const revocationReasons: readonly RevocationReason[] = Object.keys(revocationReasonCodes) as RevocationReason[];

const reasonsByCode = new Map<number, RevocationReason>(revocationReasons.map((r) => [revocationReasonCodes[r], r]));
const reasonsByLowerName = new Map<string, RevocationReason>(revocationReasons.map((r) => [r.toLowerCase(), r]));

/** The reason with the given CRLReason code, or undefined for an unassigned code (7, or > 10). */
export function revocationReasonByCode(code: number): RevocationReason | undefined {
  return reasonsByCode.get(code);
}

/**
 * Parses a reason name case-insensitively, so openssl's spelling (`CACompromise`) and the RFC's
 * (`cACompromise`) both work. Throws ERR_INVALID_OPTION listing the valid names.
 */
export function parseRevocationReason(text: string): RevocationReason {
  const reason = reasonsByLowerName.get(text.trim().toLowerCase());
  if (reason === undefined) {
    throw new PkiError('ERR_INVALID_OPTION', `unknown revocation reason "${text}"`, {
      hint: `use one of: ${revocationReasons.join(', ')}`,
    });
  }
  return reason;
}
