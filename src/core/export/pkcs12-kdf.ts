/**
 * The PKCS#12 key derivation (RFC 7292 appendix B.2) that the integrity MAC and the PKCS#12 PBE schemes
 * (pbeWithSHAAnd3-KeyTripleDES-CBC) use; PBES2 bags use PBKDF2 instead. OpenSSL 3 derives the SHA-256 MAC
 * key with it as well (RFC 7292 names only SHA-1; every peer follows OpenSSL's extension).
 */
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';

export type Pkcs12Hash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** ID byte of appendix B.3: what the derived bytes are for. */
export const KdfPurpose = { key: 1, iv: 2, mac: 3 } as const;

const BLOCK_BYTES: Record<Pkcs12Hash, number> = { sha1: 64, sha256: 64, sha384: 128, sha512: 128 };
const OUTPUT_BYTES: Record<Pkcs12Hash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/**
 * The password as appendix B.1 wants it: a BMPString (UTF-16BE) with two zero bytes at the end. The
 * password arrives as UTF-8; bytes that are not UTF-8 are taken as Latin-1, as OpenSSL does.
 */
export function bmpPassword(utf8: Uint8Array): Buffer {
  const bytes = Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength);
  let text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) text = bytes.toString('latin1');
  const out = Buffer.alloc(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

/** `v`-byte multiple of `data` repeated (appendix B.2 step 2 and 3); empty stays empty. */
function stretch(data: Uint8Array, v: number): Buffer {
  const out = Buffer.alloc(v * Math.ceil(data.length / v));
  for (let i = 0; i < out.length; i++) out[i] = data[i % data.length]!;
  return out;
}

/** crypto.hash (Node 20.12+) is a third faster than createHash per call, and the MAC loop is 600,000 calls. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

function iterate(hash: Pkcs12Hash, input: Buffer, iterations: number): Buffer {
  let a: Buffer = createHash(hash).update(input).digest();
  if (oneShot) for (let i = 1; i < iterations; i++) a = oneShot(hash, a, 'buffer');
  else for (let i = 1; i < iterations; i++) a = createHash(hash).update(a).digest();
  return a;
}

/** `length` bytes for `purpose` from the BMP password (bmpPassword), salt and iteration count. */
export function pkcs12Kdf(hash: Pkcs12Hash, purpose: number, password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Buffer {
  const v = BLOCK_BYTES[hash];
  const u = OUTPUT_BYTES[hash];
  const d = Buffer.alloc(v, purpose);
  const i = Buffer.concat([stretch(salt, v), stretch(password, v)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    const a = iterate(hash, Buffer.concat([d, i]), iterations);
    out.push(a);
    if (produced + u >= length) break;
    // Step 6C: each v-byte block of I becomes (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes.
    const b = stretch(a, v);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}
