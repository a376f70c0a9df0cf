/**
 * The TLS record layer (RFC 8446 §5.1, RFC 5246 §6.2.1) as bytes captured from a server: split a stream into
 * records. Pure; the capture itself is tls-probe.ts's.
 */

/** Record content types (RFC 8446 §5.1). */
export const ContentType = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;

/** A TLSCiphertext.length may be at most 2^14 + 256 (RFC 8446 §5.2); anything larger is not TLS. */
const MAX_RECORD_LENGTH = 16384 + 256;

export interface TlsRecord {
  readonly type: number;
  /** The 5-byte header: the additional data of a TLS 1.3 AEAD record (RFC 8446 §5.2). */
  readonly header: Uint8Array;
  readonly fragment: Uint8Array;
}

/**
 * Every whole record at the start of `bytes`, in order; a record cut off at the end (the capture stopped
 * mid-record) is left out. Throws on a header that is not TLS (a plain-text server, a broken capture).
 */
export function splitRecords(bytes: Uint8Array): TlsRecord[] {
  const records: TlsRecord[] = [];
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const type = bytes[offset]!;
    const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    if (type < 20 || type > 24 || bytes[offset + 1] !== 3 || length > MAX_RECORD_LENGTH) {
      throw new Error(`not a TLS record at byte ${offset} (type ${type}, length ${length})`);
    }
    if (offset + 5 + length > bytes.length) break;
    records.push({ type, header: bytes.subarray(offset, offset + 5), fragment: bytes.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return records;
}
