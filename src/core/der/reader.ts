/**
 * A minimal, strict, bounded DER reader (X.690 §8 and §10) for what pki parses in bulk: CRLs with
 * 100,000 entries, and the few certificate fields a CRL needs.
 *
 * Why our own: @peculiar/x509's parser refuses inputs with more than 10,000 ASN.1 nodes, and asn1js
 * builds an object graph per node. This reader returns plain offsets into the caller's buffer, so
 * every read is O(1) and a walk over the whole input is linear.
 *
 * Strict means DER, not BER: definite minimal lengths of at most 4 octets, single-octet tags, and no
 * element running past its parent. Nothing here recurses; `checkDerStructure` walks with an explicit
 * stack bounded by `MAX_DER_DEPTH`. Every failure is PkiError('ERR_MALFORMED_DER').
 */
import { PkiError } from '../errors.js';

/** One TLV: offsets into the buffer it was read from. */
export interface DerElement {
  /** The identifier octet, e.g. 0x30 for SEQUENCE, 0xa0 for [0] constructed. */
  readonly tag: number;
  /** Tag plus length octets. */
  readonly headerLength: number;
  /** Content length. */
  readonly length: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset just past the content. */
  readonly end: number;
}

/** Universal tags pki reads (X.680 §8.4), as identifier octets. */
export const DerTag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/**
 * Deepest nesting `checkDerStructure` accepts. A CRL needs 6 levels (CertificateList › TBSCertList ›
 * revokedCertificates › entry › crlEntryExtensions › Extension) and a certificate about 8; 32 leaves
 * room for odd names and policies while stopping nesting bombs.
 */
export const MAX_DER_DEPTH = 32;

/** Lengths need at most 4 octets: no input pki reads is anywhere near 4 GiB. */
const MAX_LENGTH_OCTETS = 4;

function malformed(message: string): PkiError {
  return new PkiError('ERR_MALFORMED_DER', message, {
    hint: 'the input is not valid DER; check that the file is complete and not PEM or BER',
  });
}

const hexTag = (tag: number): string => `0x${tag.toString(16).padStart(2, '0')}`;

/**
 * Reads the TLV whose identifier octet is at `offset`. `limit` is the end of the enclosing element
 * (default: the buffer), so a child can never claim bytes outside its parent.
 */
export function readTlv(der: Uint8Array, offset: number, limit: number = der.length): DerElement {
  const packed = readHeader(der, offset, limit);
  const headerLength = packed % 8;
  const end = (packed - headerLength) / 8;
  return { tag: der[offset]!, headerLength, length: end - offset - headerLength, start: offset, end };
}

/**
 * The checks behind `readTlv`, returning `end * 8 + headerLength` (headerLength ≤ 6, end < 2^33, so
 * exact in a double) instead of an object: `checkDerStructure` visits every node of a 100,000-entry
 * CRL, and an object per node is most of its cost.
 */
