/**
 * Certificate path validation (RFC 5280 §6), pure: DER in, verdict out. Builds candidate paths from the
 * leaf upward by issuer name and AKI/SKI, trying every candidate issuer (several roots, cross-signed
 * intermediates), detects loops, stops at a trust anchor, and checks every certificate of the path.
 */
import type { PathValidationInput, PathValidationResult } from './types.js';

export function validateCertificatePath(input: PathValidationInput): PathValidationResult {
  void input;
  throw new Error('validateCertificatePath: not implemented yet');
}
