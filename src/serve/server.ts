/**
 * The listeners of `pki serve`: node:https (and node:http with --http-listen) in front of the router. The
 * one place that speaks node:http: it reads the body up to the limit (413 beyond, whether the client
 * declared a Content-Length or streams chunks, and the connection is closed after the answer), cuts off
 * slow clients (headers within `headerTimeoutMs`, the whole request within `requestTimeoutMs`: node
 * answers 408 and closes), turns a handler's failure into a 500 problem without stopping, writes one
 * access-log line per request (never the query, a header or the body), and on close stops accepting, lets
 * in-flight requests finish (answered with `Connection: close`), then closes what is left.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { PkiError } from '../core/errors.js';
import { createRouter, problemResponse } from './router.js';
import type { ListenAddress } from './settings.js';
import type { Route, ServeContext, ServeRequest, ServeResponse } from './types.js';

export interface TlsMaterial {
  readonly keyPem: string;
  /** Leaf + intermediate. */
  readonly chainPem: string;
  /** Trust anchors for client certificates (mTLS renewal); requested, never required. */
  readonly clientCaPem: string;
}

export interface Listeners {
  /** The URLs bound (port 0 resolved): `https://127.0.0.1:8443`. */
  readonly httpsUrl: string;
  readonly httpUrl: string | null;
  /** Installs the HTTPS certificate for new connections (at start, and at each in-process renewal). */
  setTlsMaterial(material: TlsMaterial): void;
  /** Applies `context.settings.limits` again (SIGHUP); the body limit is read at each request anyway. */
  applyLimits(): void;
  /** Stops accepting, waits for in-flight requests (at most `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** How often node looks for connections past their header or request deadline (node's default: 30 s). */
const TIMEOUT_CHECK_MS = 250;

type Body = Buffer | 'too-large' | 'aborted';

function hostForUrl(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** The body, at most `limit` bytes; 'too-large' as soon as it is known to be more; 'aborted' when the client went away (or was cut off). */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return resolve('too-large');
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Body) => {
      if (done) return;
      done = true;
      chunks.length = value === 'too-large' ? 0 : chunks.length;
      resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return; // a too-large body is read on and dropped until the answer is sent and the connection closed
      size += chunk.length;
      if (size > limit) finish('too-large');
      else chunks.push(chunk);
    });
    req.on('end', () => finish(Buffer.concat(chunks)));
    req.on('error', () => finish('aborted'));
    req.on('close', () => finish(req.complete ? Buffer.concat(chunks) : 'aborted'));
  });
}

function send(res: ServerResponse, response: ServeResponse, close: boolean): void {
  const body = response.body === undefined ? undefined : Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body);
  const headers: Record<string, string | readonly string[]> = { 'Cache-Control': 'no-store', ...(response.headers ?? {}) };
  if (body) headers['Content-Length'] = String(body.length);
  if (close) headers['Connection'] = 'close';
  res.writeHead(response.status, headers as Record<string, string | string[]>);
  res.end(body);
}

function peerChain(peer: DetailedPeerCertificate): Uint8Array[] {
  const out: Uint8Array[] = [];
  let current: DetailedPeerCertificate | undefined = peer;
  const seen = new Set<string>();
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(new Uint8Array(current.raw));
    current = current.issuerCertificate;
  }
  return out;
}