function readHeader(der: Uint8Array, offset: number, limit: number): number {
  if (offset >= limit) throw malformed(`expected an element at offset ${offset}, found the end of its container`);
  const tag = der[offset]!;
  // High-tag-number form (X.690 §8.1.2.4) appears nowhere in X.509; refusing it keeps tags one octet.
  if ((tag & 0x1f) === 0x1f) throw malformed(`multi-octet tag at offset ${offset} is not supported`);
  if (offset + 1 >= limit) throw malformed(`element at offset ${offset} is truncated: no length octet`);
  const first = der[offset + 1]!;
  let length: number;
  let headerLength: number;
  if (first < 0x80) {
    length = first;
    headerLength = 2;
  } else if (first === 0x80) {
    throw malformed(`indefinite length at offset ${offset} is BER, not DER`);
  } else {
    const count = first & 0x7f;
    if (count > MAX_LENGTH_OCTETS) {
      throw malformed(`length of the element at offset ${offset} uses ${count} octets (at most ${MAX_LENGTH_OCTETS})`);
    }
    if (offset + 2 + count > limit) throw malformed(`length octets of the element at offset ${offset} are truncated`);
    if (der[offset + 2] === 0) throw malformed(`length at offset ${offset} has a leading zero octet (not minimal)`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[offset + 2 + i]!;
    if (length < 0x80) throw malformed(`length ${length} at offset ${offset} uses the long form (not minimal)`);
    headerLength = 2 + count;
  }
  const end = offset + headerLength + length;
  if (end > limit) {
    throw malformed(`element at offset ${offset} claims ${length} content octets but its container ends at ${limit}`);
  }
  return end * 8 + headerLength;
}

/** Reads the single element that must fill `der` exactly (no trailing bytes). */
export function readRootTlv(der: Uint8Array): DerElement {
  const root = readTlv(der, 0);
  if (root.end !== der.length) throw malformed(`${der.length - root.end} trailing bytes after the DER element`);
  return root;
}

/** Offset of the first content octet. */
export const contentStart = (el: DerElement): number => el.start + el.headerLength;

/** The content octets, as a view (no copy). */
export function contentOf(der: Uint8Array, el: DerElement): Uint8Array {
  return der.subarray(el.start + el.headerLength, el.end);
}

/** The whole TLV, as a view (no copy). */
export function encodingOf(der: Uint8Array, el: DerElement): Uint8Array {
  return der.subarray(el.start, el.end);
}

/** Throws ERR_MALFORMED_DER unless `el` has identifier octet `tag`; `what` names the field for the message. */
export function expectTag(el: DerElement, tag: number, what: string): DerElement {
  if (el.tag !== tag) throw malformed(`${what}: expected tag ${hexTag(tag)} at offset ${el.start}, found ${hexTag(el.tag)}`);
  return el;
}

/** The children of a constructed element, in order. Linear in the number of children. */
export function childrenOf(der: Uint8Array, parent: DerElement): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw malformed(`element at offset ${parent.start} is primitive and has no children`);
  const children: DerElement[] = [];
  for (let offset = parent.start + parent.headerLength; offset < parent.end; ) {
    const child = readTlv(der, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/**
 * Walks the whole tree once, without recursion, and throws unless `der` is exactly one element whose
 * constructed descendants tile their parents exactly and nest at most `maxDepth` deep. Primitive
 * contents (OCTET STRING-wrapped extension values) are not entered; read those with `readRootTlv`.
 */
export function checkDerStructure(der: Uint8Array, maxDepth: number = MAX_DER_DEPTH): void {
  readRootTlv(der);
  // Ends of the open constructed elements; the buffer itself is the sentinel at the bottom.
  const ends: number[] = [der.length];
  let offset = 0;
  for (;;) {
    while (ends.length > 0 && offset === ends[ends.length - 1]) ends.pop();
    if (ends.length === 0) return;
    const packed = readHeader(der, offset, ends[ends.length - 1]!);
    const headerLength = packed % 8;
    if ((der[offset]! & 0x20) !== 0) {
      if (ends.length > maxDepth) throw malformed(`elements nest deeper than ${maxDepth} levels at offset ${offset}`);
      ends.push((packed - headerLength) / 8);
      offset += headerLength;
    } else {
      offset = (packed - headerLength) / 8;
    }
  }
}

function integerContent(der: Uint8Array, el: DerElement, tag: number, what: string): Uint8Array {
  expectTag(el, tag, what);
  const c = contentOf(der, el);
  if (c.length === 0) throw malformed(`${what} at offset ${el.start} is empty`);
  if (c.length > 1 && ((c[0] === 0 && c[1]! < 0x80) || (c[0] === 0xff && c[1]! >= 0x80))) {
    throw malformed(`${what} at offset ${el.start} has a redundant leading octet (not minimal)`);
  }
  return c;
}

const HEX_OCTETS = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Uppercase hex. A table loop: serials are short, and a Buffer per serial costs more than the digits. */
function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX_OCTETS[bytes[i]!];
  return hex;
}

/**
 * An INTEGER as uppercase hex without colons, the way serials are shown: the sign octet is dropped
 * (`00 80` → `80`) and negative values (seen in old certificates) get a leading `-`.
 */
export function readIntegerHex(der: Uint8Array, el: DerElement): string {
  const c = integerContent(der, el, DerTag.integer, 'INTEGER');
  if (c[0]! & 0x80) {
    const magnitude = (1n << BigInt(8 * c.length)) - BigInt(`0x${toHex(c)}`);
    let hex = magnitude.toString(16).toUpperCase();
    if (hex.length % 2) hex = `0${hex}`;
    return `-${hex}`;
  }
  return toHex(c.length > 1 && c[0] === 0 ? c.subarray(1) : c);
}

/** An INTEGER as a bigint (CRL numbers may be up to 20 octets, past Number's range). */
export function readIntegerBigInt(der: Uint8Array, el: DerElement): bigint {
  const c = integerContent(der, el, DerTag.integer, 'INTEGER');
  const unsigned = BigInt(`0x${toHex(c)}`);
  return c[0]! & 0x80 ? unsigned - (1n << BigInt(8 * c.length)) : unsigned;
}

/** An ENUMERATED (e.g. CRLReason) as a number; refuses values beyond 32 bits. */
export function readEnumerated(der: Uint8Array, el: DerElement): number {
  const c = integerContent(der, el, DerTag.enumerated, 'ENUMERATED');
  if (c.length > 4) throw malformed(`ENUMERATED at offset ${el.start} is ${c.length} octets long`);
  return c[0]! & 0x80 ? unsignedOf(c) - 2 ** (8 * c.length) : unsignedOf(c);
}

function unsignedOf(c: Uint8Array): number {
  let value = 0;
  for (const byte of c) value = value * 256 + byte;
  return value;
}

/** A BOOLEAN; DER allows only 0x00 and 0xff (X.690 §11.1). */
export function readBoolean(der: Uint8Array, el: DerElement): boolean {
  expectTag(el, DerTag.boolean, 'BOOLEAN');
  const c = contentOf(der, el);
  if (c.length !== 1 || (c[0] !== 0 && c[0] !== 0xff)) throw malformed(`BOOLEAN at offset ${el.start} is not 00 or FF`);
  return c[0] === 0xff;
}

/** An OBJECT IDENTIFIER as dotted text, e.g. `2.5.29.20`. */
export function readOid(der: Uint8Array, el: DerElement): string {
  expectTag(el, DerTag.objectIdentifier, 'OBJECT IDENTIFIER');
  const c = contentOf(der, el);
  if (c.length === 0) throw malformed(`OBJECT IDENTIFIER at offset ${el.start} is empty`);
  const arcs: string[] = [];
  let value = 0;
  let big: bigint | undefined; // only for arcs past 2^53, which real OIDs (UUID arcs) can have
  let fresh = true;
  for (let i = 0; i < c.length; i++) {
    const byte = c[i]!;
    if (fresh && byte === 0x80) throw malformed(`OBJECT IDENTIFIER at offset ${el.start} has a non-minimal arc`);
    fresh = false;
    if (big !== undefined) big = big * 128n + BigInt(byte & 0x7f);
    else if (value > 2 ** 45) big = BigInt(value) * 128n + BigInt(byte & 0x7f);
    else value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        // The first subidentifier packs two arcs (X.690 §8.19.4).
        const v = big ?? BigInt(value);
        const first = v < 40n ? 0n : v < 80n ? 1n : 2n;
        arcs.push(first.toString(), (v - first * 40n).toString());
      } else {
        arcs.push(big !== undefined ? big.toString() : String(value));
      }
      value = 0;
      big = undefined;
      fresh = true;
    }
  }
  if (!fresh) throw malformed(`OBJECT IDENTIFIER at offset ${el.start} ends inside an arc`);
  return arcs.join('.');
}

