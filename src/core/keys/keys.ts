/**
 * Key pairs: the algorithm vocabulary (step CLI's kty/crv/size), generation in Node's native crypto,
 * description for reports (the signature algorithm each key signs with is in signature.ts).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, type KeyObject } from 'node:crypto';
import { childrenOf, DerTag, expectTag, readOid, readRootTlv } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { isEncryptedPrivateKey } from './encryption.js';

export type KeyType = 'EC' | 'RSA' | 'OKP';
export type Curve = 'P-256' | 'P-384' | 'Ed25519';

/** What kind of key to make, as the operator names it (`--kty EC --crv P-256`, `--kty RSA --size 3072`). */
export type KeySpec =
  | { readonly kty: 'EC'; readonly crv: 'P-256' | 'P-384' }
  | { readonly kty: 'RSA'; readonly size: number }
  | { readonly kty: 'OKP'; readonly crv: 'Ed25519' };

export const DEFAULT_KEY_SPEC: KeySpec = { kty: 'EC', crv: 'P-256' };

/** RSA below 2048 bits is breakable by well-funded attackers (NIST SP 800-131A); above 8192 is a typo. */
export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

/** A key as reports describe it: `{ type: 'EC', curve: 'P-256' }`, `{ type: 'RSA', size: 2048 }`. */
export type KeyDescription =
  | { readonly type: 'EC'; readonly curve: string }
  | { readonly type: 'RSA'; readonly size: number }
  | { readonly type: 'OKP'; readonly curve: string };

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Builds a KeySpec from loosely typed flags, refusing impossible combinations.
 * `kty` defaults from `crv` when only a curve is given (step CLI does the same).
 */
export function resolveKeySpec(input: { kty?: string | undefined; crv?: string | undefined; size?: number | string | undefined }): KeySpec {
  const kty = (input.kty ?? (input.crv === 'Ed25519' ? 'OKP' : input.crv ? 'EC' : input.size !== undefined ? 'RSA' : 'EC')).toUpperCase();
  const hint = 'use --kty EC --crv P-256|P-384, --kty RSA --size 2048|3072|4096, or --kty OKP --crv Ed25519';
  switch (kty) {
    case 'EC': {
      if (input.size !== undefined) throw new PkiError('ERR_INVALID_OPTION', '--size applies to RSA keys only', { hint });
      const crv = input.crv ?? 'P-256';
      if (crv !== 'P-256' && crv !== 'P-384') throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported EC curve "${crv}"`, { hint });
      return { kty: 'EC', crv };
    }
    case 'OKP': {
      if (input.size !== undefined) throw new PkiError('ERR_INVALID_OPTION', '--size applies to RSA keys only', { hint });
      const crv = input.crv ?? 'Ed25519';
      if (crv !== 'Ed25519') throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported OKP curve "${crv}"`, { hint });
      return { kty: 'OKP', crv };
    }
    case 'RSA': {
      if (input.crv !== undefined) throw new PkiError('ERR_INVALID_OPTION', '--crv does not apply to RSA keys', { hint });
      const size = input.size === undefined ? 2048 : Number(input.size);
      if (!Number.isInteger(size)) throw new PkiError('ERR_INVALID_OPTION', `RSA key size "${input.size}" is not a number`, { hint });
      if (size < MIN_RSA_BITS) {
        throw new PkiError('ERR_WEAK_KEY', `RSA keys of ${size} bits are too weak (minimum ${MIN_RSA_BITS})`, { hint: 'use --size 2048, 3072 or 4096' });
      }
      if (size > MAX_RSA_BITS || size % 8 !== 0) throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported RSA key size ${size}`, { hint });
      return { kty: 'RSA', size };
    }
    default:
      throw new PkiError('ERR_UNSUPPORTED_KEY', `unknown key type "${input.kty}"`, { hint });
  }
}

/**
 * Generates a key pair in Node's native crypto on the libuv thread pool, so the keys of a bundle can be
 * made concurrently (two RSA-4096 searches on two cores).
 */
export function generateKeyPair(spec: KeySpec): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      err ? reject(err) : resolve({ privateKey, publicKey });
    switch (spec.kty) {
      case 'EC':
        nodeGenerateKeyPair('ec', { namedCurve: spec.crv }, done);
        break;
      case 'RSA':
        nodeGenerateKeyPair('rsa', { modulusLength: spec.size, publicExponent: 0x10001 }, done);
        break;
      case 'OKP':
        nodeGenerateKeyPair('ed25519', {}, done);
        break;
    }
  });
}

const NODE_CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  'P-256': 'P-256',
  secp384r1: 'P-384',
  'P-384': 'P-384',
  secp521r1: 'P-521',
  'P-521': 'P-521',
};

/** KeyObjects are immutable: each is described once (asymmetricKeyDetails is a native call per read). */
const descriptions = new WeakMap<KeyObject, KeyDescription>();

/** Describes a public or private key; refuses key types pki never signs with. */
export function describeKey(key: KeyObject): KeyDescription {
  let d = descriptions.get(key);
  if (d === undefined) {
    d = describeKeyUncached(key);
    descriptions.set(key, d);
  }
  return d;
}

function describeKeyUncached(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return { type: 'EC', curve: NODE_CURVE_NAMES[details.namedCurve ?? ''] ?? details.namedCurve ?? 'unknown' };
    case 'rsa':
      return { type: 'RSA', size: details.modulusLength ?? 0 };
    case 'ed25519':
      return { type: 'OKP', curve: 'Ed25519' };
    case 'ed448':
      return { type: 'OKP', curve: 'Ed448' };
    default:
      throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported key type "${key.asymmetricKeyType}"`, {
        hint: 'pki works with EC (P-256, P-384), RSA (2048 bits and more) and Ed25519 keys',
      });
  }
}

