/**
 * PKCS#11 URIs (RFC 7512), the way `pki init --kms` and pki.json name a token and step-ca's `kms` names
 * one: `pkcs11:token=pki;object=pki-root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pki/pin`.
 *
 * Parsed strictly: only the attributes pki acts on (path `token`, `object`, `id`; query `module-path`,
 * `pin-source`), each at most once (RFC 7512 §2.3), values percent-decoded. `pin-value` is refused: a PIN
 * in argv is readable by every user through ps and stays in shell history. The PIN comes from a file
 * (`pin-source=file:PATH`, or an absolute path as step-ca writes it), never from the environment either,
 * as `renew --daemon --exec` children inherit pki's environment. Messages name attributes, never values.
 */
import { isAbsolute, resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';

export interface Pkcs11Uri {
  /** The token label (CKA_LABEL of the token, `softhsm2-util --init-token --label`). */
  readonly token: string;
  /** The key object's CKA_LABEL, when the URI names one. */
  readonly object?: string;
  /** The key object's CKA_ID, when the URI names one. */
  readonly id?: Buffer;
  /** Absolute path of the PKCS#11 module (.so). */
  readonly modulePath: string;
  /** Absolute path of the file holding the user PIN. */
  readonly pinFile: string;
}

const PATH_ATTRIBUTES = ['token', 'object', 'id'] as const;
const QUERY_ATTRIBUTES = ['module-path', 'pin-source'] as const;
const URI_HINT = "pkcs11:token=LABEL?module-path=/path/to/module.so&pin-source=file:/path/to/pin-file";

function usage(message: string, hint = URI_HINT): PkiError {
  return new PkiError('ERR_USAGE', message, { hint });
}

/** Percent-decoding of one value (RFC 3986 §2.1); a broken escape is refused, not passed through. */
function decodeValue(raw: string, name: string): Buffer {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) throw usage(`the PKCS#11 URI attribute "${name}" has a broken %-escape`);
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(raw[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function attributes(part: string, separator: string, allowed: readonly string[], where: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (part === '') return out;
  for (const item of part.split(separator)) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (name === 'pin-value') {
      throw usage(
        'the PKCS#11 URI carries pin-value: a PIN on the command line is visible to every user (ps) and stays in the shell history',
        'put the PIN in a file only you can read and name it with pin-source=file:/path/to/pin-file',
      );
    }
    if (eq < 0) throw usage(`the PKCS#11 URI ${where} attribute "${name}" has no value`);
    if (!allowed.includes(name)) throw usage(`pki does not use the PKCS#11 URI ${where} attribute "${name}" (it knows ${allowed.join(', ')})`);
    if (out.has(name)) throw usage(`the PKCS#11 URI names "${name}" twice`);
    out.set(name, decodeValue(item.slice(eq + 1), name));
  }
  return out;
}

/** The PIN file a pin-source names: `file:PATH` or an absolute path; relative paths against `cwd`. */
function pinFileOf(source: string, cwd: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(source) && !source.startsWith('file:')) {
    throw usage(`pin-source must be a file (file:/path/to/pin-file), not a "${source.slice(0, source.indexOf(':'))}:" source`, 'the PIN is read from a file only, never from argv or the environment');
  }
  const path = source.startsWith('file://') ? source.slice('file://'.length) : source.startsWith('file:') ? source.slice('file:'.length) : source;
  if (path === '') throw usage('pin-source names no file');
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** Parses a `pkcs11:` URI; ERR_USAGE naming the attribute that is wrong. Relative paths are made absolute against `cwd`. */
export function parsePkcs11Uri(text: string, cwd: string): Pkcs11Uri {
  if (!text.startsWith('pkcs11:')) throw usage('a --kms URI must start with "pkcs11:"');
  const body = text.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const path = attributes(q < 0 ? body : body.slice(0, q), ';', PATH_ATTRIBUTES, 'path');
  const query = attributes(q < 0 ? '' : body.slice(q + 1), '&', QUERY_ATTRIBUTES, 'query');
  const token = path.get('token')?.toString('utf8');
  if (!token) throw usage('the PKCS#11 URI names no token (token=LABEL)');
  const modulePath = query.get('module-path')?.toString('utf8');
  if (!modulePath) throw usage('the PKCS#11 URI names no module (module-path=/path/to/module.so)');
  const pinSource = query.get('pin-source')?.toString('utf8');
  if (!pinSource) throw usage('the PKCS#11 URI names no PIN file (pin-source=file:/path/to/pin-file)');
  const object = path.get('object')?.toString('utf8');
  const id = path.get('id');
  return {
    token,
    ...(object !== undefined ? { object } : {}),
    ...(id !== undefined ? { id } : {}),
    modulePath: isAbsolute(modulePath) ? modulePath : resolve(cwd, modulePath),
    pinFile: pinFileOf(pinSource, cwd),
  };
}

/** RFC 7512's unreserved characters plus what path (`pk11-pchar`) or query (`pk11-qchar`) values may hold as they are. */
function encodeValue(value: string | Buffer, keep: RegExp): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && keep.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
const PATH_CHAR = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=]$/;
const QUERY_CHAR = /^[A-Za-z0-9\-._~:[\]/?@!$'()*+,;=]$/;

/** The URI text, as pki.json stores it: no PIN, the PIN file as `file:PATH`. */
export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const path = [`token=${encodeValue(uri.token, PATH_CHAR)}`];
  if (uri.object !== undefined) path.push(`object=${encodeValue(uri.object, PATH_CHAR)}`);
  if (uri.id !== undefined) path.push(`id=${encodeValue(uri.id, /^$/)}`);
  return `pkcs11:${path.join(';')}?module-path=${encodeValue(uri.modulePath, QUERY_CHAR)}&pin-source=file:${encodeValue(uri.pinFile, QUERY_CHAR)}`;
}

/** The URI of one key object on the token `uri` names (its CKA_LABEL), for messages and SSH key references. */
export function keyObjectUri(uri: Pkcs11Uri, label: string): Pkcs11Uri {
  return { token: uri.token, object: label, modulePath: uri.modulePath, pinFile: uri.pinFile };
}
