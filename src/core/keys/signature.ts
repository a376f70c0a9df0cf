/**
 * Signature algorithm OIDs pki recognises, and verification of signed structures (CSRs, certificates,
 * CRLs) with Node's native crypto. SHA-1 and MD5 signatures are named, so reports can show them, but
 * never verified as acceptable: collisions are practical (SHAttered, 2017).
 */
import { verify, type KeyObject } from 'node:crypto';
import { PkiError } from '../errors.js';

interface AlgorithmInfo {
  readonly name: string;
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /**
   * The only key type (KeyObject#asymmetricKeyType) that signs with this algorithm. Node's verify does not
   * check it: an RSA PKCS#1 signature verifies under an ECDSA OID, and an RSA or EC one under Ed25519's.
   */
  readonly keyType?: 'ec' | 'rsa' | 'ed25519';
  /** Broken or unsupported for verification. */
  readonly refused?: string;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmInfo>> = {
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', keyType: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', keyType: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', keyType: 'ec', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', keyType: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', keyType: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', keyType: 'rsa', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', keyType: 'ed25519', hash: null },
  '1.3.101.113': { name: 'Ed448', hash: null, refused: 'Ed448 is not supported' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', hash: null, refused: 'RSASSA-PSS signatures are not supported' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: null, refused: 'SHA-1 signatures are refused (collisions are practical)' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: null, refused: 'SHA-1 signatures are refused (collisions are practical)' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: null, refused: 'MD5 signatures are refused' },
  '1.2.840.10040.4.3': { name: 'dsa-with-SHA1', hash: null, refused: 'DSA signatures are refused' },
};

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
