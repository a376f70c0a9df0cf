/**
 * OCSP CertID (RFC 6960 §4.1.1): which issuer a request is about, as hashes of the issuer's name and key,
 * plus the serial. A responder knows the issuers it answers for and matches the hashes a client sent.
 *
 * SHA-1 appears here only as a CertID hash algorithm: RFC 6960 §4.3 requires responders to accept SHA-1
 * CertIDs, and OpenSSL, nginx and most clients send them by default. The hash only names the issuer
 * (a collision would only make a client ask about another CA's certificate); pki never signs or verifies
 * anything with SHA-1.
 */
import { createHash } from 'node:crypto';
import { childrenOf, DerTag, expectTag, readBitString, readRootTlv } from '../der/reader.js';

/** The CertID hash algorithms a responder accepts: SHA-1 (RFC 6960 §4.3, what clients send), SHA-2. */
export const CERT_ID_HASHES: Readonly<Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** One issuer's name and key hashes under each accepted algorithm, keyed by the algorithm OID. */
export type IssuerHashes = ReadonlyMap<string, { readonly nameHash: Buffer; readonly keyHash: Buffer }>;

/**
 * The hashes for an issuer: of its subject Name DER, and of the value of its subjectPublicKey BIT STRING
 * (no tag, length or unused-bits octet), RFC 6960 §4.1.1.
 */
export function issuerHashes(subjectDer: Uint8Array, spkiDer: Uint8Array): IssuerHashes {
  const parts = childrenOf(spkiDer, expectTag(readRootTlv(spkiDer), DerTag.sequence, 'SubjectPublicKeyInfo'));
  const key = readBitString(spkiDer, parts[1]!).bytes;
  const out = new Map<string, { nameHash: Buffer; keyHash: Buffer }>();
  for (const [oid, hash] of Object.entries(CERT_ID_HASHES)) {
    out.set(oid, { nameHash: createHash(hash).update(subjectDer).digest(), keyHash: createHash(hash).update(key).digest() });
  }
  return out;
}

/** A CertID as a request carried it. */
export interface CertId {
  /** The whole CertID TLV as sent: a response echoes it byte for byte (clients compare CertIDs). */
  readonly der: Uint8Array;
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** Upper-case hex without leading zeros, the inventory's form; a negative serial keeps its `-`. */
  readonly serial: string;
}

/** True when the CertID names the issuer whose hashes are given (under an accepted algorithm). */
export function certIdMatches(id: CertId, issuer: IssuerHashes): boolean {
  const h = issuer.get(id.hashAlgorithm);
  return h !== undefined && h.nameHash.equals(id.issuerNameHash) && h.keyHash.equals(id.issuerKeyHash);
}
