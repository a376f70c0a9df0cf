/**
 * Verifying an ACME request (RFC 8555 §6.2–6.5) with panva `jose`: flattened JSON serialization only, the
 * algorithm allowlist (RS256, ES256, ES384, EdDSA), exactly one of `jwk`/`kid`, the nonce consumed once,
 * the `url` header equal to the request URL, the signature checked, and the account looked up for `kid`.
 * Placeholder until the ACME front end lands.
 */
import type { AcmeAccount } from '../../store/inventory/acme.js';
import type { ServeRequest } from '../types.js';
import type { AcmeContext } from './context.js';
import { AcmeProblemError } from './problem.js';

export interface VerifiedAcmeRequest {
  /** The parsed JSON payload; null for POST-as-GET (empty payload). */
  readonly payload: unknown;
  readonly protectedHeader: Readonly<Record<string, unknown>>;
  /** The public JWK that signed (the account's for `kid`). */
  readonly jwk: Readonly<Record<string, string>>;
  /** RFC 7638 thumbprint of `jwk`. */
  readonly thumbprint: string;
  /** The account for `kid` requests (status valid); null for `jwk` requests. */
  readonly account: AcmeAccount | null;
}

/** `mode`: 'jwk' (newAccount, revokeCert by certificate key), 'kid' (everything else), 'either' (revokeCert). */
export async function verifyAcmeRequest(_context: AcmeContext, _request: ServeRequest, _mode: 'jwk' | 'kid' | 'either'): Promise<VerifiedAcmeRequest> {
  throw new AcmeProblemError('serverInternal', 'JWS verification is not implemented yet', { status: 503 });
}
