/**
 * Private and public keys → typed report: algorithm, size or curve, whether encrypted (and how), and the
 * public-key fingerprint. Never the secret itself.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { childrenOf, DerTag, expectTag, readIntegerBigInt, readOid, readRootTlv, type DerElement } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { describeKey, publicKeyFingerprint, type KeyDescription } from '../keys/keys.js';

export interface KeyReport {
  readonly type: 'privateKey' | 'publicKey';
  /** null for an encrypted private key: its algorithm is inside the ciphertext. */
  readonly key: KeyDescription | null;
  readonly encrypted: boolean;
  readonly encryption: { readonly scheme: string; readonly kdf: string; readonly iterations: number | null; readonly cipher: string } | null;
  /** SHA-256 of the SubjectPublicKeyInfo, hex; null while encrypted. */
  readonly publicKeyFingerprintSha256: string | null;
}

const OID_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.5.13': 'PBES2',
  '1.2.840.113549.1.5.12': 'PBKDF2',
  '1.3.6.1.4.1.11591.4.11': 'scrypt',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
};

const name = (oid: string) => OID_NAMES[oid] ?? oid;

function reportKeyObject(type: KeyReport['type'], key: KeyObject): KeyReport {
  return { type, key: describeKey(key), encrypted: false, encryption: null, publicKeyFingerprintSha256: publicKeyFingerprint(key).toUpperCase() };
}

/** `el`, or ERR_MALFORMED_KEY naming the missing field (a truncated AlgorithmIdentifier is not a crash). */
function present(el: DerElement | undefined, what: string): DerElement {
  if (el === undefined) throw new PkiError('ERR_MALFORMED_KEY', `encrypted private key has no ${what}`);
  return el;
}

/** Reads the PBES2 parameters of an EncryptedPrivateKeyInfo without decrypting it. */
function reportEncryptedKey(der: Uint8Array): KeyReport {
  const root = expectTag(readRootTlv(der), DerTag.sequence, 'EncryptedPrivateKeyInfo');
  const [algEl] = childrenOf(der, root);
  if (!algEl) throw new PkiError('ERR_MALFORMED_KEY', 'encrypted private key has no algorithm');
  const [schemeEl, paramsEl] = childrenOf(der, expectTag(algEl, DerTag.sequence, 'encryptionAlgorithm'));
  const scheme = name(readOid(der, present(schemeEl, 'encryption scheme')));
  let kdf = '?';
  let cipher = '?';
  let iterations: number | null = null;
  if (scheme === 'PBES2' && paramsEl) {
    const [kdfEl, encEl] = childrenOf(der, expectTag(paramsEl, DerTag.sequence, 'PBES2-params'));
    const [kdfOid, kdfParams] = childrenOf(der, present(kdfEl, 'key derivation function'));
    kdf = name(readOid(der, present(kdfOid, 'key derivation algorithm')));
    if (kdf === 'PBKDF2' && kdfParams) {
      const p = childrenOf(der, kdfParams);
      if (p[1]?.tag === DerTag.integer) iterations = Number(readIntegerBigInt(der, p[1]));
    }
    cipher = name(readOid(der, present(childrenOf(der, present(encEl, 'encryption scheme'))[0], 'cipher')));
  }
  return { type: 'privateKey', key: null, encrypted: true, encryption: { scheme, kdf, iterations, cipher }, publicKeyFingerprintSha256: null };
}

/** Inspects a PEM block or DER key by its label: PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC/RSA PRIVATE KEY, PUBLIC KEY. */
export function inspectKey(label: string, der: Uint8Array): KeyReport {
  if (label === 'ENCRYPTED PRIVATE KEY') return reportEncryptedKey(der);
  try {
    if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') {
      const key = createPublicKey({ key: Buffer.from(der), format: 'der', type: label === 'PUBLIC KEY' ? 'spki' : 'pkcs1' });
      return reportKeyObject('publicKey', key);
    }
    const type = label === 'RSA PRIVATE KEY' ? 'pkcs1' : label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
    return reportKeyObject('privateKey', createPrivateKey({ key: Buffer.from(der), format: 'der', type }));
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('ERR_MALFORMED_KEY', `the ${label.toLowerCase()} could not be read (damaged or truncated)`);
  }
}
