/**
 * Revocation by CRL (RFC 5280 §6.3): a CRL counts for a certificate when its issuer is the certificate's
 * issuer (name and, when both carry one, AKI = issuer SKI), its signature verifies with that issuer's key,
 * and it is current at the validation time (thisUpdate ≤ time < nextUpdate). A CRL with an unknown critical
 * extension is refused. Every CRL given is judged, whatever the mode: a stale or wrongly signed CRL makes the
 * verdict invalid (an operator who passed it meant it to count).
 */
import type { CertificateFields } from '../x509/certificate-fields.js';
import type { CheckOutcome, CrlCheckMode } from './types.js';

/**
 * `path`: leaf first, trust anchor last. Returns one outcome per CRL judged and per certificate checked
 * (`crl` and `revocation` checks), in that order; the first failed one is the verdict.
 */
export function checkRevocation(path: readonly CertificateFields[], crls: readonly Uint8Array[], mode: CrlCheckMode, time: Date): CheckOutcome[] {
  void path;
  void crls;
  void mode;
  void time;
  throw new Error('checkRevocation: not implemented yet');
}
