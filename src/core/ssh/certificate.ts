/**
 * OpenSSH certificates (PROTOCOL.certkeys, "-cert-v01@openssh.com"): issue, decode into a typed report,
 * and check the CA signature. Layout, for every key type:
 *
 *   string type, string nonce, <key fields of the plain public key>, uint64 serial, uint32 type,
 *   string key id, string principals, uint64 valid after, uint64 valid before, string critical options,
 *   string extensions, string reserved, string signature key, string signature
 *
 * The signature covers everything from the type through the signature key.
 */
import type { KeyObject } from 'node:crypto';
import { PkiError } from '../errors.js';
import { checkSshCaKey } from './ca-key.js';
import type { SshCertType } from './profiles.js';
import {
  decodeSshPublicKeyBlob,
  encodeSshPublicKeyBlob,
  fingerprintSshPublicKey,
  importSshJwk,
  readKeyMaterial,
  refuseUnsupportedType,
  splitSshKeyLine,
  type SshKeyType,
  type SshPublicKey,
} from './public-key.js';
import { readSshSignatureAlgorithm, signSshData, verifySshSignature } from './signature.js';
import { formatSourceAddressList } from './source-address.js';
import { encodeSshString, encodeSshUint32, encodeSshUint64, SshReader, UINT64_MAX } from './wire.js';

const CERT_SUFFIX = '-cert-v01@openssh.com';
const CERT_TYPE_CODE: { readonly [K in SshCertType]: number } = { user: 1, host: 2 };
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
// JavaScript Dates end at 8.64e15 ms (year 275760); later SSH times other than "forever" are not representable.
const MAX_DATE_SECONDS = 8_640_000_000_000n;

export interface SshCriticalOptions {
  /** `force-command`: the only command the certificate may run. */
  readonly forceCommand?: string;
  /** `source-address`: CIDR blocks (IPv4 or IPv6) the certificate is accepted from. */
  readonly sourceAddress?: readonly string[];
}

export interface IssueSshCertificateOptions {
  /** The key being certified. */
  readonly publicKey: SshPublicKey;
  readonly caPrivateKey: KeyObject;
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

/** A decoded certificate: the report fields, plus the raw parts needed to verify it. */
export interface SshCertificate {
  /** e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: string;
  /** The certified key's plain type, e.g. `ssh-ed25519`. */
  readonly keyType: SshKeyType;
  readonly keyId: string;
  /** Decimal: uint64 does not fit a JSON number. */
  readonly serial: string;
  readonly certType: SshCertType;
  readonly principals: readonly string[];
  readonly validAfter: Date;
  readonly validBefore: Date | 'forever';
  readonly criticalOptions: Readonly<Record<string, string>>;
  readonly extensions: readonly string[];
  readonly publicKeyFingerprint: string;
  readonly signatureKeyType: SshKeyType;
  readonly signatureKeyFingerprint: string;
  readonly signatureAlgorithm: string;
  /** The line's comment; '' for a bare blob. */
  readonly comment: string;
  readonly raw: {
    readonly blob: Buffer;
    /** The certified key as a plain public key blob (what fingerprints hash). */
    readonly publicKey: Buffer;
    /** The bytes the CA signed. */
    readonly signedData: Buffer;
    readonly signatureKey: Buffer;
    readonly signature: Buffer;
  };
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
    encodeSshString(encodeSshPublicKeyBlob(options.caPrivateKey)),
  ]);
  const signature = signSshData(options.caPrivateKey, signedData);
  const blob = Buffer.concat([signedData, encodeSshString(signature.blob)]);
  const comment = options.comment ?? options.publicKey.comment;
  const line = `${type} ${blob.toString('base64')}${comment === '' ? '' : ` ${comment}`}`;
  return { blob, line };
}

/**
 * Decodes a certificate from its line (`…-cert-v01@openssh.com AAAA… comment`, i.e. a `-cert.pub` file)
 * or from its wire blob. Throws ERR_MALFORMED_SSH for anything structurally wrong, ERR_UNSUPPORTED_KEY for
 * DSA/FIDO certificates and ERR_UNKNOWN_OBJECT for a plain public key. Does not check the signature.
 */
