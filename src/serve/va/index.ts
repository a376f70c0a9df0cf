/**
 * The validation authority of `pki serve` (RFC 8555 §8, RFC 8737): proves control of an identifier by
 * http-01, dns-01 or tls-alpn-01 (one file each). It resolves names only through the configured static map
 * or resolver (never the system's when a map entry matches, resolve.ts), connects only to hosts the
 * provisioner's allowlist admits, follows at most 10 redirects (each re-checked), and caps every
 * response's size and the whole validation's time (docs/serve.md "Validation").
 */
import type { AcmeChallengeType, AcmeIdentifier, AcmeProblem } from '../../store/inventory/acme.js';
import { AcmeProblemError } from '../acme/problem.js';
import type { ProvisionerSettings, ServeSettings } from '../settings.js';
import { DEFAULT_VA_LIMITS, validateHttp01, type VaContext, type VaLimits } from './http-01.js';
import { validateDns01 } from './dns-01.js';
import { provisionerAdmits } from './resolve.js';
import { validateTlsAlpn01 } from './tls-alpn-01.js';

export { DEFAULT_VA_LIMITS, type VaLimits } from './http-01.js';

export interface ValidationRequest {
  readonly type: AcmeChallengeType;
  readonly identifier: AcmeIdentifier;
  readonly token: string;
  /** token + '.' + the account key's RFC 7638 thumbprint (RFC 8555 §8.1). */
  readonly keyAuthorization: string;
}

export type ValidationResult = { readonly valid: true } | { readonly valid: false; readonly problem: AcmeProblem };

const TOKEN = /^[A-Za-z0-9_-]+$/;

async function dispatch(ctx: VaContext, request: ValidationRequest): Promise<void> {
  switch (request.type) {
    case 'http-01':
      return validateHttp01(ctx, request.identifier, request.token, request.keyAuthorization);
    case 'dns-01':
      return validateDns01(ctx, request.identifier, request.keyAuthorization);
    case 'tls-alpn-01':
      return validateTlsAlpn01(ctx, request.identifier, request.keyAuthorization);
    default:
      throw new AcmeProblemError('malformed', `challenge type ${String(request.type)} is not supported`);
  }
}

/**
 * Validates one challenge; never throws. `limits` (tests) overrides the caps: 10 s in all, 5 s to connect,
 * 8 KiB of body, 10 redirects.
 */
export async function validateChallenge(settings: ServeSettings, provisioner: ProvisionerSettings, request: ValidationRequest, limits: Partial<VaLimits> = {}): Promise<ValidationResult> {
  const all: VaLimits = { ...DEFAULT_VA_LIMITS, ...limits };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('validation deadline')), all.timeoutMs);
  const ctx: VaContext = { settings, provisioner, limits: all, signal: controller.signal };
  try {
    if (!TOKEN.test(request.token)) throw new AcmeProblemError('malformed', `token ${JSON.stringify(request.token.slice(0, 64))} is not base64url`);
    if (!provisionerAdmits(provisioner, request.identifier)) {
      throw new AcmeProblemError('rejectedIdentifier', `${request.identifier.value} is outside provisioner "${provisioner.name}"'s allowlist`);
    }
    await dispatch(ctx, request);
    return { valid: true };
  } catch (error) {
    if (error instanceof AcmeProblemError) return { valid: false, problem: error.toProblem() };
    const message = error instanceof Error ? error.message : String(error);
    return { valid: false, problem: new AcmeProblemError('serverInternal', `validation failed: ${message}`).toProblem() };
  } finally {
    clearTimeout(timer);
    controller.abort(new Error('validation finished'));
  }
}
