/**
 * Verifying an ACME request (RFC 8555 §6.2–6.5) with panva `jose` (docs/decisions.md "jose for ACME JWS"):
 * jose checks the signature, the `crit` header and that the key fits the algorithm; the ACME rules are
 * checked here: flattened JSON serialization only (no unprotected header, one signature), Content-Type
 * application/jose+json, the algorithm allowlist (RS256, ES256, ES384, EdDSA), exactly one of `jwk`/`kid`,
 * the `kid` naming an account of this provisioner, the nonce consumed once, the `url` header equal to the
 * request URL, RSA keys of at least 2048 bits.
 */
import { createHash } from 'node:crypto';
import { flattenedVerify, importJWK, type FlattenedJWSInput } from 'jose';
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

export const ACME_ALGORITHMS = ['RS256', 'ES256', 'ES384', 'EdDSA'] as const;
export type AcmeAlgorithm = (typeof ACME_ALGORITHMS)[number];

const B64URL = /^[A-Za-z0-9_-]*$/;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

function malformed(detail: string): AcmeProblemError {
  return new AcmeProblemError('malformed', detail);
}

/** The body as a flattened JWS (RFC 7515 §7.2.2) with nothing but `protected`, `payload`, `signature`. */
export function parseFlattenedJws(body: unknown): FlattenedJWSInput & { protected: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformed('the request body is not a flattened JWS JSON object');
  const jws = body as Record<string, unknown>;
  for (const key of Object.keys(jws)) {
    if (key === 'header') throw malformed('an ACME JWS must not have an unprotected header (RFC 8555 §6.2)');
    if (key === 'signatures') throw malformed('an ACME JWS has exactly one signature, in the flattened JSON serialization (RFC 8555 §6.2)');
    if (!['protected', 'payload', 'signature'].includes(key)) throw malformed(`unexpected member "${key.slice(0, 40)}" in the JWS`);
  }
  for (const key of ['protected', 'payload', 'signature'] as const) {
    const v = jws[key];
    if (typeof v !== 'string' || !B64URL.test(v)) throw malformed(`the JWS "${key}" member is missing or not base64url`);
  }
  if (jws['protected'] === '' || jws['signature'] === '') throw malformed('the JWS has an empty protected header or signature');
  return jws as unknown as FlattenedJWSInput & { protected: string };
}

export function decodeProtectedHeader(encoded: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw malformed('the JWS protected header is not base64url JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('the JWS protected header is not a JSON object');
  return header as Record<string, unknown>;
}

export function checkAlgorithm(alg: unknown): AcmeAlgorithm {
  if (typeof alg === 'string' && (ACME_ALGORITHMS as readonly string[]).includes(alg)) return alg as AcmeAlgorithm;
  throw new AcmeProblemError('badSignatureAlgorithm', `the JWS algorithm ${JSON.stringify(typeof alg === 'string' ? alg.slice(0, 20) : alg ?? null)} is not accepted; use one of ${ACME_ALGORITHMS.join(', ')}`);
}

/**
 * The public members of an account key that fits `alg` (RFC 7638's required members only, which is also
 * what its thumbprint covers): RSA ≥ 2048 bits for RS256, P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA.
 */
export function publicJwk(value: unknown, alg: AcmeAlgorithm): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('the JWS "jwk" header is not a JSON object');
  const jwk = value as Record<string, unknown>;
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new AcmeProblemError('badPublicKey', 'the JWS "jwk" header must be a public key');
  const str = (name: string): string => {
    const v = jwk[name];
    if (typeof v !== 'string' || v === '' || !B64URL.test(v) || v.length > 2048) throw new AcmeProblemError('badPublicKey', `the account key's "${name}" member is missing or not base64url`);
    return v;
  };
  const kty = jwk['kty'];
  if (alg === 'RS256') {
    if (kty !== 'RSA') throw malformed(`RS256 needs an RSA key, not ${String(kty).slice(0, 10)}`);
    const n = str('n');
    const e = str('e');
    const bytes = Buffer.from(n, 'base64url');
    const bits = bytes.length * 8 - (bytes[0] === undefined ? 0 : Math.clz32(bytes[0]) - 24);
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw new AcmeProblemError('badPublicKey', `RSA account keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits, this one has ${bits}`);
    return { kty: 'RSA', n, e };
  }
  if (alg === 'EdDSA') {
    if (kty !== 'OKP' || jwk['crv'] !== 'Ed25519') throw malformed('EdDSA needs an Ed25519 (OKP) key');
    return { kty: 'OKP', crv: 'Ed25519', x: str('x') };
  }
  const crv = alg === 'ES256' ? 'P-256' : 'P-384';
  if (kty !== 'EC' || jwk['crv'] !== crv) throw malformed(`${alg} needs an EC ${crv} key`);
  return { kty: 'EC', crv, x: str('x'), y: str('y') };
}

/** The account a `kid` names: this provisioner's account URL (RFC 8555 §6.2), of an existing account. */
function accountOfKid(context: AcmeContext, kid: unknown): AcmeAccount {
  const prefix = `${context.url('account')}/`;
  if (typeof kid !== 'string' || !kid.startsWith(prefix)) {
    throw new AcmeProblemError('accountDoesNotExist', `the JWS "kid" is not an account URL of this provisioner (${prefix}…)`);
  }
  const account = context.store.findAccount(kid.slice(prefix.length));
  if (!account || account.provisioner !== context.provisioner.name) throw new AcmeProblemError('accountDoesNotExist', 'no account exists for this "kid"');
  return account;
}

