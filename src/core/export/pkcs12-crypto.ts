/**
 * The ciphers and the MAC of PKCS#12 files, both ways: PBES2 (RFC 8018) and the PKCS#12 PBE schemes of
 * RFC 7292 appendix C for bags, and the password MAC of RFC 7292 §5. Writing uses PBES2 (modern) or
 * pbeWithSHAAnd3-KeyTripleDES-CBC (legacy); reading takes whatever OpenSSL, Java and GnuTLS write except
 * RC4 and 2-key 3DES (nobody writes those), RC2 with the decryption of pkcs12-rc2.ts.
 */
import { createDecipheriv, createCipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { childrenOf, DerTag, readIntegerBigInt, readOctetString, readOid, type DerElement } from '../der/reader.js';
import { algorithmIdentifier, integer, octetString, sequence } from '../der/writer.js';
import { PkiError } from '../errors.js';
import { pbes2Encrypt } from '../keys/encryption.js';
import { bmpPassword, KdfPurpose, pkcs12Kdf, type Pkcs12Hash } from './pkcs12-kdf.js';
import { rc2CbcDecrypt } from './pkcs12-rc2.js';

export const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
export const OID_PBE_SHA1_3DES = '1.2.840.113549.1.12.1.3';

/** How a bag or a SafeContents is encrypted, as `pki inspect` reports it (OpenSSL's names). */
export interface Pkcs12Encryption {
  readonly scheme: string;
  readonly kdf: string | null;
  readonly prf: string | null;
  readonly cipher: string;
  readonly iterations: number;
}

const PRF: Readonly<Record<string, { name: string; hash: string }>> = {
  '1.2.840.113549.2.7': { name: 'hmacWithSHA1', hash: 'sha1' },
  '1.2.840.113549.2.8': { name: 'hmacWithSHA224', hash: 'sha224' },
  '1.2.840.113549.2.9': { name: 'hmacWithSHA256', hash: 'sha256' },
  '1.2.840.113549.2.10': { name: 'hmacWithSHA384', hash: 'sha384' },
  '1.2.840.113549.2.11': { name: 'hmacWithSHA512', hash: 'sha512' },
};
const PBES2_CIPHER: Readonly<Record<string, { name: string; node: string; keyBytes: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'AES-128-CBC', node: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'AES-192-CBC', node: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'AES-256-CBC', node: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { name: 'DES-EDE3-CBC', node: 'des-ede3-cbc', keyBytes: 24 },
};
/** RFC 7292 appendix C; of Node's ciphers only 3DES; RC2 by pkcs12-rc2.ts (`openssl -legacy` files). */
const PKCS12_PBE: Readonly<Record<string, { name: string; node: string | null; keyBytes: number; ivBytes: number }>> = {
  '1.2.840.113549.1.12.1.1': { name: 'pbeWithSHA1And128BitRC4', node: null, keyBytes: 16, ivBytes: 0 },
  '1.2.840.113549.1.12.1.2': { name: 'pbeWithSHA1And40BitRC4', node: null, keyBytes: 5, ivBytes: 0 },
  [OID_PBE_SHA1_3DES]: { name: 'pbeWithSHA1And3-KeyTripleDES-CBC', node: 'des-ede3-cbc', keyBytes: 24, ivBytes: 8 },
  '1.2.840.113549.1.12.1.4': { name: 'pbeWithSHA1And2-KeyTripleDES-CBC', node: null, keyBytes: 16, ivBytes: 8 },
  '1.2.840.113549.1.12.1.5': { name: 'pbeWithSHA1And128BitRC2-CBC', node: 'rc2', keyBytes: 16, ivBytes: 8 },
  '1.2.840.113549.1.12.1.6': { name: 'pbeWithSHA1And40BitRC2-CBC', node: 'rc2', keyBytes: 5, ivBytes: 8 },
};

export interface BagCipherOptions {
  readonly password: Uint8Array;
  readonly iterations: number;
  readonly legacy: boolean;
}

/** Encrypts bag or SafeContents bytes: AlgorithmIdentifier DER and ciphertext. */
export async function encryptForPkcs12(plain: Uint8Array, o: BagCipherOptions): Promise<{ algorithm: Buffer; ciphertext: Buffer }> {
  if (!o.legacy) return pbes2Encrypt(plain, { passphrase: o.password, iterations: o.iterations });
  const salt = randomBytes(16);
  const bmp = bmpPassword(o.password);
  const key = pkcs12Kdf('sha1', KdfPurpose.key, bmp, salt, o.iterations, 24);
  const iv = pkcs12Kdf('sha1', KdfPurpose.iv, bmp, salt, o.iterations, 8);
  const cipher = createCipheriv('des-ede3-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  key.fill(0);
  bmp.fill(0);
  return { algorithm: algorithmIdentifier(OID_PBE_SHA1_3DES, sequence(octetString(salt), integer(o.iterations))), ciphertext };
}

const malformed = (what: string) => new PkiError('ERR_MALFORMED_DER', `PKCS#12: ${what}`, { hint: 'the file is damaged or not PKCS#12' });
const need = (el: DerElement | undefined, tag: number, what: string): DerElement => {
  if (el?.tag !== tag) throw malformed(`${what} is missing`);
  return el;
};
/**
 * Java's PKCS12KeyStore limit: a hostile file naming a billion iterations would otherwise keep `pki inspect`
 * busy for hours (the MAC loop runs in JavaScript).
 */
export const MAX_PKCS12_ITERATIONS = 5_000_000;

export function iterationCount(der: Uint8Array, el: DerElement, what: string): number {
  const n = readIntegerBigInt(der, el);
  if (n < 1n || n > BigInt(MAX_PKCS12_ITERATIONS)) {
    throw new PkiError('ERR_MALFORMED_DER', `PKCS#12: ${what} ${n} is outside 1..${MAX_PKCS12_ITERATIONS}`, { hint: 'pki, like Java, reads files of at most 5,000,000 iterations' });
  }
  return Number(n);
}
const smallInt = iterationCount;

/** The encryption an AlgorithmIdentifier names, without decrypting (the report shows it either way). */
export function describeEncryption(der: Uint8Array, alg: DerElement): Pkcs12Encryption {
  const [oidEl, params] = childrenOf(der, alg);
  const oid = readOid(der, need(oidEl, DerTag.objectIdentifier, 'encryption algorithm'));
  const pbe = PKCS12_PBE[oid];
  if (pbe) {
    const [, iterEl] = childrenOf(der, need(params, DerTag.sequence, 'PBE parameters'));
    return { scheme: pbe.name, kdf: null, prf: null, cipher: pbe.name.replace(/^pbeWithSHA1And/, ''), iterations: smallInt(der, need(iterEl, DerTag.integer, 'iteration count'), 'iteration count') };
  }
  if (oid !== OID_PBES2) return { scheme: oid, kdf: null, prf: null, cipher: oid, iterations: 0 };
  const p = pbes2Parameters(der, need(params, DerTag.sequence, 'PBES2 parameters'));
  return { scheme: 'PBES2', kdf: 'PBKDF2', prf: p.prf.name, cipher: p.cipher?.name ?? p.cipherOid, iterations: p.iterations };
}

function pbes2Parameters(der: Uint8Array, params: DerElement) {
  const [kdf, scheme] = childrenOf(der, params);
  const [kdfOid, kdfParams] = childrenOf(der, need(kdf, DerTag.sequence, 'PBES2 key derivation'));
  if (readOid(der, need(kdfOid, DerTag.objectIdentifier, 'PBES2 KDF')) !== OID_PBKDF2) throw new PkiError('ERR_UNSUPPORTED_KEY', 'PKCS#12: a PBES2 key derivation other than PBKDF2', { hint: 'pki reads PBKDF2-based PKCS#12 files' });
  const fields = childrenOf(der, need(kdfParams, DerTag.sequence, 'PBKDF2 parameters'));
  const salt = readOctetString(der, need(fields[0], DerTag.octetString, 'PBKDF2 salt'));
  const iterations = smallInt(der, need(fields[1], DerTag.integer, 'PBKDF2 iteration count'), 'PBKDF2 iteration count');
  const prfEl = fields.slice(2).find((f) => f.tag === DerTag.sequence);
  const prfOid = prfEl ? readOid(der, need(childrenOf(der, prfEl)[0], DerTag.objectIdentifier, 'PBKDF2 PRF')) : '1.2.840.113549.2.7';
  const prf = PRF[prfOid] ?? { name: prfOid, hash: '' };
  const [cipherOidEl, ivEl] = childrenOf(der, need(scheme, DerTag.sequence, 'PBES2 encryption scheme'));
  const cipherOid = readOid(der, need(cipherOidEl, DerTag.objectIdentifier, 'PBES2 cipher'));
  const iv = ivEl?.tag === DerTag.octetString ? readOctetString(der, ivEl) : new Uint8Array();
  return { salt, iterations, prf, cipherOid, cipher: PBES2_CIPHER[cipherOid], iv };
}

function unsupported(name: string): PkiError {
  return new PkiError('ERR_UNSUPPORTED_KEY', `PKCS#12: ${name} is not available (OpenSSL 3 keeps it in its legacy provider)`, {
    hint: 'convert the file: openssl pkcs12 -legacy -in OLD.p12 -nodes | openssl pkcs12 -export -out NEW.p12',
  });
}

/** Decrypts with the scheme `alg` names; a padding failure is a wrong password (ERR_BAD_PASSWORD). */
export function decryptForPkcs12(der: Uint8Array, alg: DerElement, ciphertext: Uint8Array, password: Uint8Array): Buffer {
  const [oidEl, params] = childrenOf(der, alg);
  const oid = readOid(der, need(oidEl, DerTag.objectIdentifier, 'encryption algorithm'));
  let node: string;
  let key: Buffer;
  let iv: Uint8Array;
  const pbe = PKCS12_PBE[oid];
  if (pbe) {
    if (!pbe.node) throw unsupported(pbe.name);
    const [saltEl, iterEl] = childrenOf(der, need(params, DerTag.sequence, 'PBE parameters'));
    const salt = readOctetString(der, need(saltEl, DerTag.octetString, 'PBE salt'));
    const iterations = smallInt(der, need(iterEl, DerTag.integer, 'iteration count'), 'iteration count');
    const bmp = bmpPassword(password);
    key = pkcs12Kdf('sha1', KdfPurpose.key, bmp, salt, iterations, pbe.keyBytes);
    iv = pkcs12Kdf('sha1', KdfPurpose.iv, bmp, salt, iterations, pbe.ivBytes);
    bmp.fill(0);
    node = pbe.node;
  } else if (oid === OID_PBES2) {
    const p = pbes2Parameters(der, need(params, DerTag.sequence, 'PBES2 parameters'));
    if (!p.cipher || !p.prf.hash) throw unsupported(p.cipher ? p.prf.name : p.cipherOid);
    key = pbkdf2Sync(password, p.salt, p.iterations, p.cipher.keyBytes, p.prf.hash);
    iv = p.iv;
    node = p.cipher.node;
  } else {
    throw unsupported(oid);
  }
  try {
    if (node === 'rc2') {
      const plain = rc2CbcDecrypt(key, key.length * 8, iv, ciphertext);
      if (!plain) throw badPassword('a bag does not decrypt');
      return plain;
    }
    const decipher = createDecipheriv(node, key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw badPassword('a bag does not decrypt');
  } finally {
    key.fill(0);
  }
}

export function badPassword(what: string): PkiError {
  return new PkiError('ERR_BAD_PASSWORD', `PKCS#12: ${what}: wrong password, or the file was altered`, {
    hint: 'check the password (--password-file, PKI_P12_PASSWORD); a file that was edited must be exported again',
  });
}

const MAC_HASH: Readonly<Record<string, Pkcs12Hash>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
export const MAC_OID: Readonly<Record<'sha1' | 'sha256', string>> = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' };
const MAC_BYTES: Record<Pkcs12Hash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function macHashOf(oid: string): Pkcs12Hash | undefined {
  return MAC_HASH[oid];
}

/** RFC 7292 §5: the MAC key, from the PKCS#12 KDF (purpose 3); it depends on the password, salt and count only. */
export function pkcs12MacKey(hash: Pkcs12Hash, password: Uint8Array, salt: Uint8Array, iterations: number): Buffer {
  const bmp = bmpPassword(password);
  const key = pkcs12Kdf(hash, KdfPurpose.mac, bmp, salt, iterations, MAC_BYTES[hash]);
  bmp.fill(0);
  return key;
}

/** RFC 7292 §5: HMAC over the AuthenticatedSafe with the key from pkcs12MacKey (the key is wiped). */
export function pkcs12MacWithKey(hash: Pkcs12Hash, key: Buffer, data: Uint8Array): Buffer {
  const mac = createHmac(hash, key).update(data).digest();
  key.fill(0);
  return mac;
}

/** RFC 7292 §5: HMAC over the AuthenticatedSafe with a key from the PKCS#12 KDF (purpose 3). */
export function pkcs12Mac(hash: Pkcs12Hash, password: Uint8Array, salt: Uint8Array, iterations: number, data: Uint8Array): Buffer {
  return pkcs12MacWithKey(hash, pkcs12MacKey(hash, password, salt, iterations), data);
}

export function macMatches(expected: Uint8Array, actual: Uint8Array): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
