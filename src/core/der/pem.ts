/**
 * The only PEM encoder and decoder in pki (RFC 7468).
 *
 * Why our own: @peculiar/x509 labels CRLs `CRL` where RFC 7468 says `X509 CRL`, and its decoder overflows
 * the stack on multi-megabyte inputs (a 100,000-entry CRL). This one is linear and strict.
 */
import { PkiError } from '../errors.js';

export interface PemBlock {
  /** The label between `BEGIN ` and `-----`, e.g. `CERTIFICATE`, `X509 CRL`. */
  readonly label: string;
  readonly der: Uint8Array;
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]{1,64})-----/g;
// Each of these is linear: a class-star anchored at both ends, or bounded repetition. The former
// `^[…\s]*={0,2}[\s]*$` and multiline `^\s*[A-Za-z-]+:` backtracked quadratically over long runs of
// white space (a 50 KB body of newlines took seconds, a megabyte minutes).
const BASE64_TEXT = /^[A-Za-z0-9+/\r\n\t ]*$/;
const PADDING_TAIL = /^={1,2}[\r\n\t ]*$/;
const HEADER_LINE = /^[ \t]*[A-Za-z-]+:/;

/** True when the bytes look like PEM text (rather than DER). */
export function looksLikePem(data: Uint8Array): boolean {
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 4096)).toString('latin1');
  return head.includes('-----BEGIN ');
}

/**
 * Decodes every PEM block in `text`, in order. Text between blocks (openssl's "Certificate:" dumps,
 * comments) is ignored, as RFC 7468 allows. Throws ERR_MALFORMED_PEM for an unterminated block,
 * a mismatched END label, bad base64 or an empty body, and ERR_EMPTY_INPUT when there is no block.
 */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  let match: RegExpExecArray | null;
  let cursor = 0;
  while ((match = BEGIN.exec(text)) !== null) {
    if (match.index < cursor) continue;
    const label = match[1]!;
    const bodyStart = match.index + match[0].length;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, bodyStart);
    if (end < 0) {
      throw new PkiError('ERR_MALFORMED_PEM', `PEM block "${label}" has no matching END line (truncated file?)`);
    }
    const body = text.slice(bodyStart, end);
    if (body.includes('-----')) {
      throw new PkiError('ERR_MALFORMED_PEM', `PEM block "${label}" is not closed before the next block begins`);
    }
    // RFC 1421 encapsulated headers (Proc-Type: / DEK-Info:) mark legacy OpenSSL encryption.
    if (body.includes(':') && body.split('\n').some((line) => HEADER_LINE.test(line))) {
      throw new PkiError('ERR_MALFORMED_PEM', `PEM block "${label}" uses legacy encapsulated headers (e.g. DEK-Info)`, {
        hint: 'convert it to PKCS#8 first: openssl pkcs8 -topk8 -in FILE -out NEW',
      });
    }
    const pad = body.indexOf('=');
    if (!BASE64_TEXT.test(pad < 0 ? body : body.slice(0, pad)) || (pad >= 0 && !PADDING_TAIL.test(body.slice(pad)))) {
      throw new PkiError('ERR_MALFORMED_PEM', `PEM block "${label}" contains characters that are not base64`);
    }
    const compact = body.replace(/[\r\n\t ]/g, '');
    if (compact.length === 0 || compact.length % 4 === 1) {
      throw new PkiError('ERR_MALFORMED_PEM', `PEM block "${label}" has an empty or truncated body`);
    }
    const der = Buffer.from(compact, 'base64');
    blocks.push({ label, der: new Uint8Array(der.buffer, der.byteOffset, der.byteLength) });
    cursor = end + endMarker.length;
    BEGIN.lastIndex = cursor;
  }
  if (blocks.length === 0) {
    if (text.includes('-----END ')) throw new PkiError('ERR_MALFORMED_PEM', 'PEM END line without a BEGIN line');
    throw new PkiError('ERR_EMPTY_INPUT', 'no PEM block found');
  }
  return blocks;
}

/** Encodes DER as one PEM block with 64-column lines and a trailing newline. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * encodePem's text as bytes, written straight into one buffer: for a 5 MB CRL, building the string line by
 * line and encoding it again cost a tenth of `pki crl`.
 */
export function encodePemBytes(label: string, der: Uint8Array): Buffer {
  if (der.length === 0) return Buffer.from(encodePem(label, der), 'latin1');
  const b64 = Buffer.from(Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64'), 'latin1');
  const head = `-----BEGIN ${label}-----\n`;
  const tail = `-----END ${label}-----\n`;
  const out = Buffer.allocUnsafe(head.length + b64.length + Math.ceil(b64.length / 64) + tail.length);
  let at = out.write(head, 0, 'latin1');
  // A byte loop: Buffer#copy per 64-octet line is a native call each, 80 ms over a 100,000-entry CRL.
  for (let i = 0; i < b64.length; ) {
    const end = Math.min(i + 64, b64.length);
    while (i < end) out[at++] = b64[i++]!;
    out[at++] = 0x0a;
  }
  out.write(tail, at, 'latin1');
  return out;
}

/** PEM labels pki writes and reads (RFC 7468 §5–§11). */
export const PemLabel = {
  certificate: 'CERTIFICATE',
  csr: 'CERTIFICATE REQUEST',
  crl: 'X509 CRL',
  privateKey: 'PRIVATE KEY',
  encryptedPrivateKey: 'ENCRYPTED PRIVATE KEY',
  publicKey: 'PUBLIC KEY',
} as const;

/** The first block of `text` whose label is `label` (or one of `labels`), if any: how pki picks the certificate, CSR or CRL out of a file. */
export function findPemBlock(text: string, label: string | ReadonlySet<string>): PemBlock | undefined {
  const wanted = typeof label === 'string' ? (l: string) => l === label : (l: string) => label.has(l);
  return decodePem(text).find((b) => wanted(b.label));
}
