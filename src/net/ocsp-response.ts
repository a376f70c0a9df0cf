/**
 * A stapled OCSP response (RFC 6960 §4.2.1) summarised for display: the response status and, for the
 * single response about the leaf (by serial; else the first), good / revoked / unknown with its times.
 * Shown, not trusted: pki does not check the responder's signature (the verdict stays path validation's).
 */
import { childrenOf, readEnumerated, readIntegerHex, readOctetString, readOid, readRootTlv, readTime, type DerElement } from '../core/der/reader.js';

export interface OcspSummary {
  /** responseStatus: `successful`, `tryLater`, `unauthorized`, … */
  readonly responseStatus: string;
  /** good / revoked / unknown; null when the response carries no answer (not `successful`, or not basic). */
  readonly certStatus: 'good' | 'revoked' | 'unknown' | null;
  /** Serial of the certificate the answer is about (upper-case hex). */
  readonly serial: string | null;
  readonly producedAt: string | null;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly revokedAt: string | null;
}

const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused 4)', 'sigRequired', 'unauthorized'];
const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

interface Single {
  readonly serial: string;
  readonly certStatus: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate: string;
  readonly nextUpdate: string | null;
  readonly revokedAt: string | null;
}

function readSingle(der: Uint8Array, el: DerElement): Single {
  const [certId, status, thisUpdate, ...rest] = childrenOf(der, el);
  const serial = readIntegerHex(der, childrenOf(der, certId!)[3]!);
  const certStatus = status!.tag === 0x80 ? 'good' : status!.tag === 0xa1 ? 'revoked' : 'unknown';
  const revokedAt = certStatus === 'revoked' ? iso(readTime(der, childrenOf(der, status!)[0]!)) : null;
  const next = rest.find((e) => e.tag === 0xa0);
  return { serial, certStatus, thisUpdate: iso(readTime(der, thisUpdate!)), nextUpdate: next ? iso(readTime(der, childrenOf(der, next)[0]!)) : null, revokedAt };
}

/** Throws on a response that is not DER of the shape above. `leafSerial` picks the answer about the leaf. */
export function summariseOcspResponse(der: Uint8Array, leafSerial: string | undefined): OcspSummary {
  const root = readRootTlv(der);
  const [statusEl, bytesEl] = childrenOf(der, root);
  const responseStatus = RESPONSE_STATUS[readEnumerated(der, statusEl!)] ?? 'unknown';
  const empty = { certStatus: null, serial: null, producedAt: null, thisUpdate: null, nextUpdate: null, revokedAt: null };
  if (!bytesEl) return { responseStatus, ...empty };
  const [typeEl, responseEl] = childrenOf(der, childrenOf(der, bytesEl)[0]!);
  if (readOid(der, typeEl!) !== OCSP_BASIC) return { responseStatus, ...empty };
  const basic = readOctetString(der, responseEl!);
  const tbs = childrenOf(basic, readRootTlv(basic))[0]!;
  const fields = childrenOf(basic, tbs).filter((e) => e.tag !== 0xa0); // version [0] is optional
  const producedAt = iso(readTime(basic, fields[1]!));
  const singles = childrenOf(basic, fields[2]!).map((e) => readSingle(basic, e));
  const single = singles.find((s) => s.serial === leafSerial) ?? singles[0];
  if (!single) return { responseStatus, ...empty, producedAt };
  return { responseStatus, producedAt, ...single };
}

