/**
 * Pure pieces of ACME challenge validation: the dns-01 TXT value (RFC 8555 §8.4), the reverse-DNS name an
 * IP identifier's tls-alpn-01 handshake carries as SNI (RFC 8738 §6), and the checks of a tls-alpn-01
 * certificate (RFC 8737 §3): exactly one SAN, equal to the identifier, and the critical acmeIdentifier
 * extension (1.3.6.1.5.5.7.1.31) holding an OCTET STRING of SHA-256(keyAuthorization).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { childrenOf, DerTag, expectTag, readOctetString, readRootTlv } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { parseExtensions } from '../x509/certificate-fields.js';
import { decodeSubjectAltName } from '../x509/extension-decoders.js';
import { ipToBytes } from '../x509/names.js';

/** id-pe-acmeIdentifier (RFC 8737 §6.1). */
export const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';
/** The ALPN protocol of tls-alpn-01 (RFC 8737 §6.2). */
export const ACME_TLS_ALPN = 'acme-tls/1';

export function keyAuthorizationDigest(keyAuthorization: string): Buffer {
  return createHash('sha256').update(keyAuthorization, 'utf8').digest();
}

/** base64url(SHA-256(keyAuthorization)), the value of the `_acme-challenge` TXT record. */
export function dns01TxtValue(keyAuthorization: string): string {
  return keyAuthorizationDigest(keyAuthorization).toString('base64url');
}

/** `10.0.0.1` → `1.0.0.10.in-addr.arpa`; IPv6 → 32 nibbles under ip6.arpa (RFC 8738 §6). */
export function reverseDnsName(ip: string): string {
  const bytes = ipToBytes(ip);
  if (bytes.length === 4) return `${Array.from(bytes).reverse().join('.')}.in-addr.arpa`;
  const nibbles = Buffer.from(bytes).toString('hex').split('').reverse();
  return `${nibbles.join('.')}.ip6.arpa`;
}

export interface TlsAlpnCertificateView {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  /** Every SAN entry, of any form. */
  readonly sanCount: number;
  readonly acmeIdentifier: { readonly critical: boolean; readonly digest: Uint8Array } | undefined;
}

/**
 * Reads what tls-alpn-01 checks from a certificate's DER: only the extensions, so validity and names that
 * RFC 8737 does not look at may be anything (pebble-challtestsrv's say 0001-01-01 and an empty issuer).
 * Throws a PkiError (ERR_MALFORMED_DER / ERR_MALFORMED_CERTIFICATE) when the structure is not a certificate.
 */
export function readTlsAlpnCertificate(der: Uint8Array): TlsAlpnCertificateView {
  const top = childrenOf(der, expectTag(readRootTlv(der), DerTag.sequence, 'Certificate'));
  if (top.length !== 3) throw new PkiError('ERR_MALFORMED_CERTIFICATE', 'not a valid X.509 certificate: expected tbsCertificate, signatureAlgorithm, signatureValue');
  const tbs = childrenOf(der, expectTag(top[0]!, DerTag.sequence, 'tbsCertificate'));
  const extensionsField = tbs.find((el) => el.tag === 0xa3);
  const extensionsSeq = extensionsField ? childrenOf(der, extensionsField)[0] : undefined;
  const fields = { extensions: extensionsSeq ? parseExtensions(der, extensionsSeq) : [] };
  const san = decodeSubjectAltName(fields);
  const ext = fields.extensions.find((e) => e.oid === ACME_IDENTIFIER_OID);
  const acmeIdentifier = ext ? { critical: ext.critical, digest: readOctetString(ext.value, expectTag(readRootTlv(ext.value), DerTag.octetString, 'Authorization')) } : undefined;
  return { dns: san.dns, ip: san.ip, sanCount: san.dns.length + san.ip.length + san.email.length + san.uri.length + san.other.length, acmeIdentifier };
}

/**
 * Why the certificate does not prove `identifier` for `keyAuthorization`, or undefined when it does. The
 * messages name what was seen (SANs, criticality), never the digest bytes beyond their length.
 */
export function tlsAlpnCertificateProblem(view: TlsAlpnCertificateView, identifier: { type: 'dns' | 'ip'; value: string }, keyAuthorization: string): string | undefined {
  const names = [...view.dns, ...view.ip];
  const want = identifier.type === 'dns' ? identifier.value.toLowerCase().replace(/\.$/, '') : identifier.value;
  const matches = identifier.type === 'dns' ? view.dns.length === 1 && view.dns[0]!.toLowerCase() === want : view.ip.length === 1 && Buffer.compare(ipToBytes(view.ip[0]!), ipToBytes(want)) === 0;
  if (view.sanCount !== 1 || !matches) return `the certificate must name exactly ${want} in its subjectAltName (RFC 8737 §3), it names ${view.sanCount === 0 ? 'nothing' : `${view.sanCount} name(s): ${names.join(', ') || 'of other forms'}`}`;
  if (!view.acmeIdentifier) return `the certificate has no acmeIdentifier extension (${ACME_IDENTIFIER_OID})`;
  if (!view.acmeIdentifier.critical) return `the certificate's acmeIdentifier extension (${ACME_IDENTIFIER_OID}) is not critical (RFC 8737 §3)`;
  const expected = keyAuthorizationDigest(keyAuthorization);
  const got = Buffer.from(view.acmeIdentifier.digest);
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    return `the certificate's acmeIdentifier holds ${got.length === 32 ? 'a different SHA-256 digest' : `${got.length} bytes`}, not SHA-256 of the key authorization ${JSON.stringify(keyAuthorization)}`;
  }
  return undefined;
}