function serveRequest(context: ServeContext, req: IncomingMessage, listener: 'https' | 'http', body: Buffer): ServeRequest {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const origin = context.settings.baseUrl ?? `${listener}://${req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`}`;
  const peer = listener === 'https' ? (req.socket as TLSSocket).getPeerCertificate?.(true) : undefined;
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? rawUrl : rawUrl.slice(0, q),
    query: q === -1 ? '' : rawUrl.slice(q + 1),
    url: origin + rawUrl,
    headers: req.headers as Record<string, string | undefined>,
    body,
    remoteAddress: req.socket.remoteAddress ?? '',
    listener,
    ...(peer && peer.raw ? { peerCertificate: peer, clientCertificates: peerChain(peer) } : {}),
  };
}

interface ListenerState {
  closing: boolean;
  /** Sockets whose request is with a handler: their timeouts are logged by the handler, not by clientError. */
  readonly busy: WeakSet<Socket>;
  /** Sockets node cut off (ERR_HTTP_REQUEST_TIMEOUT). */
  readonly timedOut: WeakSet<Socket>;
}

function requestHandler(context: ServeContext, routes: readonly Route[], listener: 'https' | 'http', state: ListenerState) {
  const route = createRouter(routes);
  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const socket = req.socket;
    state.busy.add(socket);
    let endpoint = 'unknown';
    let response: ServeResponse | null = null;
    let status: number;
    try {
      const limit = context.settings.limits.bodyBytes;
      const body = await readBody(req, limit);
      const request = serveRequest(context, req, listener, body instanceof Buffer ? body : Buffer.alloc(0));
      const match = route(request);
      endpoint = match.endpoint;
      if (body === 'aborted') response = null;
      else if (body === 'too-large') response = problemResponse(413, 'about:blank', `the request body is larger than ${limit} bytes`);
      else response = await match.handler(request);
      if (response?.endpoint) endpoint = response.endpoint;
    } catch (e) {
      context.log.event('internal error', { endpoint, error: e instanceof Error ? e.message : String(e) });
      response = problemResponse(500, 'urn:ietf:params:acme:error:serverInternal', 'internal error');
    }
    if (response && !res.headersSent && !res.destroyed) {
      send(res, response, state.closing || response.status === 413);
      status = response.status;
    } else status = state.timedOut.has(socket) ? 408 : 499; // 499: the client closed first (nginx's word for it)
    state.busy.delete(socket);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    context.metrics.observeRequest(endpoint, status, seconds);
    const path = req.url ? req.url.split('?')[0]! : '/';
    context.log.access({ listener, method: (req.method ?? '').slice(0, 16), path: path.slice(0, 200), endpoint, status, ms: Math.round(seconds * 1e6) / 1e3, remote: socket.remoteAddress ?? '' });
  };
}

/** A request node refused before any handler (malformed, headers too large, too slow): answered, logged, closed. */
function clientErrorHandler(context: ServeContext, listener: 'https' | 'http', state: ListenerState) {
  return (error: Error & { code?: string }, socket: Socket) => {
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timeout) state.timedOut.add(socket);
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = timeout ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ type: 'about:blank', detail: timeout ? 'the request did not arrive in time' : 'the request is not valid HTTP', status });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1_000).unref();
    if (state.busy.has(socket)) return;
    const endpoint = timeout ? 'timeout' : 'malformed';
    context.metrics.observeRequest(endpoint, status, 0);
    context.log.access({ listener, method: '', path: '', endpoint, status, ms: 0, remote: socket.remoteAddress ?? '' });
  };
}

function listen(server: Server, address: ListenAddress, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const where = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
      const why = e.code === 'EADDRINUSE' ? 'the address is in use' : e.code === 'EADDRNOTAVAIL' ? 'the address is not one of this host' : e.code === 'EACCES' ? 'permission denied' : e.message;
      reject(new PkiError('ERR_IO', `cannot listen on ${where} (${what}): ${why}`, { hint: 'choose another address or port, or stop what holds it' }));
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function setLimits(server: Server, context: ServeContext): void {
  server.headersTimeout = context.settings.limits.headerTimeoutMs;
  server.requestTimeout = context.settings.limits.requestTimeoutMs;
  server.keepAliveTimeout = 5_000;
}

function closeAll(servers: readonly Server[], state: ListenerState, graceMs: number): Promise<void> {
  state.closing = true;
  const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
  for (const s of servers) s.closeIdleConnections();
  const timer = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), graceMs);
  return Promise.all(closed).then(() => clearTimeout(timer));
}

/**
 * Binds the listeners. The HTTPS listener has no certificate until `setTlsMaterial` (so a busy port is
 * found before anything is issued or recorded); nobody is told the URL before then.
 */
export async function startListeners(context: ServeContext, routes: readonly Route[]): Promise<Listeners> {
  const state: ListenerState = { closing: false, busy: new WeakSet(), timedOut: new WeakSet() };
  const options = { connectionsCheckingInterval: TIMEOUT_CHECK_MS };
  const httpsServer = createHttpsServer({ ...options, requestCert: true, rejectUnauthorized: false }, requestHandler(context, routes, 'https', state));
  const servers: Server[] = [httpsServer];
  try {
    httpsServer.on('clientError', clientErrorHandler(context, 'https', state));
    setLimits(httpsServer, context);
    const httpsAddress = await listen(httpsServer, context.settings.listen, '--listen');
    let httpAddress: AddressInfo | null = null;
    if (context.settings.httpListen) {
      const httpServer = createHttpServer(options, requestHandler(context, routes, 'http', state));
      httpServer.on('clientError', clientErrorHandler(context, 'http', state));
      setLimits(httpServer, context);
      servers.push(httpServer);
      httpAddress = await listen(httpServer, context.settings.httpListen, '--http-listen');
    }
    return {
      httpsUrl: `https://${hostForUrl(httpsAddress)}:${httpsAddress.port}`,
      httpUrl: httpAddress ? `http://${hostForUrl(httpAddress)}:${httpAddress.port}` : null,
      setTlsMaterial: (m) => httpsServer.setSecureContext({ key: m.keyPem, cert: m.chainPem, ca: m.clientCaPem }),
      applyLimits: () => servers.forEach((s) => setLimits(s, context)),
      close: (graceMs = 10_000) => closeAll(servers, state, graceMs),
    };
  } catch (e) {
    await closeAll(servers.filter((s) => s.listening), state, 0);
    throw e;
  }
}
