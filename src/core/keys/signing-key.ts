/**
 * What signs for a CA: a Node private KeyObject (a key file pki opened), or a key pki cannot hold, such as
 * one on a PKCS#11 token, reached through an `ExternalSigningKey`. Core only knows its public half and
 * that it signs synchronously (as crypto.sign does); store/pkcs11/ makes them. No I/O here.
 */
import { createPublicKey, KeyObject, sign } from 'node:crypto';
import { PkiError } from '../errors.js';

/** The hashes pki signs with; null for Ed25519, whose algorithm fixes its own. */
export type SignatureHash = 'sha256' | 'sha384' | 'sha512' | null;

/** How an ECDSA signature comes out: DER Ecdsa-Sig-Value (X.509, RFC 3279 §2.2.3) or r‖s (IEEE P1363, for SSH). */
export type DsaEncoding = 'der' | 'ieee-p1363';

/** A private key held outside the process: its public half, and a way to have it sign. */
export interface ExternalSigningKey {
  /** The public key, as certificates carry it and as its signatures verify. */
  readonly publicKey: KeyObject;
  /** Where the private key lives, for messages (a PKCS#11 URI without any PIN). */
  readonly description: string;
  /** The signature over `data` (not a digest: the key's side hashes, or is handed the hash it needs). */
  sign(hash: SignatureHash, data: Uint8Array, dsaEncoding: DsaEncoding): Buffer;
}

export type SigningKey = KeyObject | ExternalSigningKey;

export function isExternalSigningKey(key: SigningKey): key is ExternalSigningKey {
  return !(key instanceof KeyObject);
}

/** The public key of a signing key (a private KeyObject's public half, or the external key's). */
export function publicKeyOf(key: SigningKey): KeyObject {
  if (isExternalSigningKey(key)) return key.publicKey;
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** Signs `data` with either kind of key; ECDSA signatures in `dsaEncoding`. */
export function signData(hash: SignatureHash, data: Uint8Array, key: SigningKey, dsaEncoding: DsaEncoding = 'der'): Buffer {
  if (isExternalSigningKey(key)) return key.sign(hash, data, dsaEncoding);
  if (key.type !== 'private') throw new PkiError('ERR_UNSUPPORTED_KEY', `a ${key.type} key cannot sign`);
  return dsaEncoding === 'der' ? sign(hash, data, key) : sign(hash, data, { key, dsaEncoding });
}

/**
 * IEEE P1363 r‖s (what PKCS#11's CKM_ECDSA returns) → DER SEQUENCE { INTEGER r, INTEGER s }. Each half is
 * a fixed-width unsigned big-endian number: leading zeros dropped, a 0x00 put back when the top bit is set.
 */
export function ecdsaP1363ToDer(rs: Uint8Array): Buffer {
  if (rs.length === 0 || rs.length % 2 !== 0 || rs.length > 132) {
    throw new PkiError('ERR_MALFORMED_DER', `an ECDSA signature of ${rs.length} bytes is not r‖s`);
  }
  const integer = (half: Uint8Array): Buffer => {
    let i = 0;
    while (i < half.length - 1 && half[i] === 0) i++;
    const value = Buffer.from(half.subarray(i));
    const body = value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const width = rs.length / 2;
  const content = Buffer.concat([integer(rs.subarray(0, width)), integer(rs.subarray(width))]);
  // At most 2 × (2 + 67) = 138 octets (P-521): one long-form length octet covers it.
  const length = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([0x30]), length, content]);
}
