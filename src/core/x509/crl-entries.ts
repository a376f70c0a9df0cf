/**
 * The revokedCertificates list of a CRL (RFC 5280 §5.1.2.6), encoded in place into one growing buffer: the
 * hot loop of a 100,000-entry CRL. core/x509/crl.ts builds the rest of the CertificateList around it.
 */
import { octetString, oid, sequence, tlv } from '../der/writer.js';
import { DerTag } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { revocationReasonCodes, type RevocationReason } from './revocation-reason.js';

/** One revoked certificate. */
export interface CrlEntry {
  /** Serial as hex digits (no colons); leading zeros are not significant. */
  readonly serialHex: string;
  /** A Date, or the ISO 8601 UTC text Date#toISOString writes (as the inventory stores it; no Date per entry). */
  readonly revokedAt: Date | string;
  /** Omitted from the CRL when absent or `unspecified` (RFC 5280 §5.3.1: SHOULD be absent). */
  readonly reason?: RevocationReason | undefined;
}

const OID_REASON_CODE = '2.5.29.21';

/** RFC 5280 §4.1.2.2 and §5.2.3: serials and CRL numbers are at most 20 content octets. */
export const MAX_INTEGER_OCTETS = 20;

/** RFC 5280 Extension: SEQUENCE { extnID, critical DEFAULT FALSE (omitted), extnValue OCTET STRING }. */
export const extension = (id: string, value: Uint8Array): Buffer => sequence(oid(id), octetString(value));

/** crlEntryExtensions holding just reasonCode, prebuilt once per reason: they repeat in every entry. */
const reasonExtensions = new Map<RevocationReason, Buffer>(
  (Object.entries(revocationReasonCodes) as [RevocationReason, number][])
    .filter(([reason]) => reason !== 'unspecified')
    .map(([reason, code]) => [reason, sequence(extension(OID_REASON_CODE, tlv(DerTag.enumerated, Buffer.from([code]))))]),
);

const HEX_SERIAL = /^[0-9A-Fa-f]+$/;

/**
 * Serial hex → minimal magnitude hex (even length, lowercase, no leading zero octets) plus whether
 * INTEGER needs a 0x00 sign octet. Refuses what RFC 5280 §4.1.2.2 forbids a conforming CA to issue.
 */
function normalizeSerial(serialHex: string): { hex: string; signOctet: boolean } {
  if (typeof serialHex !== 'string' || !HEX_SERIAL.test(serialHex)) {
    throw new PkiError('ERR_INVALID_SERIAL', `serial "${String(serialHex)}" is not hex digits`, {
      hint: 'give the serial as hex without colons, e.g. 4F1A09',
    });
  }
  let first = 0;
  while (first < serialHex.length - 1 && serialHex.charCodeAt(first) === 0x30) first++;
  let hex = serialHex.slice(first).toLowerCase();
  if (hex.length % 2) hex = `0${hex}`;
  const signOctet = hex.charCodeAt(0) >= 0x38; // '8'…'f': high bit set
  if (hex.length / 2 + (signOctet ? 1 : 0) > MAX_INTEGER_OCTETS) {
    throw new PkiError('ERR_INVALID_SERIAL', `serial ${serialHex} is longer than ${MAX_INTEGER_OCTETS} octets`);
  }
  return { hex, signOctet };
}

export function checkDate(date: Date, what: string): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new PkiError('ERR_INVALID_TIME', `${what} is not a valid date`);
  }
}

/** Largest revoked entry: SEQUENCE header, 22-octet INTEGER, 17-octet GeneralizedTime, reasonCode extensions. */
const MAX_ENTRY_OCTETS = 2 + 22 + 17 + 64;

/** A buffer being filled: the content so far is `out[start, end)`. */
export interface Filled {
  out: Buffer;
  start: number;
  end: number;
}

/** Makes room for `more` octets after `f.end`, keeping `f.start` octets of headroom before the content. */
function reserve(f: Filled, more: number): void {
  if (f.end + more <= f.out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(f.out.length * 2, f.end + more));
  f.out.copy(grown, f.start, f.start, f.end);
  f.out = grown;
}

/**
 * Encodes the revokedCertificates entries straight into one growing buffer, after `headroom` octets left
 * free for what precedes them in the CRL. This is the hot loop of a 100,000-entry CRL: a TLV-per-buffer
 * writer spends most of its time allocating and collecting small Buffers, so entries are written in place
 * (same bytes as `sequence(integer, time, extensions)`).
 */
