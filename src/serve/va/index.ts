/**
 * The validation authority of `pki serve` (RFC 8555 §8, RFC 8737): proves control of an identifier by
 * http-01, dns-01 or tls-alpn-01. It resolves names only through the configured static map or resolver
 * (never the system's when a map matches), connects only to addresses the provisioner's allowlist admits,
 * follows at most 10 redirects (each re-checked), and caps every response's size and time. Placeholder
 * until the validator lands.
 */
import type { AcmeChallengeType, AcmeIdentifier, AcmeProblem } from '../../store/inventory/acme.js';
import type { ProvisionerSettings, ServeSettings } from '../settings.js';

export interface ValidationRequest {
  readonly type: AcmeChallengeType;
  readonly identifier: AcmeIdentifier;
  readonly token: string;
  /** token + '.' + the account key's RFC 7638 thumbprint (RFC 8555 §8.1). */
  readonly keyAuthorization: string;
}

export type ValidationResult = { readonly valid: true } | { readonly valid: false; readonly problem: AcmeProblem };

export async function validateChallenge(_settings: ServeSettings, _provisioner: ProvisionerSettings, _request: ValidationRequest): Promise<ValidationResult> {
  return { valid: false, problem: { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'validation is not implemented yet', status: 500 } };
}
