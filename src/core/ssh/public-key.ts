/**
 * OpenSSH public keys: the `ssh-ed25519 AAAA… comment` line, the wire blob inside it, and the SHA256
 * fingerprint `ssh-keygen -l` prints. Keys become `crypto.KeyObject`s through JWK import, so no SSH
 * library is involved and Node (OpenSSL) validates curve points and RSA moduli for us.
 */
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { PkiError } from '../errors.js';
import { encodeSshMpint, encodeSshString, SshReader } from './wire.js';

/** Key types pki reads and signs with. DSA and FIDO (`sk-…`) keys are refused on purpose. */
export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';

export interface SshPublicKey {
  readonly type: SshKeyType;
  /** The wire encoding (what the base64 in the line decodes to). */
  readonly blob: Buffer;
  /** Text after the base64, '' when there is none. */
  readonly comment: string;
  readonly keyObject: KeyObject;
}

/** What a piece of text looks like, so inspect can route it without trial parsing. */
export type SshTextKind = 'public-key' | 'certificate' | 'private-key';

/** Ties the SSH curve identifier (RFC 5656 §10.1) to JWK's name and the field size in bytes. */
interface EcdsaCurve {
  readonly type: SshKeyType;
  readonly sshCurve: 'nistp256' | 'nistp384' | 'nistp521';
  readonly jwkCurve: 'P-256' | 'P-384' | 'P-521';
  readonly nodeCurve: 'prime256v1' | 'secp384r1' | 'secp521r1';
  readonly coordinateBytes: number;
  /** RFC 5656 §6.2.1: the hash follows the curve size. */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
}

export const ECDSA_CURVES: readonly EcdsaCurve[] = [
  { type: 'ecdsa-sha2-nistp256', sshCurve: 'nistp256', jwkCurve: 'P-256', nodeCurve: 'prime256v1', coordinateBytes: 32, hash: 'sha256' },
  { type: 'ecdsa-sha2-nistp384', sshCurve: 'nistp384', jwkCurve: 'P-384', nodeCurve: 'secp384r1', coordinateBytes: 48, hash: 'sha384' },
  { type: 'ecdsa-sha2-nistp521', sshCurve: 'nistp521', jwkCurve: 'P-521', nodeCurve: 'secp521r1', coordinateBytes: 66, hash: 'sha512' },
];

const KEY_TYPES: readonly string[] = ['ssh-ed25519', 'ssh-rsa', ...ECDSA_CURVES.map((c) => c.type)];

/** The smallest RSA key pki accepts as a certificate subject (NIST SP 800-131A). */
export const MIN_RSA_SUBJECT_BITS = 2048;

/** OpenSSH refuses larger RSA keys (SSH_RSA_MAXIMUM_MODULUS_SIZE in sshkey.h); so do we, before any RSA math. */
const MAX_RSA_BITS = 16384;

