/**
 * A minimal ACME client for the order tests of issue 13, built on panva `jose` (FlattenedSign) and
 * node:https, so negative requests can be made exactly as wanted: accounts, orders, challenges, finalize
 * with any CSR, revokeCert by account or certificate key. Also the http-01 responder the validator
 * fetches from (a node:http server on 127.0.0.1 answering tokens from a map), and CSRs made by openssl.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, FlattenedSign, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { tempDir } from '../helpers/cli.js';

export interface AcmeResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  json(): any;
}

export function httpsCall(url: string, options: { method: string; body?: string; ca: string }): Promise<AcmeResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: options.method, ca: options.ca, headers: options.body !== undefined ? { 'Content-Type': 'application/jose+json' } : {}, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 20 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export class RawAcme {
  directory: Record<string, string> = {};
  kid: string | null = null;
  private nonce: string | null = null;
  private constructor(
    readonly directoryUrl: string,
    readonly ca: string,
    readonly key: { privateKey: CryptoKey; publicKey: CryptoKey },
    readonly jwk: JWK,
    readonly thumbprint: string,
    readonly alg: string,
  ) {}

  static async create(directoryUrl: string, caFile: string, alg: 'ES256' | 'RS256' | 'EdDSA' = 'ES256'): Promise<RawAcme> {
    const key = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(key.publicKey);
    const client = new RawAcme(directoryUrl, readFileSync(caFile, 'utf8'), key, jwk, await calculateJwkThumbprint(jwk), alg);
    client.directory = (await httpsCall(directoryUrl, { method: 'GET', ca: client.ca })).json();
    return client;
  }

  private async freshNonce(): Promise<string> {
    if (this.nonce) {
      const n = this.nonce;
      this.nonce = null;
      return n;
    }
    const r = await httpsCall(this.directory.newNonce!, { method: 'HEAD', ca: this.ca });
    return String(r.headers['replay-nonce']);
  }

  /** POSTs `payload` (undefined: POST-as-GET) signed by this account (kid), or with `jwk` before it has one / when asked. */
  async post(url: string, payload: unknown, options: { useJwk?: boolean; signer?: { privateKey: CryptoKey; jwk: JWK; alg: string } } = {}): Promise<AcmeResponse> {
    const signer = options.signer ?? { privateKey: this.key.privateKey, jwk: this.jwk, alg: this.alg };
    const header: Record<string, unknown> = { alg: signer.alg, nonce: await this.freshNonce(), url };
    if (options.signer || options.useJwk || this.kid === null) header.jwk = signer.jwk;
    else header.kid = this.kid;
    const bytes = new TextEncoder().encode(payload === undefined ? '' : JSON.stringify(payload));
    const jws = await new FlattenedSign(bytes).setProtectedHeader(header as never).sign(signer.privateKey);
    const r = await httpsCall(url, { method: 'POST', body: JSON.stringify(jws), ca: this.ca });
    if (r.headers['replay-nonce']) this.nonce = String(r.headers['replay-nonce']);
    return r;
  }

  async newAccount(): Promise<AcmeResponse> {
    const r = await this.post(this.directory.newAccount!, { termsOfServiceAgreed: true });
    if (r.status !== 201 && r.status !== 200) throw new Error(`newAccount: ${r.status} ${r.body}`);
    this.kid = String(r.headers.location);
    return r;
  }

  newOrder(identifiers: { type: string; value: string }[], extra: Record<string, unknown> = {}): Promise<AcmeResponse> {
    return this.post(this.directory.newOrder!, { identifiers, ...extra });
  }

  /** The same account, as a second client object (for another server on the same CA home: then moveTo). */
  clone(): RawAcme {
    const c = new RawAcme(this.directoryUrl, this.ca, this.key, this.jwk, this.thumbprint, this.alg);
    c.directory = { ...this.directory };
    c.kid = this.kid;
    return c;
  }

  /** The same account against a restarted server (another port): the directory again, the kid's origin replaced. */
  async moveTo(directoryUrl: string): Promise<void> {
    const from = new URL(this.directoryUrl).origin;
    const to = new URL(directoryUrl).origin;
    (this as { directoryUrl: string }).directoryUrl = directoryUrl;
    this.directory = (await httpsCall(directoryUrl, { method: 'GET', ca: this.ca })).json();
    this.nonce = null;
    if (this.kid) this.kid = this.kid.replace(from, to);
  }

  keyAuthorization(token: string): string {
    return `${token}.${this.thumbprint}`;
  }
}

/** The http-01 responder: GET /.well-known/acme-challenge/<token> answers `answers.get(token)`. */
export async function startHttp01(port: number): Promise<{ server: Server; answers: Map<string, string>; hang: Set<string>; hits: string[]; close(): Promise<void> }> {
  const answers = new Map<string, string>();
  /** Tokens whose requests are never answered (the validator waits until its deadline or its death). */
  const hang = new Set<string>();
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    if (token && hang.has(token)) return;
    const answer = token ? answers.get(token) : undefined;
    if (answer === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(answer);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    server,
    answers,
    hang,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A CSR made by `openssl req` (DER), for `names` (SAN DNS:/IP:), with its key file. */
export function opensslCsr(names: string[], options: { key?: string[]; cn?: string; addext?: string[] } = {}): { der: Buffer; keyFile: string } {
  const dir = tempDir('pki-acme-csr-');
  const keyFile = join(dir, 'key.pem');
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const args = ['req', '-new', '-nodes', '-keyout', keyFile, '-outform', 'DER', ...(options.key ?? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']), '-subj', options.cn ? `/CN=${options.cn}` : '/'];
  if (san) args.push('-addext', `subjectAltName=${san}`);
  for (const e of options.addext ?? []) args.push('-addext', e);
  const der = execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { der, keyFile };
}

/** Polls `fetch` until `done` says so, or throws after `deadlineMs` naming the last value seen. */
export async function pollUntil<T>(fetch: () => Promise<T>, done: (value: T) => boolean, deadlineMs = 30_000, what = 'the resource'): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: T;
  for (;;) {
    last = await fetch();
    if (done(last)) return last;
    if (Date.now() > until) throw new Error(`${what} did not settle within ${deadlineMs} ms: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Answers every http-01 challenge of the order with `answer(token)` (default: the right key authorization), then waits for each authorization to settle. */
export async function answerHttp01(client: RawAcme, order: { authorizations: string[] }, answers: Map<string, string>, answer: (token: string) => string = (t) => client.keyAuthorization(t)): Promise<any[]> {
  const settled: any[] = [];
  for (const authzUrl of order.authorizations) {
    const authz = (await client.post(authzUrl, undefined)).json();
    const challenge = authz.challenges.find((c: any) => c.type === 'http-01');
    answers.set(challenge.token, answer(challenge.token));
    const started = await client.post(challenge.url, {});
    if (started.status !== 200) throw new Error(`challenge POST: ${started.status} ${started.body}`);
    settled.push((await pollUntil(() => client.post(authzUrl, undefined).then((r) => r.json()), (a) => a.status !== 'pending', 30_000, `authorization ${authzUrl}`)));
  }
  return settled;
}

/** acme-client's `auto()` options for `csr`, answering http-01 from `answers` (startHttp01's map). */
export function http01Auto(csr: Buffer | string, answers: Map<string, string>) {
  return {
    csr,
    termsOfServiceAgreed: true,
    skipChallengeVerification: true,
    challengePriority: ['http-01'],
    challengeCreateFn: async (_authz: unknown, challenge: { token: string }, keyAuthorization: string) => void answers.set(challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz: unknown, challenge: { token: string }) => void answers.delete(challenge.token),
  };
}
