/**
 * The one signature-algorithm table of pki: what certificates, CSRs and CRLs are signed with (chosen from
 * the signing key) and which OIDs are verified. SHA-1 and MD5 signatures are named, so reports can show
 * them, but never verified as acceptable: collisions are practical (SHAttered, 2017). RSASSA-PSS is
 * verified (never made) when its AlgorithmIdentifier parameters are given (RFC 4055 §3.1, pss-parameters.ts).
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import { algorithmIdentifier, nullValue } from '../der/writer.js';
import { PkiError } from '../errors.js';
import { describeKey, formatKeySpec } from './keys.js';
import { parsePssParameters, PSS_OID } from './pss-parameters.js';
import { publicKeyOf, signData, type SigningKey } from './signing-key.js';

/** How a key signs X.509 structures: the AlgorithmIdentifier and the hash Node's crypto.sign takes. */
export interface SignatureAlgorithm {
  readonly name: string;
  readonly oid: string;
  /** True for RSA PKCS#1 v1.5, whose AlgorithmIdentifier carries an explicit NULL (RFC 4055 §5). */
  readonly nullParameters: boolean;
  /** Hash for crypto.sign; null for Ed25519 (the algorithm fixes its own). */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
}

interface AlgorithmInfo extends SignatureAlgorithm {
  /**
   * The only key type (KeyObject#asymmetricKeyType) that signs with this algorithm. Node's verify does not
   * check it: an RSA PKCS#1 signature verifies under an ECDSA OID, and an RSA or EC one under Ed25519's.
   */
  readonly keyType?: 'ec' | 'rsa' | 'ed25519';
  /** Broken or unsupported for verification. */
  readonly refused?: string;
  /** Refused because broken (SHA-1, MD5), not merely unsupported: ERR_WEAK_ALGORITHM in `pki verify`. */
  readonly weak?: true;
}

const info = (oid: string, name: string, rest: Omit<AlgorithmInfo, 'oid' | 'name' | 'nullParameters'> & { nullParameters?: boolean }): AlgorithmInfo => ({
  oid,
  name,
  nullParameters: false,
  ...rest,
});

const ALGORITHMS: Readonly<Record<string, AlgorithmInfo>> = Object.fromEntries(
  [
    info('1.2.840.10045.4.3.2', 'ecdsa-with-SHA256', { keyType: 'ec', hash: 'sha256' }),
    info('1.2.840.10045.4.3.3', 'ecdsa-with-SHA384', { keyType: 'ec', hash: 'sha384' }),
    info('1.2.840.10045.4.3.4', 'ecdsa-with-SHA512', { keyType: 'ec', hash: 'sha512' }),
    info('1.2.840.113549.1.1.11', 'sha256WithRSAEncryption', { keyType: 'rsa', hash: 'sha256', nullParameters: true }),
    info('1.2.840.113549.1.1.12', 'sha384WithRSAEncryption', { keyType: 'rsa', hash: 'sha384', nullParameters: true }),
    info('1.2.840.113549.1.1.13', 'sha512WithRSAEncryption', { keyType: 'rsa', hash: 'sha512', nullParameters: true }),
    info('1.3.101.112', 'Ed25519', { keyType: 'ed25519', hash: null }),
    info('1.3.101.113', 'Ed448', { hash: null, refused: 'Ed448 is not supported' }),
    // Verified only with its parameters (verificationScheme); acceptableAlgorithm (CSRs) never reads them.
    info(PSS_OID, 'RSASSA-PSS', { keyType: 'rsa', hash: null, refused: 'RSASSA-PSS signatures are not supported in certificate requests' }),
    info('1.2.840.113549.1.1.5', 'sha1WithRSAEncryption', { hash: null, weak: true, refused: 'SHA-1 signatures are refused (collisions are practical)' }),
    info('1.2.840.10045.4.1', 'ecdsa-with-SHA1', { hash: null, weak: true, refused: 'SHA-1 signatures are refused (collisions are practical)' }),
    info('1.2.840.113549.1.1.4', 'md5WithRSAEncryption', { hash: null, weak: true, refused: 'MD5 signatures are refused' }),
    info('1.2.840.10040.4.3', 'dsa-with-SHA1', { hash: null, weak: true, refused: 'DSA signatures are refused (SHA-1)' }),
  ].map((a) => [a.oid, a]),
);

/** What each key signs with: ECDSA's hash matches the curve strength (RFC 5480 §4), RSA is PKCS#1 v1.5 with SHA-256. */
const SIGNING_ALGORITHM_OF: Readonly<Record<string, string>> = {
  'EC P-256': '1.2.840.10045.4.3.2',
  'EC P-384': '1.2.840.10045.4.3.3',
  'EC P-521': '1.2.840.10045.4.3.4',
  RSA: '1.2.840.113549.1.1.11',
  'OKP Ed25519': '1.3.101.112',
};

/** The signature algorithm a signing key uses for certificates, CSRs and CRLs alike; ERR_UNSUPPORTED_KEY for other keys. */
export function signatureAlgorithmFor(signingKey: SigningKey): SignatureAlgorithm {
  const d = describeKey(publicKeyOf(signingKey));
  const oid = SIGNING_ALGORITHM_OF[d.type === 'RSA' ? 'RSA' : `${d.type} ${d.curve}`];
  if (oid === undefined) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', `cannot sign with ${formatKeySpec(d)}`, {
      hint: 'use an EC P-256/P-384/P-521, RSA or Ed25519 key',
    });
  }
  return ALGORITHMS[oid]!;
}

