/**
 * OCSPRequest parsing (RFC 6960 §4.1.1), strict DER and bounded: the CertIDs asked about and the nonce
 * extension (RFC 8954), and the GET form's path (Appendix A.1). A signed request's signature is not
 * checked (pki serve does not require signed requests, RFC 6960 §4.1.2). Failures are PkiError
 * ERR_MALFORMED_DER; a responder answers them with `malformedRequest`.
 */
import { childrenOf, DerTag, encodingOf, expectTag, readBoolean, readIntegerHex, readOctetString, readOid, readRootTlv, readTlv, type DerElement } from '../der/reader.js';
import { PkiError } from '../errors.js';
import type { CertId } from './cert-id.js';

export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

/** Most CertIDs one request may carry (RFC 5019 §2.1.1 clients send one; OpenSSL can send several). */
export const MAX_REQUESTS = 32;

/** RFC 8954 §2.1: a responder must accept nonces of 16 to 32 octets and may ignore others; pki echoes 1–32. */
const MAX_NONCE_OCTETS = 32;

export interface OcspRequest {
  readonly certIds: readonly CertId[];
  /**
   * The nonce extension's extnValue content as sent (normally an OCTET STRING holding the nonce), echoed
   * byte for byte in the response; null when absent, or ignored for its length (RFC 8954 §2.1).
   */
  readonly nonce: Uint8Array | null;
}

function malformed(message: string): PkiError {
  return new PkiError('ERR_MALFORMED_DER', `not an OCSP request: ${message}`);
}

function parseCertId(der: Uint8Array, el: DerElement): CertId {
  const parts = childrenOf(der, expectTag(el, DerTag.sequence, 'CertID'));
  if (parts.length !== 4) throw malformed('a CertID has four fields');
  const alg = childrenOf(der, expectTag(parts[0]!, DerTag.sequence, 'hashAlgorithm'));
  if (alg.length < 1 || alg.length > 2 || (alg[1] && alg[1].tag !== DerTag.null)) throw malformed('hashAlgorithm parameters must be absent or NULL');
  return {
    der: encodingOf(der, el),
    hashAlgorithm: readOid(der, alg[0]!),
    issuerNameHash: readOctetString(der, parts[1]!),
    issuerKeyHash: readOctetString(der, parts[2]!),
    serial: normalizeHex(readIntegerHex(der, parts[3]!)),
  };
}

const normalizeHex = (hex: string): string => (hex.startsWith('-') ? hex : hex.replace(/^0+(?=.)/, ''));

/** The nonce's extnValue content from an Extensions SEQUENCE, or null. */
function findNonce(der: Uint8Array, extensions: DerElement): Uint8Array | null {
  for (const ext of childrenOf(der, expectTag(extensions, DerTag.sequence, 'Extensions'))) {
    const f = childrenOf(der, expectTag(ext, DerTag.sequence, 'Extension'));
    if (f.length < 2 || f.length > 3) throw malformed('an Extension has two or three fields');
    if (f.length === 3) readBoolean(der, f[1]!);
    if (readOid(der, f[0]!) !== OID_OCSP_NONCE) continue;
    const value = readOctetString(der, f[f.length - 1]!);
    let octets = value.length;
    if (value[0] === DerTag.octetString) {
      try {
        const inner = readRootTlv(value);
        octets = inner.length;
      } catch {
        // Not an OCTET STRING after all (pre-RFC 8954 clients sent the raw bytes): its length counts.
      }
    }
    return octets >= 1 && octets <= MAX_NONCE_OCTETS ? value : null;
  }
  return null;
}

/** Parses a DER OCSPRequest; throws ERR_MALFORMED_DER for anything else. */
export function parseOcspRequest(der: Uint8Array): OcspRequest {
  if (der.length === 0) throw malformed('empty');
  const root = childrenOf(der, expectTag(readRootTlv(der), DerTag.sequence, 'OCSPRequest'));
  if (root.length < 1 || root.length > 2 || (root[1] && root[1].tag !== 0xa0)) throw malformed('OCSPRequest is tbsRequest [optionalSignature]');
  const tbs = childrenOf(der, expectTag(root[0]!, DerTag.sequence, 'TBSRequest'));
  let i = 0;
  if (tbs[i]?.tag === 0xa0) {
    const version = childrenOf(der, tbs[i]!);
    if (version.length !== 1 || readIntegerHex(der, version[0]!) !== '00') throw malformed('only version 1 requests exist');
    i++;
  }
  if (tbs[i]?.tag === 0xa1) i++; // requestorName: not used
  const list = tbs[i++];
  if (!list) throw malformed('no requestList');
  const requests = childrenOf(der, expectTag(list, DerTag.sequence, 'requestList'));
  if (requests.length === 0) throw malformed('the requestList is empty');
  if (requests.length > MAX_REQUESTS) throw malformed(`more than ${MAX_REQUESTS} certificates in one request`);
  const certIds = requests.map((r) => {
    const f = childrenOf(der, expectTag(r, DerTag.sequence, 'Request'));
    if (f.length < 1 || f.length > 2 || (f[1] && f[1].tag !== 0xa0)) throw malformed('a Request is reqCert [singleRequestExtensions]');
    return parseCertId(der, f[0]!);
  });
  let nonce: Uint8Array | null = null;
  if (tbs[i]?.tag === 0xa2) {
    const ext = childrenOf(der, tbs[i]!);
    if (ext.length !== 1) throw malformed('requestExtensions holds one Extensions');
    nonce = findNonce(der, ext[0]!);
    i++;
  }
  if (i !== tbs.length) throw malformed('unexpected fields in TBSRequest');
  return { certIds, nonce };
}

/**
 * The DER of a GET request (RFC 6960 Appendix A.1): `rest` is the path after `/ocsp/`, the URL-encoded
 * base64 of the request. Accepts unescaped `/` and `+` (clients differ) and base64url; throws
 * ERR_MALFORMED_DER for anything else.
 */
export function decodeGetRequest(rest: string): Uint8Array {
  let text: string;
  try {
    text = decodeURIComponent(rest);
  } catch {
    throw malformed('the GET path is not URL-encoded');
  }
  text = text.replace(/\s/g, '');
  if (text.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw malformed('the GET path is not base64');
  const der = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  readTlv(der, 0); // the first TLV must at least be readable before the full parse
  return der;
}

