/**
 * PKCS#12 (.p12/.pfx) is recognised, not read: the report says what the file is so an operator is not
 * told "not a certificate" about a keystore. Reading the bags (certificates, encrypted keys) comes later.
 */
import { childrenOf, DerTag, readIntegerBigInt, readOid, readRootTlv } from '../der/reader.js';

export interface Pkcs12Report {
  readonly type: 'pkcs12';
  readonly bytes: number;
  /** PFX macData present: the file is integrity-protected with a password. */
  readonly passwordMac: boolean;
  readonly supported: false;
}

const OID_PKCS7_DATA = '1.2.840.113549.1.7.1';
const OID_PKCS7_SIGNED_DATA = '1.2.840.113549.1.7.2';

/**
 * RFC 7292 §4: PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL },
 * ContentInfo being PKCS#7 data or signedData. Nothing else starts with INTEGER 3 then such a ContentInfo.
 */
export function looksLikePkcs12(der: Uint8Array): boolean {
  try {
    const root = readRootTlv(der);
    if (root.tag !== DerTag.sequence) return false;
    const [version, authSafe] = childrenOf(der, root);
    if (version?.tag !== DerTag.integer || readIntegerBigInt(der, version) !== 3n) return false;
    if (authSafe?.tag !== DerTag.sequence) return false;
    const [contentType] = childrenOf(der, authSafe);
    if (contentType?.tag !== DerTag.objectIdentifier) return false;
    const oid = readOid(der, contentType);
    return oid === OID_PKCS7_DATA || oid === OID_PKCS7_SIGNED_DATA;
  } catch {
    return false;
  }
}

export function inspectPkcs12(der: Uint8Array): Pkcs12Report {
  const children = childrenOf(der, readRootTlv(der));
  return { type: 'pkcs12', bytes: der.length, passwordMac: children.length >= 3, supported: false };
}