/** The key as a KeySpec, e.g. to compare an existing bundle with a request. */
export function keySpecOf(key: KeyObject): KeySpec {
  const d = describeKey(key);
  if (d.type === 'RSA') return { kty: 'RSA', size: d.size };
  if (d.type === 'EC' && (d.curve === 'P-256' || d.curve === 'P-384')) return { kty: 'EC', crv: d.curve };
  if (d.type === 'OKP' && d.curve === 'Ed25519') return { kty: 'OKP', crv: 'Ed25519' };
  throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported key ${formatKeySpec(d)}`);
}

/** `EC P-256`, `RSA 2048`, `OKP Ed25519`. */
export function formatKeySpec(k: KeySpec | KeyDescription): string {
  if ('kty' in k) return k.kty === 'RSA' ? `RSA ${k.size}` : `${k.kty} ${k.crv}`;
  return k.type === 'RSA' ? `RSA ${k.size}` : `${k.type} ${k.curve}`;
}

export function sameKeySpec(a: KeySpec, b: KeySpec): boolean {
  return formatKeySpec(a) === formatKeySpec(b);
}

/** RSA public exponents pki certifies: odd, 65537 ≤ e ≤ 2^256 − 1 (CA/Browser Forum BR §6.1.6, NIST SP 800-89). */
const MIN_RSA_EXPONENT = 65537n;
const MAX_RSA_EXPONENT = (1n << 256n) - 1n;

/**
 * Refuses public keys that pki will not certify: RSA under 2048 bits or with a public exponent that is
 * even, under 65537 (e = 3 invites low-exponent attacks on careless padding) or over 2^256 − 1, curves
 * other than P-256/P-384/P-521, anything not EC/RSA/Ed25519.
 */
export function assertAcceptablePublicKey(key: KeyObject): KeyDescription {
  const d = describeKey(key);
  if (d.type === 'RSA' && d.size < MIN_RSA_BITS) {
    throw new PkiError('ERR_WEAK_KEY', `RSA key of ${d.size} bits is too weak (minimum ${MIN_RSA_BITS})`, {
      hint: 'generate a new key with at least 2048 bits',
    });
  }
  if (d.type === 'RSA') {
    const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
    if (e % 2n === 0n || e < MIN_RSA_EXPONENT || e > MAX_RSA_EXPONENT) {
      throw new PkiError('ERR_WEAK_KEY', `RSA public exponent ${e > 1n << 64n ? `of ${e.toString(2).length} bits` : e.toString()} is not allowed (it must be odd, from 65537 to 2^256-1)`, {
        hint: 'generate a new key with the standard exponent 65537',
      });
    }
  }
  if (d.type === 'EC' && !['P-256', 'P-384', 'P-521'].includes(d.curve)) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported EC curve ${d.curve}`, { hint: 'use P-256 or P-384' });
  }
  return d;
}

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/**
 * Refuses an EC SubjectPublicKeyInfo whose parameters are not a named curve OID (RFC 5480 §2.1.1: explicit
 * parameters and implicitCurve MUST NOT be used). OpenSSL matches explicit P-256 parameters to the named
 * curve on import but keeps the explicit encoding on export, so the key alone cannot tell: the DER does.
 */
export function assertNamedCurve(spki: Uint8Array): void {
  const [algorithm] = childrenOf(spki, expectTag(readRootTlv(spki), DerTag.sequence, 'SubjectPublicKeyInfo'));
  if (algorithm === undefined) throw new PkiError('ERR_MALFORMED_DER', 'SubjectPublicKeyInfo has no algorithm');
  const [algorithmOid, parameters] = childrenOf(spki, expectTag(algorithm, DerTag.sequence, 'AlgorithmIdentifier'));
  if (algorithmOid === undefined || readOid(spki, algorithmOid) !== OID_EC_PUBLIC_KEY) return;
  if (parameters?.tag !== DerTag.objectIdentifier) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', 'the EC key gives its curve as explicit parameters, not as a named curve (RFC 5480 §2.1.1)', {
      hint: 'export the key with a named curve (openssl: -pkeyopt ec_param_enc:named_curve, or pkey -ec_param_enc named_curve)',
    });
  }
}

