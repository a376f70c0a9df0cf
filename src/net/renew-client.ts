/**
 * The client side of `POST /1.0/renew` (`pki renew --daemon --ca-url`): one HTTPS request with the current
 * certificate and key as the TLS client credential, the server verified against the given roots, bounded
 * in time (connect, handshake and answer together) and in the size of the answer. The key is used by the
 * TLS stack to sign the handshake; it never leaves the process. The credentials arrive as values (no files
 * here); failures leave as PkiErrors (ERR_CONNECT, ERR_TLS_HANDSHAKE, ERR_TIMEOUT).
 */
import { request } from 'node:https';
import { PkiError } from '../core/errors.js';
import { connectError, handshakeError } from './tls-errors.js';

export interface RenewRequest {
  /** The server's base URL (`https://ca.internal:8443`); `/1.0/renew` is appended. */
  readonly caUrl: string;
  /** The current certificate chain, PEM (leaf first). */
  readonly certificatePem: string;
  /** Its private key, PEM. */
  readonly keyPem: string;
  /** The roots the server's certificate must chain to, PEM. */
  readonly rootsPem: string;
  /** A CSR (DER) for a new key (`--rekey`), or none: the old key is certified again. */
  readonly csrDer?: Uint8Array;
  /** Connect, handshake and the whole answer within this (default 30 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface RenewAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

const MAX_ANSWER_BYTES = 1 << 20;

/** The endpoint under the base URL (a trailing slash or a path prefix is kept). */
export function renewEndpoint(caUrl: string): URL {
  let base: URL;
  try {
    base = new URL(caUrl);
  } catch {
    throw new PkiError('ERR_INVALID_OPTION', `--ca-url "${caUrl}" is not a URL`, { hint: 'give the https URL pki serve prints at start, e.g. https://ca.internal:8443' });
  }
  if (base.protocol !== 'https:') throw new PkiError('ERR_INVALID_OPTION', `--ca-url "${caUrl}" is not an https URL`, { hint: 'renewal over mutual TLS needs https://' });
  return new URL(`${base.pathname.replace(/\/+$/, '')}/1.0/renew`, base);
}

export function postRenew(options: RenewRequest): Promise<RenewAnswer> {
  const url = renewEndpoint(options.caUrl);
  const where = url.host;
  const body = options.csrDer ? Buffer.from(options.csrDer) : Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (e: Error | null, answer?: RenewAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(answer!);
    };
    const req = request(url, {
      method: 'POST',
      cert: options.certificatePem,
      key: options.keyPem,
      ca: options.rootsPem,
      agent: false,
      headers: { 'Content-Type': options.csrDer ? 'application/pkcs10' : 'application/octet-stream', 'Content-Length': String(body.length), Accept: 'application/pem-certificate-chain' },
    });
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => finish(new PkiError('ERR_TIMEOUT', `${where} did not answer the renewal within ${timeoutMs / 1000} s`, { hint: 'check that pki serve runs and answers on --ca-url' })), timeoutMs);
    const onAbort = () => finish(new PkiError('ERR_TIMEOUT', `the renewal request to ${where} was cancelled`));
    options.signal?.addEventListener('abort', onAbort);
    req.on('error', (e: NodeJS.ErrnoException) => {
      finish(/^E[A-Z]+$/.test(e.code ?? '') ? connectError(e, where) : tlsError(e, where));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) finish(new PkiError('ERR_INPUT_TOO_LARGE', `${where} answered the renewal with more than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', (e) => finish(connectError(e as NodeJS.ErrnoException, where)));
    });
    req.end(body);
  });
}

/** A server certificate not verified against --roots (or not for this host name) reads as such; OpenSSL's failures as handshake errors. */
function tlsError(e: NodeJS.ErrnoException, where: string): PkiError {
  const code = e.code ?? '';
  if (code !== '' && !code.startsWith('ERR_SSL')) {
    return new PkiError('ERR_TLS_HANDSHAKE', `the server at ${where} is not trusted: ${e.message}`, { hint: 'give --roots the root certificate of the CA that pki serve runs (its ca/root_ca.crt)', cause: e });
  }
  return handshakeError(e, where);
}
