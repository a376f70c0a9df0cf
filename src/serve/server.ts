/**
 * The listeners of `pki serve`: node:https (and node:http with --http-listen) in front of the router. The
 * one place that speaks node:http: it reads the body up to the limit (413 beyond), cuts off slow clients
 * (headers within `headerTimeoutMs`, the whole request within `requestTimeoutMs`), turns a handler's
 * failure into a 500 problem without stopping, writes one access-log line per request, and on close stops
 * accepting and lets in-flight requests finish.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
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
  /** Replaces the HTTPS certificate for new connections (in-process renewal). */
  setTlsMaterial(material: TlsMaterial): void;
  /** Stops accepting, waits for in-flight requests (at most `graceMs`), then closes idle connections. */
  close(graceMs?: number): Promise<void>;
}

function hostForUrl(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return resolve('too-large');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: ServeResponse): void {
  const body = response.body === undefined ? undefined : Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body);
  const headers: Record<string, string | readonly string[]> = { 'Cache-Control': 'no-store', ...(response.headers ?? {}) };
  if (body) headers['Content-Length'] = String(body.length);
  res.writeHead(response.status, headers as Record<string, string | string[]>);
  res.end(body);
}

function requestHandler(context: ServeContext, routes: readonly Route[], listener: 'https' | 'http') {
  const route = createRouter(routes);
  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = q === -1 ? '' : rawUrl.slice(q + 1);
    const local = req.socket.localPort;
    const origin = context.settings.baseUrl ?? `${listener}://${req.headers.host ?? `${req.socket.localAddress}:${local}`}`;
    let endpoint = 'unknown';
    let response: ServeResponse;
    try {
      const body = await readBody(req, context.settings.limits.bodyBytes);
      const tls = listener === 'https' ? (req.socket as TLSSocket) : null;
      const peer = tls?.getPeerCertificate?.(true);
      const request: ServeRequest = {
        method: req.method ?? 'GET',
        path,
        query,
        url: origin + rawUrl,
        headers: req.headers as Record<string, string | undefined>,
        body: body === 'too-large' ? Buffer.alloc(0) : body,
        remoteAddress: req.socket.remoteAddress ?? '',
        listener,
        ...(peer && peer.raw ? { peerCertificate: peer, clientCertificates: peerChain(peer) } : {}),
      };
      const match = route(request);
      endpoint = match.endpoint;
      response = body === 'too-large' ? problemResponse(413, 'about:blank', `the request body is larger than ${context.settings.limits.bodyBytes} bytes`) : await match.handler(request);
    } catch (e) {
      context.log.event('internal error', { endpoint, error: e instanceof Error ? e.message : String(e) });
      response = problemResponse(500, 'urn:ietf:params:acme:error:serverInternal', 'internal error');
    }
    if (!res.headersSent && !res.destroyed) send(res, response);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    context.metrics.observeRequest(endpoint, response.status, seconds);
    context.log.access({ listener, method: req.method ?? '', path: path.slice(0, 200), endpoint, status: response.status, ms: Math.round(seconds * 1e6) / 1e3, remote: req.socket.remoteAddress ?? '' });
  };
}

function peerChain(peer: import('node:tls').DetailedPeerCertificate): Uint8Array[] {
  const out: Uint8Array[] = [];
  let current: import('node:tls').DetailedPeerCertificate | undefined = peer;
  const seen = new Set<string>();
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(new Uint8Array(current.raw));
    current = current.issuerCertificate;
  }
  return out;
}

function listen(server: Server, address: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function applyLimits(server: Server, context: ServeContext): void {
  server.headersTimeout = context.settings.limits.headerTimeoutMs;
  server.requestTimeout = context.settings.limits.requestTimeoutMs;
  server.keepAliveTimeout = 5_000;
}

export async function startListeners(context: ServeContext, routes: readonly Route[], tls: TlsMaterial): Promise<Listeners> {
  const httpsServer = createHttpsServer({ key: tls.keyPem, cert: tls.chainPem, ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: false }, requestHandler(context, routes, 'https'));
  applyLimits(httpsServer, context);
  const httpsAddress = await listen(httpsServer, context.settings.listen);
  let httpServer: Server | null = null;
  let httpAddress: AddressInfo | null = null;
  if (context.settings.httpListen) {
    httpServer = createHttpServer(requestHandler(context, routes, 'http'));
    applyLimits(httpServer, context);
    httpAddress = await listen(httpServer, context.settings.httpListen);
  }
  const servers = [httpsServer, ...(httpServer ? [httpServer] : [])];
  return {
    httpsUrl: `https://${hostForUrl(httpsAddress)}:${httpsAddress.port}`,
    httpUrl: httpAddress ? `http://${hostForUrl(httpAddress)}:${httpAddress.port}` : null,
    setTlsMaterial: (m) => httpsServer.setSecureContext({ key: m.keyPem, cert: m.chainPem, ca: m.clientCaPem }),
    close: async (graceMs = 10_000) => {
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of servers) s.closeIdleConnections();
      const timer = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), graceMs);
      await Promise.all(closed);
      clearTimeout(timer);
    },
  };
}
