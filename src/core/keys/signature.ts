/**
 * The one signature-algorithm table of pki: what certificates, CSRs and CRLs are signed with (chosen from
 * the signing key) and which OIDs are verified. SHA-1 and MD5 signatures are named, so reports can show
 * them, but never verified as acceptable: collisions are practical (SHAttered, 2017).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { algorithmIdentifier, nullValue } from '../der/writer.js';
import { PkiError } from '../errors.js';
import { describeKey, formatKeySpec } from './keys.js';

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
    info('1.2.840.113549.1.1.10', 'RSASSA-PSS', { hash: null, refused: 'RSASSA-PSS signatures are not supported' }),
    info('1.2.840.113549.1.1.5', 'sha1WithRSAEncryption', { hash: null, refused: 'SHA-1 signatures are refused (collisions are practical)' }),
    info('1.2.840.10045.4.1', 'ecdsa-with-SHA1', { hash: null, refused: 'SHA-1 signatures are refused (collisions are practical)' }),
    info('1.2.840.113549.1.1.4', 'md5WithRSAEncryption', { hash: null, refused: 'MD5 signatures are refused' }),
    info('1.2.840.10040.4.3', 'dsa-with-SHA1', { hash: null, refused: 'DSA signatures are refused' }),
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
export function signatureAlgorithmFor(signingKey: KeyObject): SignatureAlgorithm {
  const d = describeKey(signingKey);
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

/** The signature value over `data` with the algorithm's hash. */
export function signWith(algorithm: SignatureAlgorithm, data: Uint8Array, key: KeyObject): Buffer {
  return sign(algorithm.hash, data, key);
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

/**
 * Verifies `signature` over `data`. Throws ERR_POLICY for refused algorithms (SHA-1, MD5, DSA, PSS);
 * returns false for a signature that does not verify, or whose algorithm does not fit the key.
 */
export function verifySignature(algorithmOid: string, data: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  const info = acceptableAlgorithm(algorithmOid);
  if (!signatureAlgorithmFitsKey(algorithmOid, publicKey)) return false;
  try {
    return verify(info.hash, data, publicKey, signature);
  } catch {
    // Node throws for key/algorithm mismatches (an EC signature claimed for an RSA key): not valid.
    return false;
  }
}