/** SubjectPublicKeyInfo DER of a key (private keys yield their public half). */
export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/**
 * SubjectPublicKeyInfo prefixes of the uncompressed-point EC keys (RFC 5480: id-ecPublicKey, the named
 * curve, BIT STRING with no unused bits, 0x04) and the coordinate length of each curve.
 */
const EC_SPKI_PREFIXES: readonly { readonly prefix: Buffer; readonly crv: 'P-256' | 'P-384'; readonly size: number }[] = [
  { prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'), crv: 'P-256', size: 32 },
  { prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), crv: 'P-384', size: 48 },
];

/**
 * A SubjectPublicKeyInfo (DER) as a public KeyObject, with the SPKI a certificate for it carries: OpenSSL's
 * own encoding of the key, as `spkiDer(key)` gives it. EC P-256/P-384 keys in that form (uncompressed
 * point, named curve) go in as JWK coordinates and keep their bytes: OpenSSL 3's DER decoder framework
 * costs about twice as much per key, and re-exporting as much again — together a third of `pki sign` over
 * 1,000 requests. OpenSSL checks the point is on the curve either way. Any other encoding (RSA, Ed25519,
 * compressed points, explicit parameters) is decoded from DER and re-exported.
 */
export function importSpki(spki: Uint8Array): { key: KeyObject; spkiDer: Uint8Array } {
  const bytes = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  for (const { prefix, crv, size } of EC_SPKI_PREFIXES) {
    if (bytes.length === prefix.length + 2 * size && bytes.subarray(0, prefix.length).equals(prefix)) {
      const x = bytes.subarray(prefix.length, prefix.length + size).toString('base64url');
      const y = bytes.subarray(prefix.length + size).toString('base64url');
      return { key: createPublicKey({ key: { kty: 'EC', crv, x, y }, format: 'jwk' }), spkiDer: spki };
    }
  }
  const key = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  return { key, spkiDer: spkiDer(key) };
}

/** SHA-256 of the SubjectPublicKeyInfo, hex: the fingerprint `inspect` shows for keys. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(spkiDer(key)).digest('hex');
}

/** True when the private key and the public key (or certificate key) belong together. */
export function keysMatch(privateKey: KeyObject, publicKey: KeyObject): boolean {
  return spkiDer(privateKey).equals(spkiDer(publicKey));
}

/** Unencrypted PKCS#8 PEM: for service keys, which daemons read unattended. */
export function exportPrivateKeyPem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Reads a PEM or DER private key (PKCS#8, or legacy PKCS#1/SEC1), decrypting with the passphrase when given. */
export function importPrivateKey(data: string | Uint8Array, passphrase?: Uint8Array): KeyObject {
  const isPem = typeof data === 'string' || Buffer.from(data.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
  const encrypted = isEncryptedPrivateKey(data);
  if (encrypted && passphrase === undefined) {
    throw new PkiError('ERR_PASSWORD_REQUIRED', 'the private key is encrypted and no passphrase was given', {
      hint: 'pass --password-file FILE or set PKI_PASSWORD',
    });
  }
  try {
    const key = isPem
      ? createPrivateKey({ key: typeof data === 'string' ? data : Buffer.from(data), format: 'pem', ...(encrypted ? { passphrase: Buffer.from(passphrase!) } : {}) })
      : createPrivateKey({ key: Buffer.from(data), format: 'der', type: 'pkcs8', ...(passphrase ? { passphrase: Buffer.from(passphrase) } : {}) });
    describeKey(key);
    return key;
  } catch (e) {
    if (e instanceof PkiError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (encrypted && /BAD_DECRYPT|bad decrypt|ERR_OSSL_EVP_BAD_DECRYPT/i.test(`${code} ${(e as Error).message}`)) {
      throw new PkiError('ERR_BAD_PASSWORD', 'wrong passphrase for the encrypted private key', {
        hint: 'check --password-file or PKI_PASSWORD',
      });
    }
    if (encrypted) {
      throw new PkiError('ERR_BAD_PASSWORD', 'could not decrypt the private key (wrong passphrase or damaged file)', {
        hint: 'check --password-file or PKI_PASSWORD',
      });
    }
    throw new PkiError('ERR_MALFORMED_KEY', 'the private key could not be read (damaged or not a private key)', { cause: e });
  }
}