function digitsAt(c: Uint8Array, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = c[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * A UTCTime or GeneralizedTime in the only forms RFC 5280 §4.1.2.5 allows: `YYMMDDHHMMSSZ` and
 * `YYYYMMDDHHMMSSZ`. UTCTime years 50–99 are 1950–1999 (RFC 5280 §4.1.2.5.1).
 */
export function readTime(der: Uint8Array, el: DerElement): Date {
  const c = contentOf(der, el);
  let year: number;
  let rest: number;
  if (el.tag === DerTag.utcTime && c.length === 13) {
    const yy = digitsAt(c, 0, 2);
    year = yy < 0 ? -1 : yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = 2;
  } else if (el.tag === DerTag.generalizedTime && c.length === 15) {
    year = digitsAt(c, 0, 4);
    rest = 4;
  } else {
    throw malformed(`time at offset ${el.start} is not a UTCTime or GeneralizedTime of the form RFC 5280 requires`);
  }
  const month = digitsAt(c, rest, 2);
  const day = digitsAt(c, rest + 2, 2);
  const hour = digitsAt(c, rest + 4, 2);
  const minute = digitsAt(c, rest + 6, 2);
  const second = digitsAt(c, rest + 8, 2);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  const valid =
    year >= 0 && month >= 1 && day >= 1 && hour >= 0 && minute >= 0 && second >= 0 && c[c.length - 1] === 0x5a &&
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  if (!valid) throw malformed(`time at offset ${el.start} is not a valid UTC date and time`);
  return date;
}

/** A BIT STRING: the count of unused trailing bits and the content octets after that count. */
export function readBitString(der: Uint8Array, el: DerElement): { unusedBits: number; bytes: Uint8Array } {
  expectTag(el, DerTag.bitString, 'BIT STRING');
  const c = contentOf(der, el);
  if (c.length === 0) throw malformed(`BIT STRING at offset ${el.start} has no unused-bits octet`);
  const unusedBits = c[0]!;
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) {
    throw malformed(`BIT STRING at offset ${el.start} declares ${unusedBits} unused bits`);
  }
  // DER: the unused bits must be zero (X.690 §11.2.1).
  if (unusedBits > 0 && (c[c.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    throw malformed(`BIT STRING at offset ${el.start} has non-zero unused bits`);
  }
  return { unusedBits, bytes: c.subarray(1) };
}

/** An OCTET STRING's content, as a view (no copy). */
export function readOctetString(der: Uint8Array, el: DerElement): Uint8Array {
  expectTag(el, DerTag.octetString, 'OCTET STRING');
  return contentOf(der, el);
}
