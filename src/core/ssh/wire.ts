/**
 * SSH wire encoding (RFC 4251 §5): the data types every OpenSSH key, certificate and KRL is made of.
 *
 * The reader is written for hostile input: every length is checked against the bytes that remain before
 * anything is sliced, so a forged 4 GiB length costs nothing and fails with ERR_MALFORMED_SSH instead of
 * a RangeError or an allocation. Slices are views (`subarray`), never copies.
 */
import { PkiError } from '../errors.js';

const UINT32_MAX = 0xffff_ffff;
export const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

/** `string`: uint32 length, then the bytes. Text is written as UTF-8. */
export function encodeSshString(value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > UINT32_MAX) throw new RangeError('SSH string longer than 2^32-1 bytes');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
}

export function encodeSshUint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}

export function encodeSshUint64(value: bigint): Buffer {
  if (value < 0n || value > UINT64_MAX) throw new RangeError(`uint64 out of range: ${value}`);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(value, 0);
  return out;
}

/**
 * `mpint` from an unsigned big-endian magnitude: leading zeros stripped, a 0x00 prefixed when the top bit
 * is set (so the value stays positive), zero encoded as the empty string.
 */
export function encodeSshMpint(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0) {
    return encodeSshString(Buffer.concat([Buffer.from([0]), trimmed]));
  }
  return encodeSshString(trimmed);
}

/** `name-list`: comma-separated names inside one string. */
export function encodeSshNameList(names: readonly string[]): Buffer {
  return encodeSshString(names.join(','));
}

/** A bounds-checked cursor over SSH wire data. `what` names the structure in error messages. */
export class SshReader {
  readonly #data: Uint8Array;
  readonly #what: string;
  #offset = 0;

  constructor(data: Uint8Array, what: string) {
    this.#data = data;
    this.#what = what;
  }

  /** Bytes consumed so far; lets callers slice the signed part of a certificate. */
  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#data.length - this.#offset;
  }

  readUint32(field: string): number {
    this.#need(4, field);
    const d = this.#data;
    const o = this.#offset;
    // `>>> 0` keeps the top bit from turning the value negative.
    const value = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
    this.#offset += 4;
    return value;
  }

  readUint64(field: string): bigint {
    const high = this.readUint32(field);
    const low = this.readUint32(field);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  readByte(field: string): number {
    this.#need(1, field);
    return this.#data[this.#offset++]!;
  }

  /** A `string` as raw bytes (a view into the input). */
  readString(field: string): Uint8Array {
    const length = this.readUint32(field);
    this.#need(length, field);
    const bytes = this.#data.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return bytes;
  }

  /** A `string` that must be valid UTF-8 text without NUL (names, key ids, principals). */
  readText(field: string): string {
    const bytes = this.readString(field);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw this.#malformed(`${field} is not valid UTF-8`);
    }
    if (text.includes('\0')) throw this.#malformed(`${field} contains a NUL byte`);
    return text;
  }

  /**
   * An `mpint` that must be non-negative, returned as its minimal unsigned magnitude. Negative values have
   * no meaning in keys or signatures, so they are malformed rather than supported.
   */
  readMpint(field: string): Uint8Array {
    const bytes = this.readString(field);
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) throw this.#malformed(`${field} is a negative mpint`);
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    return bytes.subarray(start);
  }

  readNameList(field: string): string[] {
    const text = this.readText(field);
    return text === '' ? [] : text.split(',');
  }

  /** Throws unless every byte was consumed: trailing data means we misread the structure. */
  expectEnd(): void {
    if (this.remaining !== 0) throw this.#malformed(`${this.remaining} unexpected trailing bytes`);
  }

  #need(length: number, field: string): void {
    if (length > this.remaining) {
      throw this.#malformed(`${field} needs ${length} bytes but only ${this.remaining} remain (truncated or corrupt)`);
    }
  }

  #malformed(detail: string): PkiError {
    return new PkiError('ERR_MALFORMED_SSH', `malformed ${this.#what}: ${detail}`);
  }
}
