/**
 * ACME requests built in tests with panva `jose` (RFC 8555 §6.2): flattened JWS JSON signed by a real key,
 * with `jwk` or `kid`, a nonce and a url, and any header or body bent on purpose for negative tests. Also a
 * small HTTPS client for `pki serve` that trusts the CA home's root only.
 */
import { request as httpsRequest } from 'node:https';
import { exportJWK, FlattenedSign, generateKeyPair, type CryptoKey, type FlattenedJWS, type JWK } from 'jose';

export type TestAlg = 'RS256' | 'ES256' | 'ES384' | 'EdDSA';

export interface TestAccountKey {
  readonly alg: TestAlg;
  readonly privateKey: CryptoKey;
  /** The public JWK (no alg/use/kid: what a client puts in the `jwk` header). */
  readonly jwk: JWK;
}

export async function accountKey(alg: TestAlg = 'ES256', options: { modulusLength?: number } = {}): Promise<TestAccountKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: options.modulusLength ?? 2048 } : {}), ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk };
}

export interface SignOptions {
  readonly url: string;
  readonly nonce?: string | undefined;
  /** The account URL; without it the `jwk` header is sent. */
  readonly kid?: string | undefined;
  /** Send `jwk` as well as `kid`. */
  readonly bothJwkAndKid?: boolean;
  /** Overrides/extra protected header members (`alg: 'HS256'`, …). */
  readonly header?: Record<string, unknown>;
  /** undefined or '' → POST-as-GET (empty payload). */
  readonly payload?: unknown;
}

export async function signAcme(key: TestAccountKey, options: SignOptions): Promise<FlattenedJWS> {
  const header: Record<string, unknown> = { alg: key.alg, url: options.url, ...(options.nonce === undefined ? {} : { nonce: options.nonce }) };
  if (options.kid !== undefined) header['kid'] = options.kid;
  if (options.kid === undefined || options.bothJwkAndKid) header['jwk'] = key.jwk;
  const payload = options.payload === undefined || options.payload === '' ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(options.payload));
  return new FlattenedSign(payload).setProtectedHeader({ ...(header as { alg: string }), ...(options.header ?? {}) }).sign(key.privateKey);
}

/** `alg: none` or HS256 by hand: jose refuses to make them with an asymmetric key, which is the point. */
export function forgedJws(header: Record<string, unknown>, payload: unknown, signature: Buffer): FlattenedJWS {
  return {
    protected: Buffer.from(JSON.stringify(header)).toString('base64url'),
    payload: payload === '' ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url'),
    signature: signature.toString('base64url'),
  };
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTPS request trusting `ca` only (a new connection each time: no keep-alive state between tests). */
export function httpsCall(url: string, ca: string, options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: options.method ?? 'GET', ca, headers: options.headers, agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 15 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs a JWS as application/jose+json. */
export function postJws(url: string, ca: string, jws: unknown, contentType = 'application/jose+json'): Promise<HttpsAnswer> {
  return httpsCall(url, ca, { method: 'POST', body: JSON.stringify(jws), headers: { 'Content-Type': contentType } });
}

/** A bare ACME client over httpsCall: fetches nonces, signs with `signAcme`, keeps the last Replay-Nonce. */
export class AcmeTestClient {
  readonly directoryUrl: string;
  readonly ca: string;
  #nonce: string | undefined;

  constructor(directoryUrl: string, ca: string) {
    this.directoryUrl = directoryUrl;
    this.ca = ca;
  }

  /** `https://…/acme/<provisioner>/<resource>` */
  url(resource: string): string {
    return this.directoryUrl.replace(/directory$/, resource);
  }

  /** A fresh nonce from HEAD new-nonce. */
  async freshNonce(): Promise<string> {
    const a = await httpsCall(this.url('new-nonce'), this.ca, { method: 'HEAD' });
    const n = a.headers['replay-nonce'];
    if (typeof n !== 'string') throw new Error(`new-nonce answered ${a.status} without a Replay-Nonce`);
    return n;
  }

  /** The last answer's nonce when there is one, else a fresh one. */
  async nonce(): Promise<string> {
    const n = this.#nonce;
    this.#nonce = undefined;
    return n ?? this.freshNonce();
  }

  /** POSTs `jws` and keeps the answer's Replay-Nonce. */
  async send(url: string, jws: unknown, contentType?: string): Promise<HttpsAnswer> {
    const a = await postJws(url, this.ca, jws, contentType);
    const n = a.headers['replay-nonce'];
    if (typeof n === 'string') this.#nonce = n;
    return a;
  }

  async post(url: string, key: TestAccountKey, options: Omit<SignOptions, 'url'> = {}): Promise<HttpsAnswer> {
    return this.send(url, await signAcme(key, { url, nonce: 'nonce' in options ? options.nonce : await this.nonce(), ...options }));
  }

  /** newAccount with `key`; returns the answer and the account URL (Location). */
  async newAccount(key: TestAccountKey, payload: Record<string, unknown> = { termsOfServiceAgreed: true }): Promise<{ answer: HttpsAnswer; accountUrl: string }> {
    const answer = await this.post(this.url('new-account'), key, { payload });
    return { answer, accountUrl: String(answer.headers['location'] ?? '') };
  }
}
