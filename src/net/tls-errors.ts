/**
 * Node's socket and TLS errors as one-line PkiErrors: the cause in words an operator knows (`connection
 * refused`, `the server sent alert "certificate required"`), the fix as the hint. Pure.
 */
import { PkiError } from '../core/errors.js';

const CONNECT_CAUSES: Readonly<Record<string, [string, string]>> = {
  ECONNREFUSED: ['connection refused', 'check the port, and that the server is running and listens on that address'],
  ENOTFOUND: ['the host name does not resolve', 'check the host name, or connect to an IP address and give --servername'],
  EAI_AGAIN: ['the host name could not be resolved (DNS did not answer)', 'check the DNS servers, or connect to an IP address and give --servername'],
  EHOSTUNREACH: ['no route to the host', 'check the address and the network (firewall, VPN)'],
  ENETUNREACH: ['the network is unreachable', 'check the address and the network (firewall, VPN)'],
  ECONNRESET: ['the server reset the connection', 'check that this is the right port'],
  ETIMEDOUT: ['the connection timed out', 'check the address and any firewall between'],
  EADDRNOTAVAIL: ['the address cannot be used from this machine', 'check the address'],
};

export function connectError(e: NodeJS.ErrnoException, where: string): PkiError {
  const [cause, hint] = CONNECT_CAUSES[e.code ?? ''] ?? [e.code ?? e.message, 'check the host and port'];
  return new PkiError('ERR_CONNECT', `cannot connect to ${where}: ${cause}`, { hint, cause: e });
}

/** `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED` → `certificate required`. */
function alertName(code: string): string | undefined {
  const m = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code);
  return m ? m[1]!.toLowerCase().replace(/_/g, ' ') : undefined;
}

const ALERT_HINTS: Readonly<Record<string, string>> = {
  'certificate required': 'the server wants a client certificate: give --cert and --key',
  'unknown ca': 'the server does not trust the issuer of the client certificate given with --cert',
  'bad certificate': 'the server refused the client certificate given with --cert',
  'certificate expired': 'the client certificate given with --cert has expired: renew it (pki renew)',
  'handshake failure': 'no protocol version, cipher or certificate both sides accept; does the server require a client certificate (--cert/--key)?',
  'protocol version': 'the server speaks only TLS versions pki does not offer (pki offers TLS 1.2 and 1.3)',
  'unrecognized name': 'the server knows no site by that SNI name: give --servername',
};

export function handshakeError(e: NodeJS.ErrnoException, where: string): PkiError {
  const code = e.code ?? '';
  const alert = alertName(code);
  if (alert) return new PkiError('ERR_TLS_HANDSHAKE', `TLS handshake with ${where} failed: the server sent alert "${alert}"`, { hint: ALERT_HINTS[alert] ?? 'see the server log for why it refused', cause: e });
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return new PkiError('ERR_TLS_HANDSHAKE', `TLS handshake with ${where} failed: the server did not answer in TLS`, { hint: 'check the port; PostgreSQL and SMTP speak TLS only after --starttls postgres|smtp', cause: e });
  }
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL') {
    return new PkiError('ERR_TLS_HANDSHAKE', `TLS handshake with ${where} failed: the server offers only TLS versions older than 1.2`, { hint: ALERT_HINTS['protocol version'], cause: e });
  }
  if (code in CONNECT_CAUSES) return new PkiError('ERR_TLS_HANDSHAKE', `TLS handshake with ${where} failed: ${CONNECT_CAUSES[code]![0]}`, { hint: 'the server may require a client certificate (--cert/--key) or SNI (--servername)', cause: e });
  const reason = (e.message.split('\n')[0] ?? '').replace(/^.*:SSL routines:[^:]*:/, '');
  return new PkiError('ERR_TLS_HANDSHAKE', `TLS handshake with ${where} failed: ${reason || code}`, { hint: 'see the server log for why it refused', cause: e });
}