const CERT_SUFFIX = '-cert-v01@openssh.com';
const PRIVATE_KEY_MARKER = /-----BEGIN (?:OPENSSH |RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----/;
const RFC4716_MARKER = '---- BEGIN SSH2 PUBLIC KEY ----';
const TYPE_TOKEN = /^[a-z0-9][a-z0-9@._-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isSshKeyType(type: string): type is SshKeyType {
  return KEY_TYPES.includes(type);
}

/** Classifies OpenSSH text by its first key line or PEM marker; undefined when it is none of them. */
export function classifySshText(text: string): SshTextKind | undefined {
  if (PRIVATE_KEY_MARKER.test(text)) return 'private-key';
  const line = firstKeyLine(text);
  if (line === undefined) return undefined;
  const type = line.split(/\s+/, 1)[0]!;
  if (type.endsWith(CERT_SUFFIX)) return 'certificate';
  if (TYPE_TOKEN.test(type) && /^\S+\s+AAAA/.test(line)) return 'public-key';
  return undefined;
}

/**
 * Parses one OpenSSH public key line (the content of an `id_*.pub` file). Refuses private keys, DSA,
 * FIDO keys, certificates and RSA keys under 2048 bits, each with its own code.
 */
export function parseSshPublicKey(text: string): SshPublicKey {
  const { type, blob, comment } = splitSshKeyLine(text, 'public key');
  if (type.endsWith(CERT_SUFFIX)) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is an OpenSSH certificate (${type}), not a public key`, {
      hint: 'pass the plain key (id_*.pub), not the -cert.pub file',
    });
  }
  refuseUnsupportedType(type);
  const decoded = decodeSshPublicKeyBlob(blob);
  if (decoded.type !== type) {
    throw new PkiError('ERR_MALFORMED_SSH', `key line says ${type} but its blob holds ${decoded.type}`);
  }
  if (decoded.type === 'ssh-rsa') {
    const bits = decoded.keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_SUBJECT_BITS) {
      throw new PkiError('ERR_WEAK_KEY', `RSA key is ${bits} bits; at least ${MIN_RSA_SUBJECT_BITS} are required`, {
        hint: 'generate a new key: ssh-keygen -t ed25519',
      });
    }
  }
  return { type: decoded.type, blob: Buffer.from(blob), comment, keyObject: decoded.keyObject };
}

/**
 * Splits `type base64 [comment]` and base64-decodes the blob. Shared with certificate lines. Private
 * keys and RFC 4716 files are recognised here so the user learns what to pass instead.
 */
export function splitSshKeyLine(text: string, what: string): { type: string; blob: Uint8Array; comment: string } {
  if (text.trim() === '') throw new PkiError('ERR_EMPTY_INPUT', `empty input where an OpenSSH ${what} was expected`);
  if (PRIVATE_KEY_MARKER.test(text)) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is a private key, not an OpenSSH ${what}`, {
      hint: 'pass the .pub file',
    });
  }
  const pem = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (pem) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is a PEM file (${pem[1]}), not an OpenSSH ${what}`, {
      hint: 'pass an OpenSSH .pub file; a PEM public key converts with ssh-keygen -i -m PKCS8 -f FILE',
    });
  }
  if (text.includes(RFC4716_MARKER)) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', `this is an RFC 4716 (SSH2) public key, not an OpenSSH ${what} line`, {
      hint: 'convert it first: ssh-keygen -i -f FILE',
    });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (lines.length !== 1) {
    throw new PkiError('ERR_MALFORMED_SSH', `expected exactly one OpenSSH ${what} line, found ${lines.length}`);
  }
  const line = lines[0]!.trim();
  const match = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (!match) throw new PkiError('ERR_MALFORMED_SSH', `not an OpenSSH ${what} line (expected "type base64 [comment]")`);
  const [, type, base64, comment] = match;
  if (!TYPE_TOKEN.test(type!)) throw new PkiError('ERR_MALFORMED_SSH', `not an OpenSSH ${what} line: bad key type token`);
  if (!BASE64.test(base64!)) throw new PkiError('ERR_MALFORMED_SSH', `the ${what} body is not valid base64`);
  const blob = Buffer.from(base64!, 'base64');
  return { type: type!, blob: new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength), comment: (comment ?? '').trim() };
}

/** Throws ERR_UNSUPPORTED_KEY for key types pki does not handle, naming why where it is a choice. */
export function refuseUnsupportedType(type: string): asserts type is SshKeyType {
  if (isSshKeyType(type)) return;
  if (type === 'ssh-dss') {
    // OpenSSH itself disabled DSA by default in 7.0 and removed it in 10.0.
    throw new PkiError('ERR_UNSUPPORTED_KEY', 'DSA (ssh-dss) keys are not supported', {
      hint: 'generate a new key: ssh-keygen -t ed25519',
    });
  }
  if (type.endsWith(CERT_SUFFIX)) {
    // PROTOCOL.certkeys: "Chained" certificates, where the signature key is itself a certificate, are not supported.
    throw new PkiError('ERR_UNSUPPORTED_KEY', `a certificate (${type}) cannot stand where a plain key is required`);
  }
  if (type.startsWith('sk-')) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', `FIDO security-key type ${type} is not supported`);
  }
  throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported SSH key type "${type}"`, {
    hint: 'use ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa',
  });
}

/** Decodes a public key wire blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4) into a KeyObject. */
export function decodeSshPublicKeyBlob(blob: Uint8Array): { type: SshKeyType; keyObject: KeyObject } {
  const reader = new SshReader(blob, 'SSH public key');
  const type = reader.readText('key type');
  refuseUnsupportedType(type);
  const jwk = readKeyMaterial(reader, type);
  reader.expectEnd();
  return { type, keyObject: importSshJwk(jwk, type) };
}

/**
 * Reads the type-specific public key fields. Certificates embed exactly these fields after their nonce,
 * so the certificate decoder calls this too.
 */
