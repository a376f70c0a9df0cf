/**
 * What `pki check` needs of a published CRL: its dates, number and issuer, read from the TBSCertList's
 * top-level fields only (readCrlTimes, readCrlNumber), so a 100,000-entry CRL is not decoded on every run.
 */
import { contentStart, DerTag, expectTag, readRootTlv, readTlv } from '../der/reader.js';
import { readCrlNumber } from '../inspect/crl.js';
import { readCrlTimes } from '../x509/crl.js';
import { formatDistinguishedName } from '../x509/name-decoder.js';

export interface CrlCheckFields {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly number: bigint | null;
  /** RFC 4514 text. */
  readonly issuer: string;
}

function crlIssuerDer(der: Uint8Array): Uint8Array {
  const root = expectTag(readRootTlv(der), DerTag.sequence, 'CertificateList');
  const tbs = expectTag(readTlv(der, contentStart(root), root.end), DerTag.sequence, 'TBSCertList');
  let field = readTlv(der, contentStart(tbs), tbs.end);
  if (field.tag === DerTag.integer) field = readTlv(der, field.end, tbs.end); // version
  const issuer = expectTag(readTlv(der, field.end, tbs.end), DerTag.sequence, 'issuer'); // after the signature algorithm
  return der.subarray(issuer.start, issuer.end);
}

/** Throws ERR_MALFORMED_DER / ERR_MALFORMED_CRL for a file that is not a CRL. */
export function crlCheckFields(der: Uint8Array): CrlCheckFields {
  const { thisUpdate, nextUpdate } = readCrlTimes(der);
  return { thisUpdate, nextUpdate, number: readCrlNumber(der), issuer: formatDistinguishedName(crlIssuerDer(der)) };
}
