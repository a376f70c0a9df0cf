/**
 * The server's handshake messages pki reads (RFC 8446 §4, RFC 5246 §7.4): ServerHello (version and cipher
 * suite), Certificate (the chain exactly as presented) and CertificateRequest (the CA names the server
 * accepts client certificates from). Pure: bytes in, values out; a malformed message throws.
 */

export const HandshakeType = {
  serverHello: 2,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  finished: 20,
  certificateStatus: 22,
} as const;

/** Protocol versions on the wire (RFC 8446 §4.2.1). */
export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

const EXT_SUPPORTED_VERSIONS = 43;
const EXT_CERTIFICATE_AUTHORITIES = 47;

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Uint8Array;
}

/** A cursor over a handshake body: reads fixed and length-prefixed fields, refusing to run past the end. */
class Reader {
  offset = 0;
  readonly bytes: Uint8Array;
  readonly what: string;
  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
  }

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  uint(size: 1 | 2 | 3): number {
    if (this.offset + size > this.bytes.length) throw new Error(`${this.what}: truncated`);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.bytes[this.offset + i]!;
    this.offset += size;
    return value;
  }

  bytesOf(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new Error(`${this.what}: truncated`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** A vector with a `size`-byte length prefix (RFC 8446 §3.4). */
  vector(size: 1 | 2 | 3): Uint8Array {
    return this.bytesOf(this.uint(size));
  }
}

/** The whole handshake messages at the start of a handshake byte stream (records already joined), and what is left. */
export function splitHandshakeMessages(stream: Uint8Array): { messages: HandshakeMessage[]; rest: Uint8Array } {
  const messages: HandshakeMessage[] = [];
  let offset = 0;
  while (offset + 4 <= stream.length) {
    const length = (stream[offset + 1]! << 16) | (stream[offset + 2]! << 8) | stream[offset + 3]!;
    if (offset + 4 + length > stream.length) break;
    messages.push({ type: stream[offset]!, body: stream.subarray(offset + 4, offset + 4 + length) });
    offset += 4 + length;
  }
  return { messages, rest: stream.subarray(offset) };
}

/** The extensions block of a message: type → data. */
function readExtensions(r: Reader): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const block = new Reader(r.vector(2), `${r.what} extensions`);
  while (!block.done) {
    const type = block.uint(2);
    out.set(type, block.vector(2));
  }
  return out;
}

/** SHA-256 of "HelloRetryRequest" (RFC 8446 §4.1.3): a ServerHello carrying this random is a retry request. */
const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export interface ServerHello {
  /** The negotiated version: supported_versions when present (TLS 1.3), else legacy_version. */
  readonly version: number;
  readonly cipherSuite: number;
  readonly helloRetryRequest: boolean;
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const legacyVersion = r.uint(2);
  const random = r.bytesOf(32);
  r.vector(1); // legacy_session_id_echo
  const cipherSuite = r.uint(2);
  r.uint(1); // legacy_compression_method
  const extensions = r.done ? new Map<number, Uint8Array>() : readExtensions(r);
  const selected = extensions.get(EXT_SUPPORTED_VERSIONS);
  const version = selected && selected.length === 2 ? (selected[0]! << 8) | selected[1]! : legacyVersion;
  return { version, cipherSuite, helloRetryRequest: Buffer.from(random).equals(HELLO_RETRY_RANDOM) };
}

/** The DER certificates of a Certificate message, in the order sent (leaf first, as RFC 8446 §4.4.2 asks). */
export function parseCertificateMessage(body: Uint8Array, version: number): Uint8Array[] {
  const r = new Reader(body, 'Certificate');
  if (version >= TLS13) r.vector(1); // certificate_request_context
  const list = new Reader(r.vector(3), 'Certificate list');
  const out: Uint8Array[] = [];
  while (!list.done) {
    out.push(list.vector(3));
    if (version >= TLS13) list.vector(2); // per-entry extensions (OCSP, SCT): Node reports the stapled OCSP
  }
  return out;
}

/**
 * The DER distinguished names of a CertificateRequest's certificate_authorities: the list field of TLS 1.2
 * (RFC 5246 §7.4.4) or extension 47 of TLS 1.3 (RFC 8446 §4.2.4). Empty when the server names none (any CA).
 */
export function parseCertificateRequest(body: Uint8Array, version: number): Uint8Array[] {
  const r = new Reader(body, 'CertificateRequest');
  let authorities: Uint8Array | undefined;
  if (version >= TLS13) {
    r.vector(1); // certificate_request_context
    authorities = readExtensions(r).get(EXT_CERTIFICATE_AUTHORITIES);
    if (authorities) authorities = new Reader(authorities, 'certificate_authorities').vector(2);
  } else {
    r.vector(1); // certificate_types
    if (version >= TLS12) r.vector(2); // supported_signature_algorithms
    authorities = r.vector(2);
  }
  const names: Uint8Array[] = [];
  if (!authorities) return names;
  const list = new Reader(authorities, 'certificate_authorities');
  while (!list.done) names.push(list.vector(2));
  return names;
}