export function readKeyMaterial(reader: SshReader, type: SshKeyType): JsonWebKey {
  if (type === 'ssh-ed25519') {
    const pk = reader.readString('Ed25519 public key');
    if (pk.length !== 32) throw malformed(`Ed25519 public key is ${pk.length} bytes, expected 32`);
    return { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) };
  }
  if (type === 'ssh-rsa') {
    const e = reader.readMpint('RSA exponent');
    const n = reader.readMpint('RSA modulus');
    if (e.length === 0 || n.length === 0) throw malformed('RSA exponent or modulus is zero');
    if (n.length > MAX_RSA_BITS / 8) {
      throw new PkiError('ERR_UNSUPPORTED_KEY', `RSA modulus of ${n.length * 8} bits exceeds OpenSSH's ${MAX_RSA_BITS}-bit limit`);
    }
    return { kty: 'RSA', e: b64url(e), n: b64url(n) };
  }
  const curve = ecdsaCurveForType(type);
  const sshCurve = reader.readText('ECDSA curve');
  if (sshCurve !== curve.sshCurve) throw malformed(`ECDSA curve ${sshCurve} does not match key type ${type}`);
  const point = reader.readString('ECDSA point');
  // SSH uses the uncompressed SEC1 form only (RFC 5656 §3.1 via SEC1 §2.3.3).
  if (point.length !== 1 + 2 * curve.coordinateBytes || point[0] !== 0x04) {
    throw malformed(`ECDSA point is not an uncompressed ${curve.jwkCurve} point`);
  }
  const x = point.subarray(1, 1 + curve.coordinateBytes);
  const y = point.subarray(1 + curve.coordinateBytes);
  return { kty: 'EC', crv: curve.jwkCurve, x: b64url(x), y: b64url(y) };
}

/** JWK → KeyObject; OpenSSL's refusals (point not on curve, even modulus…) become ERR_MALFORMED_SSH. */
export function importSshJwk(jwk: JsonWebKey, type: SshKeyType): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new PkiError('ERR_MALFORMED_SSH', `the ${type} key material is not a valid public key`, { cause });
  }
}

/** The SSH wire blob of a public (or private: its public half is used) KeyObject. */
export function encodeSshPublicKeyBlob(key: KeyObject): Buffer {
  const type = sshKeyTypeOf(key);
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (type === 'ssh-ed25519') {
    return Buffer.concat([encodeSshString(type), encodeSshString(fromB64url(jwk.x))]);
  }
  if (type === 'ssh-rsa') {
    return Buffer.concat([encodeSshString(type), encodeSshMpint(fromB64url(jwk.e)), encodeSshMpint(fromB64url(jwk.n))]);
  }
  const curve = ecdsaCurveForType(type);
  const point = Buffer.concat([Buffer.from([0x04]), fromB64url(jwk.x), fromB64url(jwk.y)]);
  return Buffer.concat([encodeSshString(type), encodeSshString(curve.sshCurve), encodeSshString(point)]);
}

/** `type base64 comment` — the line ssh-keygen writes to `.pub` files (without the newline). */
export function encodeSshPublicKey(key: KeyObject, comment = ''): string {
  const blob = encodeSshPublicKeyBlob(key);
  const line = `${sshKeyTypeOf(key)} ${blob.toString('base64')}`;
  return comment === '' ? line : `${line} ${comment}`;
}

/** `SHA256:` + unpadded base64 of SHA-256 over the blob, exactly as `ssh-keygen -l -E sha256` prints it. */
export function fingerprintSshPublicKey(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The SSH key type of a KeyObject; throws ERR_UNSUPPORTED_KEY for anything else (DSA, RSA-PSS, X25519…). */
export function sshKeyTypeOf(key: KeyObject): SshKeyType {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ssh-ed25519';
    case 'rsa':
      return 'ssh-rsa';
    case 'ec': {
      const named = key.asymmetricKeyDetails?.namedCurve;
      const curve = ECDSA_CURVES.find((c) => c.nodeCurve === named);
      if (curve) return curve.type;
      throw new PkiError('ERR_UNSUPPORTED_KEY', `EC curve ${named ?? 'unknown'} has no OpenSSH key type`, {
        hint: 'use P-256, P-384 or P-521',
      });
    }
    default:
      throw new PkiError('ERR_UNSUPPORTED_KEY', `${key.asymmetricKeyType ?? 'unknown'} keys cannot be used with OpenSSH`, {
        hint: 'use Ed25519, ECDSA (P-256/P-384/P-521) or RSA',
      });
  }
}

export function ecdsaCurveForType(type: SshKeyType): EcdsaCurve {
  const curve = ECDSA_CURVES.find((c) => c.type === type);
  if (!curve) throw new RangeError(`${type} is not an ECDSA key type`);
  return curve;
}

function firstKeyLine(text: string): string | undefined {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
}

function malformed(detail: string): PkiError {
  return new PkiError('ERR_MALFORMED_SSH', `malformed SSH public key: ${detail}`);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function fromB64url(text: string | undefined): Buffer {
  return Buffer.from(text ?? '', 'base64url');
}
