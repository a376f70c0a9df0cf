/**
 * Host checks (RFC 9525, which obsoletes RFC 6125): is the leaf valid for this DNS name or IP address?
 * DNS names match DNS SANs only, case-insensitively; a wildcard stands for exactly one left-most label and
 * never for a public suffix (`*.com`); the subject CN is never consulted when the leaf has SANs; an IP
 * (given with --ip, or as --host in literal form) matches IP SANs only, v4 and v6 normalised.
 */
import type { CertificateFields } from '../x509/certificate-fields.js';
import type { CheckOutcome } from './types.js';

/** The name the leaf must be valid for: a DNS name or an IP literal, as --host/--ip give it. */
export interface HostTarget {
  readonly host?: string;
  readonly ip?: string;
}

export function checkHost(leaf: CertificateFields, target: HostTarget): CheckOutcome {
  void leaf;
  void target;
  throw new Error('checkHost: not implemented yet');
}
