/**
 * RFC 8555 §6.7 errors: `AcmeProblemError` is what every ACME handler throws; the dispatcher
 * (acme/routes.ts) turns it into an `application/problem+json` response with a fresh Replay-Nonce.
 */
import type { AcmeIdentifier, AcmeProblem } from '../../store/inventory/acme.js';

export type AcmeErrorType =
  | 'accountDoesNotExist'
  | 'alreadyRevoked'
  | 'badCSR'
  | 'badNonce'
  | 'badPublicKey'
  | 'badRevocationReason'
  | 'badSignatureAlgorithm'
  | 'caa'
  | 'compound'
  | 'connection'
  | 'dns'
  | 'externalAccountRequired'
  | 'incorrectResponse'
  | 'invalidContact'
  | 'malformed'
  | 'orderNotReady'
  | 'rateLimited'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'tls'
  | 'unauthorized'
  | 'unsupportedContact'
  | 'unsupportedIdentifier'
  | 'userActionRequired';

const DEFAULT_STATUS: Partial<Record<AcmeErrorType, number>> = {
  accountDoesNotExist: 400,
  badNonce: 400,
  orderNotReady: 403,
  rateLimited: 429,
  serverInternal: 500,
  unauthorized: 403,
  userActionRequired: 403,
  rejectedIdentifier: 400,
};

export class AcmeProblemError extends Error {
  readonly type: AcmeErrorType;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly subproblems: AcmeProblem['subproblems'];
  constructor(type: AcmeErrorType, detail: string, options: { status?: number; headers?: Record<string, string>; subproblems?: { type: AcmeErrorType; detail: string; identifier?: AcmeIdentifier }[] } = {}) {
    super(detail);
    this.type = type;
    this.status = options.status ?? DEFAULT_STATUS[type] ?? 400;
    this.headers = options.headers ?? {};
    this.subproblems = options.subproblems?.map((s) => ({ ...s, type: acmeErrorUrn(s.type) }));
  }
  toProblem(): AcmeProblem {
    return { type: acmeErrorUrn(this.type), detail: this.message, status: this.status, ...(this.subproblems ? { subproblems: this.subproblems } : {}) };
  }
}

export function acmeErrorUrn(type: AcmeErrorType): string {
  return `urn:ietf:params:acme:error:${type}`;
}
