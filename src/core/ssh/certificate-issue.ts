/**
 * Issuing an OpenSSH certificate (layout in certificate.ts): every option is checked against policy, then
 * the CA signs.
 */
import { publicKeyOf, type SigningKey } from '../keys/signing-key.js';
import { PkiError } from '../errors.js';
import { checkSshCaKey } from './ca-key.js';
import type { SshCertType } from './profiles.js';
import { CERT_SUFFIX, CERT_TYPE_CODE, type SshCriticalOptions } from './certificate.js';
import { encodeSshPublicKeyBlob, refuseUnsupportedType, type SshPublicKey } from './public-key.js';
import { signSshData } from './signature.js';
import { formatSourceAddressList } from './source-address.js';
import { encodeSshString, encodeSshUint32, encodeSshUint64, SshReader, UINT64_MAX } from './wire.js';

const MIN_NONCE_BYTES = 16;
// Extensions PROTOCOL.certkeys defines for user certificates only; on a host certificate they mean nothing.
const USER_ONLY_EXTENSIONS = new Set([
  'no-touch-required',
  'permit-X11-forwarding',
  'permit-agent-forwarding',
  'permit-port-forwarding',
  'permit-pty',
  'permit-user-rc',
]);
const OPTION_NAME = /^[A-Za-z0-9][A-Za-z0-9@._-]*$/;
const PRINTABLE = /^[^\x00-\x1f\x7f]+$/;

export interface IssueSshCertificateOptions {
  /** The key being certified. */
  readonly publicKey: SshPublicKey;
  /** A key file's KeyObject or a key on a token (keys/signing-key.ts). */
  readonly caPrivateKey: SigningKey;
  readonly certType: SshCertType;
  /** 1 … 2^64−1; the caller draws it at random. 0 is refused because a KRL cannot revoke serial 0. */
  readonly serial: bigint;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Must be true to issue with no principals, which OpenSSH reads as "valid for every principal". */
  readonly anyPrincipal?: boolean;
  readonly validAfter: Date;
  readonly validBefore: Date;
  readonly criticalOptions?: SshCriticalOptions;
  /** Extension names (all flag-style, empty data); encoded sorted as OpenSSH requires. */
  readonly extensions: readonly string[];
  /** At least 16 random bytes (OpenSSH uses 32); a parameter so tests can pin it. */
  readonly nonce: Uint8Array;
  /** Comment for the line; defaults to the public key's comment. */
  readonly comment?: string;
}

export interface IssuedSshCertificate {
  readonly blob: Buffer;
  /** `<type>-cert-v01@openssh.com BASE64 [comment]`, without a newline. */
  readonly line: string;
}


/** Signs an OpenSSH certificate after checking every option against policy. Refusals happen before signing. */
export function issueSshCertificate(options: IssueSshCertificateOptions): IssuedSshCertificate {
  checkSshCaKey(options.caPrivateKey);
  checkSerial(options.serial);
  const principals = checkPrincipals(options.principals, options.certType, options.anyPrincipal ?? false);
  const { validAfter, validBefore } = checkValidity(options.validAfter, options.validBefore);
  const criticalOptions = encodeCriticalOptions(options.criticalOptions ?? {}, options.certType);
  const extensions = encodeExtensions(options.extensions, options.certType);
  if (options.keyId === '' || !PRINTABLE.test(options.keyId)) {
    throw new PkiError('ERR_INVALID_OPTION', 'the key id must be non-empty printable text', {
      hint: 'use something that identifies the holder in sshd logs, e.g. alice@laptop',
    });
  }
  if (options.nonce.length < MIN_NONCE_BYTES) {
    throw new PkiError('ERR_INVALID_OPTION', `the nonce must be at least ${MIN_NONCE_BYTES} random bytes`);
  }

  // The certificate carries the subject key's fields exactly as its plain blob does, minus the type.
  const subject = new SshReader(options.publicKey.blob, 'SSH public key');
  const keyType = subject.readText('key type');
  refuseUnsupportedType(keyType);
  const keyFields = options.publicKey.blob.subarray(subject.offset);
  const type = keyType + CERT_SUFFIX;

  const signedData = Buffer.concat([
    encodeSshString(type),
    encodeSshString(options.nonce),
    keyFields,
    encodeSshUint64(options.serial),
    encodeSshUint32(CERT_TYPE_CODE[options.certType]),
    encodeSshString(options.keyId),
    encodeSshString(Buffer.concat(principals.map((p) => encodeSshString(p)))),
    encodeSshUint64(validAfter),
    encodeSshUint64(validBefore),
    encodeSshString(criticalOptions),
    encodeSshString(extensions),
    encodeSshString(''), // reserved
    encodeSshString(encodeSshPublicKeyBlob(publicKeyOf(options.caPrivateKey))),
  ]);
  const signature = signSshData(options.caPrivateKey, signedData);
  const blob = Buffer.concat([signedData, encodeSshString(signature.blob)]);
  const comment = options.comment ?? options.publicKey.comment;
  const line = `${type} ${blob.toString('base64')}${comment === '' ? '' : ` ${comment}`}`;
  return { blob, line };
}

