/**
 * One TLS handshake with a server, for `pki inspect --tls`: TCP connect, the optional STARTTLS exchange,
 * then the handshake through node:tls over a stream that keeps a copy of every byte the server sends (Node
 * has no API for the CertificateRequest's CA names nor for the chain exactly as sent: server-flight.ts reads
 * them from that copy). pki judges the certificates itself, so Node's own verification is off. Nothing is
 * sent after the handshake; the connection is then closed. Every wait is bounded by `timeoutMs`.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { PkiError } from '../core/errors.js';
import { readServerFlight, serverHandshakeSecret, type ServerFlight } from './server-flight.js';
import { startTls, type StartTlsProtocol } from './starttls.js';
import { connectError, handshakeError } from './tls-errors.js';

export interface TlsProbeRequest {
  readonly host: string;
  readonly port: number;
  /** The SNI name; none sent when undefined. */
  readonly servername?: string;
  /** ALPN protocols to offer (none: no ALPN extension). */
  readonly alpn: readonly string[];
  /** A client certificate to present when asked: PEM certificate (chain) and PEM key. */
  readonly clientCertificate?: { readonly cert: Uint8Array; readonly key: Uint8Array };
  readonly timeoutMs: number;
  readonly starttls?: StartTlsProtocol;
}

export interface TlsProbeResult {
  /** `TLSv1.3`, `TLSv1.2` (Node's names, as openssl prints them). */
  readonly protocol: string;
  /** IANA name (`TLS_AES_256_GCM_SHA384`) and OpenSSL name (`ECDHE-RSA-AES256-GCM-SHA384`). */
  readonly cipher: { readonly name: string; readonly openssl: string };
  readonly alpn: string | null;
  /** DER, leaf first, exactly as the server sent them. */
  readonly certificates: readonly Uint8Array[];
  /** null: the server asked for no client certificate; else the DER CA names it sent (empty: any); 'unknown': see `unreadable`. */
  readonly certificateRequest: ServerFlight['certificateRequest'] | 'unknown';
  /** Why the handshake bytes could not be read (then `certificates` is Node's view of the chain), or null. */
  readonly unreadable: string | null;
  /** The DER OCSP response the server stapled, if any. */
  readonly ocspResponse: Uint8Array | null;
}

/**
 * After a TLS 1.3 handshake the server judges the client certificate only once it has our Finished: a
 * refusal ("certificate required", "unknown ca") arrives after 'secureConnect'. pki waits this long for it
 * when a client certificate was asked for, unless the server's session ticket (sent on acceptance) comes first.
 */
export const POST_HANDSHAKE_ALERT_MS = 1000;

/** Rejects with ERR_TIMEOUT once `deadline` passes (the caller destroys the sockets). */
function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PkiError('ERR_TIMEOUT', what, { hint: 'check the host and port, or give a longer --timeout' })), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function connectTcp(request: TlsProbeRequest, where: string): { socket: Socket; connected: Promise<void> } {
  const socket = tcpConnect({ host: request.host, port: request.port });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.on('error', (e: NodeJS.ErrnoException) => reject(connectError(e, where))); // stays: a later error must not go unhandled
  });
  return { socket, connected };
}

/** A stream over `raw` that passes every byte on and keeps a copy of what the server sent in `received`. */
function recordingStream(raw: Socket, received: Buffer[]): Duplex {
  const stream = new Duplex({
    read: () => void raw.resume(),
    write: (chunk: Buffer, _encoding, callback) => void raw.write(chunk, callback),
    final: (callback) => void raw.end(callback),
    destroy: (error, callback) => {
      raw.destroy();
      callback(error);
    },
  });
  raw.on('data', (chunk: Buffer) => {
    received.push(chunk);
    if (!stream.push(chunk)) raw.pause();
  });
  raw.once('end', () => stream.push(null));
  raw.on('error', (e) => stream.destroy(e));
  return stream;
}

interface Handshake {
  readonly socket: TLSSocket;
  readonly keylog: string[];
  readonly ocsp: { response: Uint8Array | null };
  readonly secure: Promise<void>;
  /** Settles when the connection fails or closes (after the handshake too). */
  readonly failed: Promise<PkiError>;
  /** Settles when the server sends a session ticket: in TLS 1.3, it accepted our client certificate. */
  readonly ticket: Promise<undefined>;
}