/** AlgorithmIdentifier DER for a signature algorithm. */
export function encodeSignatureAlgorithm(alg: SignatureAlgorithm): Buffer {
  return alg.nullParameters ? algorithmIdentifier(alg.oid, nullValue()) : algorithmIdentifier(alg.oid);
}

/** The signature value over `data` with the algorithm's hash (a key file's or a token's). */
export function signWith(algorithm: SignatureAlgorithm, data: Uint8Array, key: SigningKey): Buffer {
  return signData(algorithm.hash, data, key);
}

/** Human name of a signature algorithm OID, or the OID itself. */
export function signatureAlgorithmName(oid: string): string {
  return ALGORITHMS[oid]?.name ?? oid;
}

/** The algorithm, or ERR_POLICY for one pki does not know or refuses (SHA-1, MD5, DSA, PSS). */
export function acceptableAlgorithm(algorithmOid: string): AlgorithmInfo {
  const info = ALGORITHMS[algorithmOid];
  if (!info) throw new PkiError('ERR_POLICY', `unknown signature algorithm ${algorithmOid}`);
  if (info.refused) throw new PkiError('ERR_POLICY', info.refused, { hint: 're-create the request with SHA-256 or better' });
  return info;
}

/**
 * True when `publicKey` is of the one type that signs with the algorithm (ECDSA ↔ EC, RSA PKCS#1 ↔ RSA,
 * Ed25519 ↔ Ed25519); false for other pairs and for algorithms pki does not verify.
 */
export function signatureAlgorithmFitsKey(algorithmOid: string, publicKey: KeyObject): boolean {
  const keyType = ALGORITHMS[algorithmOid]?.keyType;
  return keyType !== undefined && publicKey.asymmetricKeyType === keyType;
}

/** How a signature is verified: Node's hash, the key types that sign with it, and PSS's salt length. */
export interface VerificationScheme {
  /** e.g. `ecdsa-with-SHA256`, `RSASSA-PSS (SHA-256, salt 32)`. */
  readonly name: string;
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** KeyObject#asymmetricKeyType values that may have made it (`rsa-pss` keys sign only with PSS, RFC 4055 §1.2). */
  readonly keyTypes: readonly string[];
  readonly pssSaltLength?: number;
}

/** A signature algorithm pki verifies, or why it does not: `weak` for broken hashes (SHA-1, MD5), else unsupported. */
export type SignatureAlgorithmVerdict =
  | { readonly ok: true; readonly scheme: VerificationScheme }
  | { readonly ok: false; readonly weak: boolean; readonly name: string; readonly reason: string };

/**
 * Judges a signature AlgorithmIdentifier: its OID and, for RSASSA-PSS, its parameters (the DER of the
 * element after the OID, undefined when absent). Never throws.
 */
export function verificationScheme(algorithmOid: string, parameters?: Uint8Array): SignatureAlgorithmVerdict {
  const known = ALGORITHMS[algorithmOid];
  const name = known?.name ?? algorithmOid;
  if (algorithmOid === PSS_OID) {
    const pss = parsePssParameters(parameters);
    if (!pss.ok) return { ok: false, weak: pss.weak, name, reason: pss.reason };
    return { ok: true, scheme: { name: pss.name, hash: pss.hash, keyTypes: ['rsa', 'rsa-pss'], pssSaltLength: pss.saltLength } };
  }
  if (!known) return { ok: false, weak: false, name, reason: `unknown signature algorithm ${algorithmOid}` };
  if (known.refused) return { ok: false, weak: known.weak === true, name, reason: known.refused };
  return { ok: true, scheme: { name, hash: known.hash, keyTypes: [known.keyType!] } };
}

/** Verifies with a scheme from verificationScheme; false for a signature that does not verify or a key of another type. */
export function verifyWithScheme(scheme: VerificationScheme, data: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  if (!scheme.keyTypes.includes(publicKey.asymmetricKeyType ?? '')) return false;
  try {
    if (scheme.pssSaltLength !== undefined) {
      return verify(scheme.hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength }, signature);
    }
    return verify(scheme.hash, data, publicKey, signature);
  } catch {
    // Node throws for key/algorithm mismatches (an EC signature claimed for an RSA key): not valid.
    return false;
  }
}

/**
 * Verifies `signature` over `data`. Throws ERR_POLICY for refused algorithms (SHA-1, MD5, DSA, PSS without
 * `parameters`); returns false for a signature that does not verify, or whose algorithm does not fit the key.
 */
export function verifySignature(algorithmOid: string, data: Uint8Array, signature: Uint8Array, publicKey: KeyObject, parameters?: Uint8Array): boolean {
  const verdict = verificationScheme(algorithmOid, parameters);
  if (!verdict.ok) throw new PkiError('ERR_POLICY', verdict.reason, { hint: 're-create it with SHA-256 or better' });
  return verifyWithScheme(verdict.scheme, data, signature, publicKey);
}