export function decodeSshCertificate(input: string | Uint8Array): SshCertificate {
  let blob: Uint8Array;
  let comment = '';
  let lineType: string | undefined;
  if (typeof input === 'string') {
    const split = splitSshKeyLine(input, 'certificate');
    if (!split.type.endsWith(CERT_SUFFIX)) {
      throw new PkiError('ERR_UNKNOWN_OBJECT', `this is a ${split.type} public key, not an OpenSSH certificate`, {
        hint: 'certificates are the -cert.pub files that ssh-keygen -s writes',
      });
    }
    blob = split.blob;
    comment = split.comment;
    lineType = split.type;
  } else {
    blob = input;
  }

  const reader = new SshReader(blob, 'SSH certificate');
  const type = reader.readText('certificate type');
  if (lineType !== undefined && type !== lineType) {
    throw new PkiError('ERR_MALFORMED_SSH', `certificate line type does not match its blob (${type})`);
  }
  if (!type.endsWith(CERT_SUFFIX)) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is a ${type} key, not an OpenSSH certificate`);
  }
  const keyType = type.slice(0, -CERT_SUFFIX.length);
  refuseUnsupportedType(keyType);
  reader.readString('nonce');
  const keyStart = reader.offset;
  const jwk = readKeyMaterial(reader, keyType);
  const publicKeyBlob = Buffer.concat([encodeSshString(keyType), blob.subarray(keyStart, reader.offset)]);
  importSshJwk(jwk, keyType); // a certificate for a key that cannot exist is malformed, not merely odd
  const serial = reader.readUint64('serial');
  const certTypeCode = reader.readUint32('certificate type code');
  const certType = certTypeCode === 1 ? 'user' : certTypeCode === 2 ? 'host' : undefined;
  if (certType === undefined) throw malformed(`unknown certificate type code ${certTypeCode}`);
  const keyId = reader.readText('key id');
  const principals = readPrincipals(reader.readString('principals'));
  const validAfterSeconds = reader.readUint64('valid after');
  const validBeforeSeconds = reader.readUint64('valid before');
  const criticalOptions = readOptions(reader.readString('critical options'), 'critical option');
  const extensions = readOptions(reader.readString('extensions'), 'extension');
  reader.readString('reserved');
  const signatureKey = reader.readString('signature key');
  const signedEnd = reader.offset;
  const signature = reader.readString('signature');
  reader.expectEnd();

  const signer = decodeSshPublicKeyBlob(signatureKey);
  return {
    type,
    keyType,
    keyId,
    serial: serial.toString(10),
    certType,
    principals,
    validAfter: secondsToDate(validAfterSeconds, 'valid after'),
    validBefore: validBeforeSeconds === UINT64_MAX ? 'forever' : secondsToDate(validBeforeSeconds, 'valid before'),
    criticalOptions: Object.fromEntries(criticalOptions.map(({ name, data }) => [name, decodeOptionValue(name, data)])),
    extensions: extensions.map(({ name }) => name),
    publicKeyFingerprint: fingerprintSshPublicKey(publicKeyBlob),
    signatureKeyType: signer.type,
    signatureKeyFingerprint: fingerprintSshPublicKey(signatureKey),
    signatureAlgorithm: readSshSignatureAlgorithm(signature),
    comment,
    raw: {
      blob: Buffer.from(blob),
      publicKey: publicKeyBlob,
      signedData: Buffer.from(blob.subarray(0, signedEnd)),
      signatureKey: Buffer.from(signatureKey),
      signature: Buffer.from(signature),
    },
  };
}

/**
 * True when the certificate's signature was made by its embedded signature key. Says nothing about
 * whether that key is a CA anyone trusts: compare `signatureKeyFingerprint` for that.
 */
export function verifySshCertificateSignature(certificate: SshCertificate | string | Uint8Array): boolean {
  const cert = typeof certificate === 'string' || certificate instanceof Uint8Array ? decodeSshCertificate(certificate) : certificate;
  const signer = decodeSshPublicKeyBlob(cert.raw.signatureKey);
  return verifySshSignature(signer.keyObject, signer.type, cert.raw.signature, cert.raw.signedData);
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

function readPrincipals(data: Uint8Array): string[] {
  const reader = new SshReader(data, 'SSH certificate principals');
  const principals: string[] = [];
  while (reader.remaining > 0) principals.push(reader.readText('principal'));
  return principals;
}

function readOptions(data: Uint8Array, what: string): { name: string; data: Uint8Array }[] {
  const reader = new SshReader(data, `SSH certificate ${what}s`);
  const options: { name: string; data: Uint8Array }[] = [];
  const seen = new Set<string>();
  while (reader.remaining > 0) {
    const name = reader.readText(`${what} name`);
    if (seen.has(name)) throw malformed(`${what} ${name} appears twice`);
    seen.add(name);
    options.push({ name, data: reader.readString(`${what} ${name}`) });
  }
  return options;
}

/** Known options hold a string inside the data string; unknown ones are shown the same way when they can be, else as hex. */
function decodeOptionValue(name: string, data: Uint8Array): string {
  if (data.length === 0) return '';
  try {
    const inner = new SshReader(data, `critical option ${name}`);
    const value = inner.readText(name);
    inner.expectEnd();
    return value;
  } catch (e) {
    if (name === 'force-command' || name === 'source-address') throw e;
    return Buffer.from(data).toString('hex');
  }
}

function secondsToDate(seconds: bigint, field: string): Date {
  if (seconds > MAX_DATE_SECONDS) throw malformed(`${field} (${seconds}) is beyond any representable date`);
  return new Date(Number(seconds) * 1000);
}

function malformed(detail: string): PkiError {
  return new PkiError('ERR_MALFORMED_SSH', `malformed SSH certificate: ${detail}`);
}