function startHandshake(stream: Duplex, request: TlsProbeRequest, where: string): Handshake {
  // requestOCSP is passed on to the TLSSocket (Node's docs list it there; @types/node's ConnectionOptions lacks it).
  const options: ConnectionOptions & { requestOCSP: boolean } = {
    socket: stream,
    servername: request.servername,
    ALPNProtocols: request.alpn.length ? [...request.alpn] : undefined,
    requestOCSP: true,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined, // the verdict is pki's (core/verify)
    ...(request.clientCertificate ? { cert: Buffer.from(request.clientCertificate.cert), key: Buffer.from(request.clientCertificate.key) } : {}),
  };
  const socket = tlsConnect(options);
  const keylog: string[] = [];
  const ocsp = { response: null as Uint8Array | null };
  socket.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
  socket.on('OCSPResponse', (response: Buffer | null) => (ocsp.response = response?.length ? new Uint8Array(response) : null)); // null: nothing stapled
  const failed = new Promise<PkiError>((resolve) => {
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(handshakeError(e, where))); // the first one counts
    socket.once('close', () => resolve(new PkiError('ERR_TLS_HANDSHAKE', `${where} closed the connection during the TLS handshake`, { hint: 'the server may require a client certificate (--cert/--key), SNI (--servername) or a protocol pki does not offer' })));
  });
  const secure = new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    void failed.then(reject);
  });
  const ticket = new Promise<undefined>((resolve) => socket.once('session', () => resolve(undefined)));
  return { socket, keylog, ocsp, secure, failed, ticket };
}

/**
 * Node's view of the chain, for the rare handshake server-flight.ts cannot read (a TLS 1.3 suite it does
 * not decrypt): leaf first, then issuers as Node links them (which may include a certificate from the
 * local trust store the server did not send).
 */
function nodeChain(socket: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cert = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | undefined;
  while (cert?.raw && out.length < 16) {
    out.push(new Uint8Array(cert.raw));
    const next = cert.issuerCertificate as typeof cert;
    if (!next || next === cert) break;
    cert = next;
  }
  return out;
}

/** The server's flight from the captured bytes, or why it could not be read. */
function readFlight(received: Buffer[], keylog: readonly string[]): { flight?: ServerFlight; unreadable: string | null } {
  try {
    const flight = readServerFlight(Buffer.concat(received), serverHandshakeSecret(keylog));
    return flight.certificates.length ? { flight, unreadable: null } : { unreadable: 'no Certificate message found in the handshake' };
  } catch (e) {
    return { unreadable: (e as Error).message };
  }
}

/** Waits (bounded) for a refusal of our client certificate that TLS 1.3 delivers after the handshake. */
async function awaitLateAlert(h: Handshake, deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    h.failed,
    h.ticket,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, Math.min(POST_HANDSHAKE_ALERT_MS, deadline - Date.now())));
    }),
  ]);
  clearTimeout(timer);
  if (settled && !/closed the connection/.test(settled.message)) throw settled;
}

/** Connects, upgrades (--starttls), handshakes and describes what the server presented; throws one PkiError on failure. */
export async function probeTls(request: TlsProbeRequest, where: string): Promise<TlsProbeResult> {
  const deadline = Date.now() + request.timeoutMs;
  const { socket: raw, connected } = connectTcp(request, where);
  let handshake: Handshake | undefined;
  try {
    await beforeDeadline(connected, deadline, `no TCP connection to ${where} within ${request.timeoutMs / 1000}s`);
    if (request.starttls) await beforeDeadline(startTls(raw, request.starttls, where), deadline, `${where} did not finish the ${request.starttls} STARTTLS exchange within ${request.timeoutMs / 1000}s`);
    const received: Buffer[] = [];
    handshake = startHandshake(recordingStream(raw, received), request, where);
    await beforeDeadline(handshake.secure, deadline, `no TLS handshake with ${where} within ${request.timeoutMs / 1000}s`);
    const { flight, unreadable } = readFlight(received, handshake.keylog);
    const tls13 = handshake.socket.getProtocol() === 'TLSv1.3';
    if (tls13 && (flight ? flight.certificateRequest !== null : request.clientCertificate !== undefined)) await awaitLateAlert(handshake, deadline);
    const cipher = handshake.socket.getCipher();
    return {
      protocol: handshake.socket.getProtocol() ?? 'unknown',
      cipher: { name: cipher.standardName, openssl: cipher.name },
      alpn: handshake.socket.alpnProtocol || null,
      certificates: flight ? flight.certificates : nodeChain(handshake.socket),
      certificateRequest: flight ? flight.certificateRequest : 'unknown',
      unreadable,
      ocspResponse: handshake.ocsp.response,
    };
  } finally {
    handshake?.socket.destroy();
    raw.destroy();
  }
}
