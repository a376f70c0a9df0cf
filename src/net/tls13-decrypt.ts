/**
 * Reading the server's encrypted TLS 1.3 handshake (RFC 8446 §5.2, §7.1, §7.3) with the server handshake
 * traffic secret Node reports on the 'keylog' event: derive the record key and IV with HKDF-Expand-Label
 * and open each record (AES-GCM or ChaCha20-Poly1305, nonce = IV XOR sequence number). Pure.
 */
import { createDecipheriv, createHmac, type CipherGCMTypes } from 'node:crypto';

interface SuiteParameters {
  readonly hash: 'sha256' | 'sha384';
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  readonly keyLength: number;
}

/** The TLS 1.3 cipher suites (RFC 8446 §B.4) OpenSSL offers by default; the CCM ones are not decrypted. */
const SUITES: ReadonlyMap<number, SuiteParameters> = new Map([
  [0x1301, { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16 }],
  [0x1302, { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32 }],
  [0x1303, { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32 }],
]);

const IV_LENGTH = 12;
const TAG_LENGTH = 16;

/** HKDF-Expand (RFC 5869 §2.3). */
function hkdfExpand(hash: string, secret: Uint8Array, info: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    previous = createHmac(hash, secret).update(previous).update(info).update(Buffer.from([i])).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 §7.1): HkdfLabel = length, "tls13 " + label, context. */
export function hkdfExpandLabel(hash: string, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context]);
  return hkdfExpand(hash, secret, info, length);
}

export interface RecordKeys {
  readonly cipher: SuiteParameters['cipher'];
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** The write key and IV of a traffic secret (RFC 8446 §7.3); undefined for a suite pki does not decrypt. */
export function trafficKeys(cipherSuite: number, secret: Uint8Array): RecordKeys | undefined {
  const suite = SUITES.get(cipherSuite);
  if (!suite) return undefined;
  return {
    cipher: suite.cipher,
    key: hkdfExpandLabel(suite.hash, secret, 'key', new Uint8Array(0), suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', new Uint8Array(0), IV_LENGTH),
  };
}

/** The per-record nonce: the IV XOR the 64-bit sequence number, left-padded (RFC 8446 §5.3). */
function nonceFor(iv: Buffer, sequence: number): Buffer {
  const nonce = Buffer.from(iv);
  const seq = Buffer.alloc(IV_LENGTH);
  seq.writeBigUInt64BE(BigInt(sequence), IV_LENGTH - 8);
  for (let i = 0; i < IV_LENGTH; i++) nonce[i]! ^= seq[i]!;
  return nonce;
}

export interface InnerPlaintext {
  /** The real content type (TLSInnerPlaintext.type), e.g. 22 handshake, 21 alert. */
  readonly type: number;
  readonly content: Uint8Array;
}

/** Opens one TLSCiphertext record (header = its 5 header bytes, the AEAD's additional data). Throws when the tag does not verify. */
export function openRecord(keys: RecordKeys, sequence: number, header: Uint8Array, fragment: Uint8Array): InnerPlaintext {
  if (fragment.length < TAG_LENGTH + 1) throw new Error('encrypted record shorter than its tag');
  // Typed as GCM: ChaCha20-Poly1305 has the same AEAD interface (setAAD, setAuthTag) in Node.
  const decipher = createDecipheriv(keys.cipher as CipherGCMTypes, keys.key, nonceFor(keys.iv, sequence), { authTagLength: TAG_LENGTH });
  decipher.setAAD(header, { plaintextLength: fragment.length - TAG_LENGTH });
  decipher.setAuthTag(fragment.subarray(fragment.length - TAG_LENGTH));
  const plain = Buffer.concat([decipher.update(fragment.subarray(0, fragment.length - TAG_LENGTH)), decipher.final()]);
  // TLSInnerPlaintext: content, then the type byte, then zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (end < 0) throw new Error('encrypted record holds no content type');
  return { type: plain[end]!, content: plain.subarray(0, end) };
}