/** jose's signature check; any failure (tampered payload or header, a wrong key) is `malformed`. */
/**
 * RFC 7638 thumbprint (SHA-256, base64url) of a JWK as publicJwk returns it (the required members only),
 * synchronously: jose's calculateJwkThumbprint is a WebCrypto digest, a thread-pool round trip per request.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(Object.fromEntries(Object.keys(jwk).sort().map((k) => [k, jwk[k]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;
/** Imported public keys by algorithm and JWK: an account signs every request with the same key. */
const importedKeys = new Map<string, ImportedKey>();
const IMPORTED_KEYS_MAX = 1_000;

async function importedKey(jwk: Record<string, string>, alg: AcmeAlgorithm): Promise<ImportedKey> {
  const id = `${alg} ${JSON.stringify(jwk)}`;
  const cached = importedKeys.get(id);
  if (cached !== undefined) return cached;
  const key = await importJWK({ ...jwk, alg }, alg);
  if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.delete(importedKeys.keys().next().value!);
  importedKeys.set(id, key);
  return key;
}

export async function verifySignature(jws: FlattenedJWSInput, jwk: Record<string, string>, alg: AcmeAlgorithm): Promise<Uint8Array> {
  let key: ImportedKey;
  try {
    key = await importedKey(jwk, alg);
  } catch {
    throw new AcmeProblemError('badPublicKey', 'the account key cannot be used for this algorithm');
  }
  try {
    return (await flattenedVerify(jws, key, { algorithms: [alg] })).payload;
  } catch {
    throw malformed('JWS signature verification failed');
  }
}

/** The payload: '' is POST-as-GET (null), anything else must be JSON. */
export function parsePayload(payload: Uint8Array): unknown {
  if (payload.length === 0) return null;
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
  } catch {
    throw malformed('the JWS payload is not JSON');
  }
}

function parseBody(request: ServeRequest): FlattenedJWSInput & { protected: string } {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/jose+json') throw new AcmeProblemError('malformed', 'ACME requests must have Content-Type application/jose+json (RFC 8555 §6.2)', { status: 415 });
  let body: unknown;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw malformed('the request body is not JSON');
  }
  return parseFlattenedJws(body);
}

/**
 * `mode`: 'jwk' (newAccount, revokeCert by certificate key), 'kid' (everything else), 'either' (revokeCert).
 *
 * The order of the checks. First everything that needs no database and no key (body, header, algorithm,
 * jwk/kid, url) and the key itself; then the nonce is consumed; then the signature is verified; then the
 * account's status. Why the nonce sits there:
 * - A nonce is refused only when it was really used, expired (1 h, routes.ts) or never made: nonces are
 *   committed before the answer that carries them leaves, survive restarts, are shared by provisioners,
 *   and every answer (errors too, this one's included) carries a fresh one. A client that always sends the
 *   latest Replay-Nonce — certbot, lego, acme-client all do — can therefore never get a spurious badNonce.
 * - The structural checks come first so that a request we cannot act on at all leaves its nonce valid (a
 *   client that retries it without taking the new nonce is not punished) and garbage costs no write.
 * - It is consumed before the signature check, in one atomic DELETE, so of two requests racing with one
 *   nonce exactly one goes on, and a request with a bad signature still uses its nonce up (RFC 8555 §6.5:
 *   no second attempt on it); the honest client loses nothing since its answer brings a new nonce.
 */
export async function verifyAcmeRequest(context: AcmeContext, request: ServeRequest, mode: 'jwk' | 'kid' | 'either'): Promise<VerifiedAcmeRequest> {
  const jws = parseBody(request);
  const header = decodeProtectedHeader(jws.protected);
  const alg = checkAlgorithm(header['alg']);
  const hasJwk = header['jwk'] !== undefined;
  const hasKid = header['kid'] !== undefined;
  if (hasJwk && hasKid) throw malformed('the JWS header has both "jwk" and "kid": exactly one is allowed (RFC 8555 §6.2)');
  if (!hasJwk && !hasKid) throw malformed('the JWS header has neither "jwk" nor "kid"');
  if (mode === 'jwk' && hasKid) throw malformed('this request must be signed with a "jwk" header, not an account "kid"');
  if (mode === 'kid' && hasJwk) throw malformed('this request must be signed with the account "kid", not a "jwk" header');
  if (typeof header['url'] !== 'string' || header['url'] !== request.url) {
    throw new AcmeProblemError('unauthorized', `the JWS "url" header does not match the request URL ${request.url}`);
  }
  const account = hasKid ? accountOfKid(context, header['kid']) : null;
  const jwk = publicJwk(account ? account.jwk : header['jwk'], alg);
  const nonce = header['nonce'];
  if (typeof nonce !== 'string' || nonce === '') throw new AcmeProblemError('badNonce', 'the JWS header has no "nonce"');
  if (!context.store.consumeNonce(nonce, context.serve.now())) throw new AcmeProblemError('badNonce', 'the nonce was already used, has expired or was never issued');
  const payload = parsePayload(await verifySignature(jws, jwk, alg));
  if (account && account.status !== 'valid') throw new AcmeProblemError('unauthorized', `the account is ${account.status}`);
  return { payload, protectedHeader: header, jwk, thumbprint: jwkThumbprint(jwk), account };
}
