/**
 * Signature algorithm OIDs pki recognises, and verification of signed structures (CSRs, certificates,
 * CRLs) with Node's native crypto. SHA-1 and MD5 signatures are named, so reports can show them, but
 * never verified as acceptable: collisions are practical (SHAttered, 2017).
 */
import { verify, type KeyObject } from 'node:crypto';
import { PkiError } from './errors.js';

interface AlgorithmInfo {
  readonly name: string;
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** Broken or unsupported for verification. */
  readonly refused?: string;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmInfo>> = {
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', hash: null },
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

/**
 * Verifies `signature` over `data`. Throws ERR_POLICY for refused algorithms (SHA-1, MD5, DSA, PSS);
 * returns false for a signature that does not verify.
 */
export function verifySignature(algorithmOid: string, data: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  const info = ALGORITHMS[algorithmOid];
  if (!info) throw new PkiError('ERR_POLICY', `unknown signature algorithm ${algorithmOid}`);
  if (info.refused) throw new PkiError('ERR_POLICY', info.refused, { hint: 're-create the request with SHA-256 or better' });
  try {
    return verify(info.hash, data, publicKey, signature);
  } catch {
    // Node throws for key/algorithm mismatches (an EC signature claimed for an RSA key): not valid.
    return false;
  }
}
