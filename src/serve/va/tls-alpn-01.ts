/**
 * tls-alpn-01 (RFC 8737, RFC 8738 for IPs): a TLS handshake with <address>:<tlsPort> offering only ALPN
 * `acme-tls/1`, SNI the name (an IP's reverse-DNS name), the certificate not verified; the server must
 * negotiate acme-tls/1 and present a certificate whose only SAN is the identifier and whose critical
 * acmeIdentifier extension holds SHA-256(keyAuthorization). Nothing is sent after the handshake.
 */
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { ACME_TLS_ALPN, readTlsAlpnCertificate, reverseDnsName, tlsAlpnCertificateProblem } from '../../core/acme/challenge.js';
import { AcmeProblemError } from '../acme/problem.js';
import type { VaContext } from './http-01.js';
import { resolveHost } from './resolve.js';

interface Handshake {
  readonly alpn: string | false;
  readonly certificate: Buffer | undefined;
}

function handshake(ctx: VaContext, address: string, servername: string, where: string): Promise<Handshake> {
  return new Promise<Handshake>((resolve, reject) => {
    let socket: TLSSocket | undefined;
    let connected = false;
    const fail = (error: AcmeProblemError) => {
      cleanup();
      socket?.destroy();
      reject(error);
    };
    const onAbort = () => fail(new AcmeProblemError('connection', `${where}: no handshake within ${ctx.limits.timeoutMs} ms`));
    const connectTimer = setTimeout(() => fail(new AcmeProblemError('connection', `${where}: no connection within ${ctx.limits.connectTimeoutMs} ms`)), ctx.limits.connectTimeoutMs);
    const cleanup = () => {
      clearTimeout(connectTimer);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket = connect({ host: address, port: ctx.settings.tlsPort, servername, ALPNProtocols: [ACME_TLS_ALPN], rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
    });
    socket.once('secureConnect', () => {
      const s = socket!;
      const result = { alpn: s.alpnProtocol ?? false, certificate: s.getPeerX509Certificate()?.raw };
      cleanup();
      s.destroy();
      resolve(result);
    });
    socket.once('error', (error: Error & { code?: string }) => {
      const type = connected ? 'tls' : 'connection';
      fail(new AcmeProblemError(type, `${where}: ${connected ? 'TLS handshake failed: ' : ''}${error.code ?? error.message}`));
    });
  });
}

export async function validateTlsAlpn01(ctx: VaContext, identifier: { type: 'dns' | 'ip'; value: string }, keyAuthorization: string): Promise<void> {
  if (identifier.value.startsWith('*.')) throw new AcmeProblemError('malformed', `tls-alpn-01 cannot validate the wildcard ${identifier.value} (RFC 8737 §3: use dns-01)`);
  const servername = identifier.type === 'ip' ? reverseDnsName(identifier.value) : identifier.value.toLowerCase().replace(/\.$/, '');
  const { addresses, via } = await resolveHost(ctx.settings, identifier.value, ctx.signal);
  let last: AcmeProblemError | undefined;
  for (const address of addresses) {
    const where = `tls-alpn-01 with ${isIP(address) === 6 ? `[${address}]` : address}:${ctx.settings.tlsPort} (SNI ${servername}, resolved via ${via})`;
    let hs: Handshake;
    try {
      hs = await handshake(ctx, address, servername, where);
    } catch (error) {
      last = error as AcmeProblemError;
      if (last.type === 'connection' && !ctx.signal.aborted) continue;
      throw last;
    }
    if (hs.alpn !== ACME_TLS_ALPN) throw new AcmeProblemError('tls', `${where}: the server negotiated ${hs.alpn === false ? 'no ALPN protocol' : JSON.stringify(hs.alpn)}, not ${ACME_TLS_ALPN}`);
    if (!hs.certificate) throw new AcmeProblemError('tls', `${where}: the server sent no certificate`);
    let problem: string | undefined;
    try {
      problem = tlsAlpnCertificateProblem(readTlsAlpnCertificate(hs.certificate), identifier, keyAuthorization);
    } catch (error) {
      problem = `the certificate cannot be read: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (problem) throw new AcmeProblemError('incorrectResponse', `${where}: ${problem}`);
    return;
  }
  throw last ?? new AcmeProblemError('dns', `${identifier.value} resolved to no address`);
}