export function encodeRevokedCertificates(entries: Iterable<CrlEntry>, headroom: number): Filled {
  const f: Filled = { out: Buffer.allocUnsafe(headroom + 256 * 1024), start: headroom, end: headroom };
  const seen = new Set<string>();
  for (const entry of entries) {
    const { hex, signOctet } = normalizeSerial(entry.serialHex);
    if (seen.has(hex)) throw new PkiError('ERR_INVALID_SERIAL', `serial ${entry.serialHex} is listed twice`);
    seen.add(hex);
    const revokedAt = entry.revokedAt;
    if (typeof revokedAt !== 'string') checkDate(revokedAt, `revocation date of serial ${entry.serialHex}`);
    else if (!isIsoUtc(revokedAt)) throw new PkiError('ERR_INVALID_TIME', `revocation date of serial ${entry.serialHex} is not a valid date`);
    let reasonExtension: Buffer | undefined;
    if (entry.reason !== undefined && entry.reason !== 'unspecified') {
      reasonExtension = reasonExtensions.get(entry.reason);
      if (reasonExtension === undefined) {
        throw new PkiError('ERR_INVALID_OPTION', `unknown revocation reason "${String(entry.reason)}"`, {
          hint: `use one of: ${Object.keys(revocationReasonCodes).join(', ')}`,
        });
      }
    }
    reserve(f, MAX_ENTRY_OCTETS);
    const out = f.out;
    const used = f.end;
    const serialLength = hex.length / 2 + (signOctet ? 1 : 0);
    const timeLength = typeof revokedAt === 'string' ? writeIsoTime(out, used + 4 + serialLength, revokedAt) : writeTime(out, used + 4 + serialLength, revokedAt);
    const contentLength = 2 + serialLength + timeLength + (reasonExtension?.length ?? 0);
    // Every entry is shorter than 128 octets (MAX_ENTRY_OCTETS), so lengths take the one-octet form.
    out[used] = 0x30;
    out[used + 1] = contentLength;
    out[used + 2] = DerTag.integer;
    out[used + 3] = serialLength;
    let at = used + 4;
    if (signOctet) out[at++] = 0;
    // A byte loop beats Buffer#write and Buffer#copy here: each of those is a native call per entry.
    for (let i = 0; i < hex.length; i += 2) out[at++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
    at += timeLength;
    if (reasonExtension) for (let i = 0; i < reasonExtension.length; i++) out[at++] = reasonExtension[i]!;
    f.end = at;
  }
  return f;
}

/** Puts `bytes` right before the content (into the headroom). */
export function prepend(f: Filled, ...parts: Uint8Array[]): void {
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    if (part.length > f.start) throw new Error('CRL encoder: headroom exhausted');
    f.start -= part.length;
    f.out.set(part, f.start);
  }
}

/** Puts `bytes` after the content. */
export function append(f: Filled, ...parts: Uint8Array[]): void {
  for (const part of parts) {
    reserve(f, part.length);
    f.out.set(part, f.end);
    f.end += part.length;
  }
}

/**
 * Writes `time(date)` at `offset` without allocating; returns the octets written. Same rules as der.ts:
 * UTCTime through 2049, GeneralizedTime from 2050, whole seconds, "Z".
 */
function writeTime(out: Buffer, offset: number, date: Date): number {
  const year = date.getUTCFullYear();
  const utc = year >= 1950 && year < 2050;
  if (!utc && (year < 0 || year > 9999)) {
    throw new PkiError('ERR_INVALID_TIME', `${date.toISOString()} cannot be encoded as an X.509 time`);
  }
  let at = offset + 2;
  if (!utc) at = writeTwoDigits(out, at, Math.floor(year / 100));
  at = writeTwoDigits(out, at, year % 100);
  at = writeTwoDigits(out, at, date.getUTCMonth() + 1);
  at = writeTwoDigits(out, at, date.getUTCDate());
  at = writeTwoDigits(out, at, date.getUTCHours());
  at = writeTwoDigits(out, at, date.getUTCMinutes());
  at = writeTwoDigits(out, at, date.getUTCSeconds());
  out[at++] = 0x5a; // 'Z'
  out[offset] = utc ? DerTag.utcTime : DerTag.generalizedTime;
  out[offset + 1] = at - offset - 2;
  return at - offset;
}

/** Date#toISOString's form for years 0000–9999 (the fraction is dropped: X.509 times are whole seconds). */
const ISO_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;

/** ISO_UTC, and a day that exists in its month (the 29th to the 31st are checked with a Date). */
function isIsoUtc(iso: string): boolean {
  if (!ISO_UTC.test(iso)) return false;
  const day = (iso.charCodeAt(8) - 0x30) * 10 + (iso.charCodeAt(9) - 0x30);
  return day <= 28 || new Date(iso).toISOString().slice(0, 19) === iso.slice(0, 19);
}

/** writeTime for ISO text already checked by isIsoUtc: the digits are copied, with the same UTCTime/GeneralizedTime rule. */
function writeIsoTime(out: Buffer, offset: number, iso: string): number {
  const year = (iso.charCodeAt(0) - 0x30) * 1000 + (iso.charCodeAt(1) - 0x30) * 100 + (iso.charCodeAt(2) - 0x30) * 10 + (iso.charCodeAt(3) - 0x30);
  const utc = year >= 1950 && year < 2050;
  let at = offset + 2;
  // YYYY-MM-DDTHH:MM:SS → [YY]YYMMDDHHMMSS
  for (const i of utc ? ISO_DIGITS_UTC : ISO_DIGITS_GENERALIZED) out[at++] = iso.charCodeAt(i);
  out[at++] = 0x5a; // 'Z'
  out[offset] = utc ? DerTag.utcTime : DerTag.generalizedTime;
  out[offset + 1] = at - offset - 2;
  return at - offset;
}
const ISO_DIGITS_UTC = [2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const ISO_DIGITS_GENERALIZED = [0, 1, ...ISO_DIGITS_UTC];

function writeTwoDigits(out: Buffer, at: number, n: number): number {
  out[at] = 0x30 + Math.floor(n / 10);
  out[at + 1] = 0x30 + (n % 10);
  return at + 2;
}

/** Value of a hex digit already checked by HEX_SERIAL. */
function nibble(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}

