/**
 * A lean DER writer (X.690) for the structures pki builds in bulk or that no library encodes for us:
 * PBES2-encrypted PKCS#8, large CRLs. Hand-written because @peculiar/asn1-schema rebuilds object graphs
 * per element (quadratic for a 100,000-entry CRL); this one only concatenates buffers.
 */

/** Encodes a definite length (X.690 §8.1.3). */
export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag byte. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat(items));
export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
export const bitString = (bytes: Uint8Array, unusedBits = 0): Buffer =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
/** [n] EXPLICIT wrapper (constructed, context-specific). */
export const explicit = (n: number, content: Uint8Array): Buffer => tlv(0xa0 | n, content);
export const enumerated = (value: number): Buffer => tlv(0x0a, minimalUnsigned(BigInt(value)));

/** INTEGER from non-negative magnitude bytes (big-endian); adds the 0x00 sign octet when needed. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = trimmed.length === 0 || (trimmed[0]! & 0x80) !== 0;
  return tlv(0x02, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** INTEGER from a non-negative number or bigint. */
export function integer(value: number | bigint): Buffer {
  return unsignedInteger(minimalUnsigned(BigInt(value)));
}

function minimalUnsigned(value: bigint): Buffer {
  if (value < 0n) throw new RangeError('negative INTEGER is not supported');
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const bytes = Buffer.from(hex, 'hex');
  return bytes.length > 0 && (bytes[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** OBJECT IDENTIFIER from dotted text, e.g. `2.5.29.20`. Results are cached: OIDs repeat a lot. */
const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const body: number[] = [];
  const pushBase128 = (v: bigint) => {
    const out = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) out.unshift(Number(v & 0x7fn) | 0x80);
    body.push(...out);
  };
  pushBase128(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) pushBase128(arc);
  const encoded = tlv(0x06, Buffer.from(body));
  oidCache.set(dotted, encoded);
  return encoded;
}

/**
 * RFC 5280 §4.1.2.5 time: UTCTime through 2049, GeneralizedTime from 2050, always whole seconds in UTC
 * ("Z"). Sub-second precision is dropped on purpose: RFC 5280 forbids fractional seconds.
 */
export function time(date: Date): Buffer {
  const iso = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const year = date.getUTCFullYear();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // YYYYMMDDHHMMSS
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(digits.slice(2) + 'Z', 'latin1'));
  return tlv(0x18, Buffer.from(digits + 'Z', 'latin1'));
}

/** AlgorithmIdentifier with an optional parameters element. */
export function algorithmIdentifier(algorithm: string, parameters?: Uint8Array): Buffer {
  return parameters ? sequence(oid(algorithm), parameters) : sequence(oid(algorithm));
}
