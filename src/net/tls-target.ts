/**
 * The `--tls` target: `HOST:PORT`, `[IPv6]:PORT`, or `https://host[:port][/…]` (port 443 by default; the
 * path is ignored). Pure. An https:// target also means pki offers ALPN h2 and http/1.1, as a browser would.
 */
import { isIP } from 'node:net';
import { PkiError } from '../core/errors.js';

export interface TlsTarget {
  /** Host name or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
}

const HINT = 'give HOST:PORT (db.internal:5432, [::1]:8443) or https://host[:port]';

/** DNS-ish host names: letters, digits, hyphens, underscores, dots; no empty label. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function bad(text: string, why: string): PkiError {
  return new PkiError('ERR_INVALID_OPTION', `--tls "${text}" ${why}`, { hint: HINT });
}

function parsePort(text: string, portText: string): number {
  if (!/^\d{1,5}$/.test(portText)) throw bad(text, `has no valid port ("${portText}")`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad(text, `has port ${port}, outside 1-65535`);
  return port;
}

function checkHost(text: string, host: string): string {
  if (host === '') throw bad(text, 'names no host');
  if (isIP(host) === 0 && !HOST_NAME.test(host)) throw bad(text, `has an invalid host name "${host}"`);
  return host;
}

/** `host:port`, `[v6]:port`, `host` (port = defaultPort, for URLs only). */
function splitHostPort(text: string, hostPort: string, defaultPort: number | undefined): { host: string; port: number } {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(hostPort);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) throw bad(text, `has "[${bracketed[1]}]", which is not an IPv6 address`);
    if (bracketed[2] === undefined && defaultPort === undefined) throw bad(text, 'has no port');
    return { host: bracketed[1]!, port: bracketed[2] === undefined ? defaultPort! : parsePort(text, bracketed[2]) };
  }
  if (isIP(hostPort) === 6) throw bad(text, 'is an IPv6 address without brackets and port');
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0) {
    if (defaultPort === undefined) throw bad(text, 'has no port');
    return { host: checkHost(text, hostPort), port: defaultPort };
  }
  return { host: checkHost(text, hostPort.slice(0, colon)), port: parsePort(text, hostPort.slice(colon + 1)) };
}

export function parseTlsTarget(text: string): TlsTarget {
  const url = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([/?#].*)?$/i.exec(text.trim());
  if (url) {
    if (url[1]!.toLowerCase() !== 'https') throw bad(text, `uses ${url[1]}://; only https:// URLs are understood`);
    if (url[2]!.includes('@')) throw bad(text, 'holds user information; give the host only');
    return { ...splitHostPort(text, url[2]!, 443), https: true };
  }
  return { ...splitHostPort(text, text.trim(), undefined), https: false };
}

/** `host:port` for messages, IPv6 in brackets. */
export function targetText(target: Pick<TlsTarget, 'host' | 'port'>): string {
  return `${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`;
}
