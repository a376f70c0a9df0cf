/**
 * http-01 (RFC 8555 §8.3): GET http://<identifier>:<httpPort>/.well-known/acme-challenge/<token>, sent to an
 * address resolved by resolve.ts with `Host: <identifier>`; the body, trailing whitespace ignored, must be
 * the key authorization. At most 10 redirects, each target re-checked (http/https, port 80/443 or a
 * configured validation port, host admitted by the allowlist and resolved the same way); at most
 * `bodyBytes` of a body are read, then the connection is dropped. Failures are `AcmeProblemError`s.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { AcmeProblemError } from '../acme/problem.js';
import type { ProvisionerSettings, ServeSettings } from '../settings.js';
import { identifierOfHost, provisionerAdmits, resolveHost } from './resolve.js';

export interface VaLimits {
  /** The whole validation, every hop and lookup included. */
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly bodyBytes: number;
  readonly maxRedirects: number;
}

export const DEFAULT_VA_LIMITS: VaLimits = { timeoutMs: 10_000, connectTimeoutMs: 5_000, bodyBytes: 8 * 1024, maxRedirects: 10 };

export interface VaContext {
  readonly settings: ServeSettings;
  readonly provisioner: ProvisionerSettings;
  readonly limits: VaLimits;
  readonly signal: AbortSignal;
}

interface Fetched {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: Buffer;
  readonly truncated: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Quoted, at most 64 characters: enough to recognise what was served, never a whole body. */
export function excerpt(body: Buffer | string): string {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function hostForUrl(value: string): string {
  return isIP(value) === 6 ? `[${value}]` : value;
}

/** The redirect target's scheme, port and host, refused with the reason when the policy forbids it. */
function checkTarget(ctx: VaContext, url: URL, first: boolean): { host: string; port: number; https: boolean } {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AcmeProblemError('connection', `redirect to ${url.href} refused: only http and https are followed`);
  const https = url.protocol === 'https:';
  const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
  const allowedPorts = new Set([80, 443, ctx.settings.httpPort, ctx.settings.tlsPort]);
  if (!first && !allowedPorts.has(port)) throw new AcmeProblemError('connection', `redirect to ${url.href} refused: port ${port} is not 80 or 443${allowedPorts.size > 2 ? ` (or a configured validation port: ${[...allowedPorts].slice(2).join(', ')})` : ''}`);
  const id = identifierOfHost(url.hostname);
  if (!provisionerAdmits(ctx.provisioner, id)) throw new AcmeProblemError('unauthorized', `redirect to ${url.href} refused: ${id.value} is outside provisioner "${ctx.provisioner.name}"'s allowlist`);
  return { host: id.value, port, https };
}

function connectionProblem(where: string, error: unknown, signal: AbortSignal, limits: VaLimits): AcmeProblemError {
  if (signal.aborted) return new AcmeProblemError('connection', `${where}: no complete answer within ${limits.timeoutMs} ms`);
  const e = error as { code?: string; message?: string };
  return new AcmeProblemError('connection', `${where}: ${e.code ?? e.message ?? String(error)}`);
}

/** One GET to `address`, the body read up to `bodyBytes` (then the socket is destroyed). */
function fetchOnce(ctx: VaContext, url: URL, address: string, hostHeader: string, https: boolean, port: number): Promise<Fetched> {
  return new Promise<Fetched>((resolve, reject) => {
    const options = {
      host: address,
      port,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { Host: hostHeader, 'User-Agent': 'pki-serve-va', Accept: '*/*', Connection: 'close' },
      agent: false as const,
      signal: ctx.signal,
      ...(https ? { rejectUnauthorized: false, ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }) } : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (truncated: boolean) => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks), truncated });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > ctx.limits.bodyBytes) {
          finish(true);
          req.destroy();
        }
      });
      res.on('end', () => finish(false));
      res.on('error', reject);
    });
    const connectTimer = setTimeout(() => req.destroy(Object.assign(new Error(`no connection within ${ctx.limits.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), ctx.limits.connectTimeoutMs);
    req.on('socket', (socket) => socket.once(https ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer)));
    req.on('close', () => clearTimeout(connectTimer));
    req.on('error', reject);
    req.end();
  });
}

/** GET `url` on each resolved address in turn until one answers (a connection failure tries the next). */
async function fetchTarget(ctx: VaContext, url: URL, target: { host: string; port: number; https: boolean }, hostHeader: string): Promise<Fetched> {
  const { addresses, via } = await resolveHost(ctx.settings, target.host, ctx.signal);
  let last: AcmeProblemError | undefined;
  for (const address of addresses) {
    const where = `fetching ${url.href} from ${hostForUrl(address)}:${target.port} (resolved via ${via})`;
    try {
      return await fetchOnce(ctx, url, address, hostHeader, target.https, target.port);
    } catch (error) {
      last = connectionProblem(where, error, ctx.signal, ctx.limits);
      if (ctx.signal.aborted) break;
    }
  }
  throw last ?? new AcmeProblemError('dns', `${target.host} resolved to no address`);
}

function compareBody(fetched: Fetched, url: URL, keyAuthorization: string, limits: VaLimits): void {
  if (fetched.truncated) throw new AcmeProblemError('incorrectResponse', `${url.href} answered more than ${limits.bodyBytes} bytes (reading stopped there), starting ${excerpt(fetched.body)}; expected the key authorization ${JSON.stringify(keyAuthorization)}`);
  const body = fetched.body.toString('utf8').replace(/[ \t\r\n]+$/, '');
  if (body !== keyAuthorization) throw new AcmeProblemError('incorrectResponse', `${url.href} answered ${excerpt(body)} (${fetched.body.length} bytes), expected the key authorization ${JSON.stringify(keyAuthorization)}`);
}

/** Resolves when the key authorization is served; throws the problem otherwise. */
export async function validateHttp01(ctx: VaContext, identifier: { type: 'dns' | 'ip'; value: string }, token: string, keyAuthorization: string): Promise<void> {
  if (identifier.value.startsWith('*.')) throw new AcmeProblemError('malformed', `http-01 cannot validate the wildcard ${identifier.value} (RFC 8555 §7.1.3: use dns-01)`);
  let url = new URL(`http://${hostForUrl(identifier.value)}:${ctx.settings.httpPort}/.well-known/acme-challenge/${token}`);
  let hostHeader = hostForUrl(identifier.value);
  for (let hop = 0; ; hop++) {
    const target = checkTarget(ctx, url, hop === 0);
    const fetched = await fetchTarget(ctx, url, target, hostHeader);
    if (REDIRECTS.has(fetched.status) && fetched.location !== undefined) {
      if (hop >= ctx.limits.maxRedirects) throw new AcmeProblemError('connection', `more than ${ctx.limits.maxRedirects} redirects (the last from ${url.href} to ${excerpt(fetched.location)})`);
      let next: URL;
      try {
        next = new URL(fetched.location, url);
      } catch {
        throw new AcmeProblemError('connection', `${url.href} redirected to ${excerpt(fetched.location)}, which is not a URL`);
      }
      url = next;
      hostHeader = url.host;
      continue;
    }
    if (fetched.status !== 200) throw new AcmeProblemError('unauthorized', `${url.href} answered HTTP ${fetched.status}${fetched.body.length ? ` ${excerpt(fetched.body)}` : ''}, expected 200 with the key authorization`);
    compareBody(fetched, url, keyAuthorization, ctx.limits);
    return;
  }
}
