/**
 * Name constraints along a path (RFC 5280 §4.2.1.10, §6.1.3 (b)/(c), §6.1.4 (g)): every CA certificate's
 * permitted and excluded subtrees (DNS, IP, email, URI) apply to every certificate below it — to its SANs,
 * and to the subject CN only when that looks like a host name and there is no SAN.
 */
import type { CertificateFields } from '../x509/certificate-fields.js';
import type { CheckOutcome } from './types.js';

/** `path`: leaf first, trust anchor last. */
export function checkPathNameConstraints(path: readonly CertificateFields[]): CheckOutcome {
  void path;
  throw new Error('checkPathNameConstraints: not implemented yet');
}
