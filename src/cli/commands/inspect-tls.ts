/** `pki inspect --tls HOST:PORT`: what a TLS server presents, and the verify verdict for it (issue 11). */
import { PkiError } from '../../core/errors.js';
import { inspectTls, type InspectTlsResult } from '../../operations/inspect-tls.js';
import { ExitError } from '../errors.js';
import { renderReport } from '../inspect-text.js';
import { colors, emitData, type GlobalOptions } from '../output.js';
import { verdictLine } from '../verify-text.js';

export interface InspectTlsOptions {
  readonly servername?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly roots: string[];
  readonly timeout: string;
  readonly starttls?: string;
  readonly verify: boolean;
}

function clientRequestText(r: InspectTlsResult): string {
  const request = r.clientCertificateRequest;
  if (request.requested === null) return `unknown (${r.note ?? 'the handshake could not be read'})`;
  if (!request.requested) return 'not requested';
  const names = request.authorities.length ? `CA names: ${request.authorities.join('; ')}` : 'no CA names (any CA)';
  return `requested, ${names}${r.clientCertificate ? `; presented ${r.clientCertificate}` : '; none presented (give --cert and --key)'}`;
}

function ocspText(r: InspectTlsResult): string {
  const o = r.ocsp;
  if (!o) return 'none stapled';
  if (!o.certStatus) return `response ${o.responseStatus}`;
  const c = colors();
  const status = o.certStatus === 'good' ? c.green('good') : c.red(o.certStatus);
  const times = [o.revokedAt && `revoked ${o.revokedAt}`, o.thisUpdate && `this update ${o.thisUpdate}`, o.nextUpdate && `next update ${o.nextUpdate}`].filter(Boolean).join(', ');
  return `${status} for serial ${o.serial} (${times}; signature not checked)`;
}

function renderTls(r: InspectTlsResult, now: Date): string {
  const c = colors();
  const row = (label: string, value: string) => `  ${c.bold(label.padEnd(22))}${value}`;
  const where = `${r.target.host.includes(':') ? `[${r.target.host}]` : r.target.host}:${r.target.port}`;
  const head = [
    `${c.cyan('TLS server')} ${where}`,
    row('SNI', r.target.servername ?? 'none (IP address)'),
    ...(r.target.starttls ? [row('STARTTLS', r.target.starttls)] : []),
    row('Protocol', r.protocol),
    row('Cipher', r.cipher.name === r.cipher.openssl ? r.cipher.name : `${r.cipher.name} (OpenSSL ${r.cipher.openssl})`),
    row('ALPN', r.alpn ?? 'none'),
    row('Client certificate', clientRequestText(r)),
    row('OCSP', ocspText(r)),
    row('Certificates', `${r.certificates.length} presented`),
  ].join('\n');
  const certs = r.certificates.map((cert, i) => `${c.bold(`#${i + 1}`)} ${renderReport(cert, now)}`);
  const verdict = r.verification ? verdictLine(r.verification.result, r.verification.names) : 'not verified (--no-verify)';
  return [head, ...certs, verdict].join('\n\n');
}

export async function runInspectTls(target: string, file: string | undefined, options: InspectTlsOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (file !== undefined) throw new PkiError('ERR_USAGE', `inspect --tls takes no file (got "${file}")`, { hint: 'pki inspect --tls HOST:PORT, or pki inspect FILE' });
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new PkiError('ERR_USAGE', `--${options.cert === undefined ? 'key' : 'cert'} needs --${options.cert === undefined ? 'cert' : 'key'}`, { hint: 'give the client certificate with --cert and its key with --key' });
  }
  if (options.servername === '') throw new PkiError('ERR_USAGE', '--servername is empty', { hint: 'give the host name to send as SNI' });
  const result = await inspectTls(
    {
      target,
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ...(options.cert !== undefined && options.key !== undefined ? { clientCertificate: { certFile: options.cert, keyFile: options.key } } : {}),
      rootFiles: options.roots,
      homeDir: globals.dir,
      timeout: options.timeout,
      ...(options.starttls !== undefined ? { starttls: options.starttls } : {}),
      verify: options.verify,
    },
    { now },
  );
  emitData(globals, result, (shown) => renderTls(shown, now));
  if (result.verification && !result.verification.result.valid) throw new ExitError(1);
}
