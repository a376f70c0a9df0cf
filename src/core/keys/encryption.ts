/**
 * Encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018): PBKDF2-HMAC-SHA256 and
 * AES-256-CBC. Written by hand because Node's own encrypted export fixes PBKDF2 at 2,048 iterations,
 * far below OWASP's 600,000 for PBKDF2-HMAC-SHA256 (2023). Decryption goes through Node/OpenSSL, which
 * reads any PBES2 parameters; `openssl pkey -passin` reads what this writes.
 */
import { createCipheriv, pbkdf2, randomBytes, type KeyObject } from 'node:crypto';
import { algorithmIdentifier, integer, nullValue, octetString, sequence } from '../der/writer.js';
import { decodePem, encodePem, looksLikePem, PemLabel } from '../der/pem.js';
import { childrenOf, DerTag, readRootTlv } from '../der/reader.js';
import { PkiError } from '../errors.js';

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';

/** OWASP Password Storage Cheat Sheet (2023) for PBKDF2-HMAC-SHA256. */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;

export interface KeyEncryptionOptions {
  readonly passphrase: Uint8Array;
  readonly iterations?: number;
  /** Pinned only by tests; fresh random bytes otherwise. */
  readonly salt?: Uint8Array;
  readonly iv?: Uint8Array;
}

function deriveKey(passphrase: Uint8Array, salt: Uint8Array, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(passphrase, salt, iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * PBES2 encryption of any bytes: the AlgorithmIdentifier DER (PBES2 with PBKDF2-HMAC-SHA256 and
 * AES-256-CBC) and the ciphertext. Encrypted PKCS#8 and the PKCS#12 bags (core/export/pkcs12.ts) share it.
 */
export async function pbes2Encrypt(plain: Uint8Array, options: KeyEncryptionOptions): Promise<{ algorithm: Buffer; ciphertext: Buffer }> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const salt = options.salt ?? randomBytes(16);
  const iv = options.iv ?? randomBytes(16);
  const aesKey = await deriveKey(options.passphrase, salt, iterations);
  const cipher = createCipheriv('aes-256-cbc', aesKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  aesKey.fill(0);
  const kdf = algorithmIdentifier(
    OID_PBKDF2,
    sequence(octetString(salt), integer(iterations), algorithmIdentifier(OID_HMAC_SHA256, nullValue())),
  );
  const scheme = algorithmIdentifier(OID_AES256_CBC, octetString(iv));
  return { algorithm: algorithmIdentifier(OID_PBES2, sequence(kdf, scheme)), ciphertext };
}

/** EncryptedPrivateKeyInfo DER for a private key. */
export async function encryptPrivateKey(privateKey: KeyObject, options: KeyEncryptionOptions): Promise<Buffer> {
  const plain = privateKey.export({ type: 'pkcs8', format: 'der' });
  const { algorithm, ciphertext } = await pbes2Encrypt(plain, options);
  plain.fill(0);
  return sequence(algorithm, octetString(ciphertext));
}

/** `-----BEGIN ENCRYPTED PRIVATE KEY-----` PEM for a private key. */
export async function encryptPrivateKeyPem(privateKey: KeyObject, options: KeyEncryptionOptions): Promise<string> {
  return encodePem(PemLabel.encryptedPrivateKey, await encryptPrivateKey(privateKey, options));
}

/** A traditional OpenSSL PEM key with RFC 1421 encryption headers. */
const LEGACY_ENCRYPTED_KEY = /-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----\r?\nProc-Type: 4,ENCRYPTED\r?\n/;

/**
 * True when a private key file is encrypted (PKCS#8, or OpenSSL's traditional Proc-Type form), decided from its structure: a PEM block labelled
 * `ENCRYPTED PRIVATE KEY`, or DER whose outer SEQUENCE opens with an AlgorithmIdentifier (a SEQUENCE:
 * EncryptedPrivateKeyInfo) where a plain PrivateKeyInfo, PKCS#1 or SEC1 key opens with its INTEGER
 * version. Text that is not well-formed PEM or DER is "not encrypted": importing it then says what is wrong.
 */
export function isEncryptedPrivateKey(data: string | Uint8Array): boolean {
  try {
    if (typeof data === 'string' || looksLikePem(data)) {
      const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
      // OpenSSL's traditional encryption (`genrsa -traditional -aes256`, what OpenSSL 1.x genrsa wrote): Node decrypts it.
      if (LEGACY_ENCRYPTED_KEY.test(text)) return true;
      return decodePem(text).some((b) => b.label === PemLabel.encryptedPrivateKey);
    }
    const root = readRootTlv(data);
    if (root.tag !== DerTag.sequence) return false;
    return childrenOf(data, root)[0]?.tag === DerTag.sequence;
  } catch (e) {
    if (e instanceof PkiError) return false;
    throw e;
  }
}