function checkSerial(serial: bigint): void {
  if (serial <= 0n || serial > UINT64_MAX) {
    throw new PkiError('ERR_INVALID_SERIAL', `SSH certificate serial must be 1 … 2^64-1, not ${serial}`, {
      hint: 'serial 0 means "unnumbered" and cannot be revoked by serial in a KRL',
    });
  }
}

function checkPrincipals(principals: readonly string[], certType: SshCertType, anyPrincipal: boolean): string[] {
  if (anyPrincipal) {
    if (principals.length > 0) {
      throw new PkiError('ERR_INVALID_OPTION', 'anyPrincipal and an explicit principal list are mutually exclusive');
    }
    return [];
  }
  if (principals.length === 0) {
    // An empty list is a wildcard in OpenSSH: any user (or any host name) this CA is trusted for.
    throw new PkiError('ERR_SSH_POLICY', `a ${certType} certificate without principals is valid for every ${certType === 'user' ? 'account' : 'host name'}`, {
      hint: certType === 'user' ? 'name the accounts it may log in as' : 'name the host names it answers to',
    });
  }
  const seen = new Set<string>();
  for (const p of principals) {
    if (p === '' || !PRINTABLE.test(p) || /[\s,]/.test(p)) {
      throw new PkiError('ERR_INVALID_OPTION', `principal "${p}" must be non-empty printable text without spaces or commas`);
    }
    if (seen.has(p)) throw new PkiError('ERR_INVALID_OPTION', `principal "${p}" is listed twice`);
    seen.add(p);
  }
  return [...principals];
}

function checkValidity(after: Date, before: Date): { validAfter: bigint; validBefore: bigint } {
  for (const [label, date] of [['validAfter', after], ['validBefore', before]] as const) {
    if (Number.isNaN(date.getTime()) || date.getTime() < 0) {
      throw new PkiError('ERR_INVALID_TIME', `${label} is not a valid time at or after 1970-01-01`);
    }
  }
  const validAfter = BigInt(Math.floor(after.getTime() / 1000));
  const validBefore = BigInt(Math.floor(before.getTime() / 1000));
  if (validBefore <= validAfter) {
    throw new PkiError('ERR_VALIDITY', `validBefore (${before.toISOString()}) must be after validAfter (${after.toISOString()})`);
  }
  return { validAfter, validBefore };
}

/** force-command and source-address, each value a string wrapped in the data string, sorted by name. */
function encodeCriticalOptions(options: SshCriticalOptions, certType: SshCertType): Buffer {
  const entries: [string, string][] = [];
  if (options.forceCommand !== undefined) {
    if (options.forceCommand.trim() === '' || /[\0\r\n]/.test(options.forceCommand)) {
      throw new PkiError('ERR_INVALID_OPTION', 'force-command must be a non-empty single-line command');
    }
    entries.push(['force-command', options.forceCommand]);
  }
  if (options.sourceAddress !== undefined) entries.push(['source-address', formatSourceAddressList(options.sourceAddress)]);
  if (entries.length > 0 && certType === 'host') {
    // PROTOCOL.certkeys defines no critical options for host certificates; clients would reject the cert.
    throw new PkiError('ERR_SSH_POLICY', 'host certificates cannot carry critical options (force-command, source-address)');
  }
  entries.sort(([a], [b]) => compareBytes(a, b));
  return Buffer.concat(entries.map(([name, value]) => Buffer.concat([encodeSshString(name), encodeSshString(encodeSshString(value))])));
}

/** Flag extensions: name plus empty data, sorted by name, each once. */
function encodeExtensions(names: readonly string[], certType: SshCertType): Buffer {
  const seen = new Set<string>();
  for (const name of names) {
    if (!OPTION_NAME.test(name)) throw new PkiError('ERR_INVALID_OPTION', `"${name}" is not a valid extension name`);
    if (seen.has(name)) throw new PkiError('ERR_INVALID_OPTION', `extension ${name} is listed twice`);
    if (certType === 'host' && USER_ONLY_EXTENSIONS.has(name)) {
      throw new PkiError('ERR_SSH_POLICY', `extension ${name} applies to user certificates only`);
    }
    seen.add(name);
  }
  const sorted = [...seen].sort(compareBytes);
  return Buffer.concat(sorted.map((name) => Buffer.concat([encodeSshString(name), encodeSshString('')])));
}

/** OpenSSH orders option names with strcmp(), i.e. by UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

