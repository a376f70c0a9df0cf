/**
 * The agreement table of issue 11, Done-means 1: each row a chain (certificate names from
 * test/verify/chains.ts), the options it is verified with, pki's expected verdict (code, and what the
 * message must name), and the verdicts openssl and certtool were seen to give. A row where pki departs
 * from a peer says why in `disagreement` (RFC 5280 / RFC 9525 / the issue), and docs/verify.md lists it.
 */
import type { CrlCheckMode, VerifyErrorCode, VerifyPurpose } from '../../src/core/verify/index.js';
import { rfc3339, type ChainFactory } from './chain-factory.js';
import { KEY_TYPES } from './chains.js';
import type { Verdict } from './verdicts.js';

/** Something the message must contain to name the cause: a pattern, or a text made from the chain (a date). */
export type Cause = RegExp | ((f: ChainFactory) => string);

export interface PkiFailure {
  readonly code: VerifyErrorCode;
  /** What the message must contain (each of them) to name the cause. */
  readonly cause: Cause | readonly Cause[];
  /** The subject of the certificate the failure is about (VerifyFailure.certificate), when it is certain. */
  readonly certificate?: string;
}

export interface Row {
  readonly name: string;
  readonly leaf: string;
  readonly untrusted: readonly string[];
  readonly roots: readonly string[];
  readonly host?: string;
  readonly ip?: string;
  readonly purpose: VerifyPurpose;
  readonly crl?: 'fresh' | 'stale' | 'wrongKey' | 'chain';
  /** pki crlCheck; openssl -crl_check (leaf) or -crl_check_all (all). certtool has no such switch: it checks every certificate a loaded CRL covers. */
  readonly crlCheck: CrlCheckMode;
  readonly pki: 'ok' | PkiFailure;
  /** What openssl verify -x509_strict answered (the vocabulary of verdicts.ts). */
  readonly openssl: Verdict;
  /** What certtool --verify answered. */
  readonly certtool: Verdict;
  /** Why pki's verdict differs from a peer's: set exactly when it does. */
  readonly disagreement?: { readonly openssl?: string; readonly certtool?: string };
}

type RowInput = Omit<Row, 'untrusted' | 'roots' | 'purpose' | 'crlCheck'> & Partial<Pick<Row, 'untrusted' | 'roots' | 'purpose' | 'crlCheck'>>;

/** Defaults: the P-256 chain (root trusted, intermediate untrusted), purpose server. */
const row = (r: RowInput): Row => ({ untrusted: ['p256.inter'], roots: ['p256.root'], purpose: 'server', crlCheck: 'none', ...r });

const LEAF = 'CN=www.example.com';

const perKeyType: Row[] = KEY_TYPES.flatMap((type) => [
  row({ name: `valid 2-tier ${type}`, leaf: `${type}.leaf2`, untrusted: [], roots: [`${type}.root`], host: 'www.example.com', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: `valid 3-tier ${type}`, leaf: `${type}.leaf3`, untrusted: [`${type}.inter`], roots: [`${type}.root`], host: 'www.example.com', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
]);

const validity: Row[] = [
  row({ name: 'expired leaf', leaf: 'leaf.expired', pki: { code: 'ERR_CERT_EXPIRED', cause: (f) => rfc3339(f.cert('leaf.expired').notAfter), certificate: LEAF }, openssl: 'expired', certtool: 'expired' }),
  row({ name: 'not-yet-valid leaf', leaf: 'leaf.future', pki: { code: 'ERR_CERT_NOT_YET_VALID', cause: (f) => rfc3339(f.cert('leaf.future').notBefore), certificate: LEAF }, openssl: 'not-yet-valid', certtool: 'not-yet-valid' }),
  row({ name: 'expired intermediate', leaf: 'leaf.under-expired', untrusted: ['inter.expired'], pki: { code: 'ERR_CERT_EXPIRED', cause: (f) => rfc3339(f.cert('inter.expired').notAfter), certificate: 'CN=Expired Intermediate' }, openssl: 'expired', certtool: 'expired' }),
  row({ name: 'not-yet-valid intermediate', leaf: 'leaf.under-future', untrusted: ['inter.future'], pki: { code: 'ERR_CERT_NOT_YET_VALID', cause: (f) => rfc3339(f.cert('inter.future').notBefore), certificate: 'CN=Future Intermediate' }, openssl: 'not-yet-valid', certtool: 'not-yet-valid' }),
];

const pathBuilding: Row[] = [
  row({ name: 'wrong root (same name, other key)', leaf: 'p256.leaf3', roots: ['root.impostor'], pki: { code: 'ERR_UNKNOWN_AUTHORITY', cause: /P-256 Root/, certificate: 'CN=P-256 Intermediate' }, openssl: 'unknown-ca', certtool: 'unknown-ca' }),
  row({ name: 'missing intermediate', leaf: 'p256.leaf3', untrusted: [], pki: { code: 'ERR_UNKNOWN_AUTHORITY', cause: /P-256 Intermediate/, certificate: LEAF }, openssl: 'unknown-ca', certtool: 'unknown-ca' }),
  row({ name: 'cross-signed intermediate, second candidate leads to the trusted root', leaf: 'leaf.cross', untrusted: ['cross.by-r1', 'cross.by-root'], pki: 'ok', openssl: 'unknown-ca', certtool: 'unknown-ca', disagreement: { openssl: 'builds one path from the first issuer candidate (cross.by-r1) and does not try the second; RFC 5280 §6 and the issue: try every candidate issuer', certtool: 'GnuTLS likewise keeps the first candidate' } }),
  row({ name: 'cross-signed intermediate, both roots trusted', leaf: 'leaf.cross', untrusted: ['cross.by-r1', 'cross.by-root'], roots: ['cross.r1', 'p256.root'], pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'cross-signed intermediate, only the first root trusted', leaf: 'leaf.cross', untrusted: ['cross.by-root', 'cross.by-r1'], roots: ['cross.r1'], pki: 'ok', openssl: 'unknown-ca', certtool: 'unknown-ca', disagreement: { openssl: 'the same one-candidate path building, with the order of the untrusted certificates reversed', certtool: 'the same one-candidate path building' } }),
  row({ name: 'trusted self-signed root given as the leaf', leaf: 'p256.root', untrusted: [], purpose: 'any', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'self-signed leaf not among the roots', leaf: 'cross.r1', untrusted: [], purpose: 'any', pki: { code: 'ERR_UNKNOWN_AUTHORITY', cause: /Cross Root 1/, certificate: 'CN=Cross Root 1' }, openssl: 'unknown-ca', certtool: 'unknown-ca' }),
  row({ name: 'signature by another key than the issuer named', leaf: 'leaf.bad-signature', pki: { code: 'ERR_BAD_SIGNATURE', cause: /signature/i, certificate: LEAF }, openssl: 'signature', certtool: 'signature' }),
  row({ name: 'loop (A issued by B, B by A)', leaf: 'leaf.loop', untrusted: ['loop.a', 'loop.b'], pki: { code: 'ERR_CHAIN_LOOP', cause: [/Loop A/, /Loop B/] }, openssl: 'unknown-ca', certtool: 'unknown-ca' }),
];

const hosts: Row[] = [
  row({ name: 'wrong host', leaf: 'leaf.api', host: 'db.example.com', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: [/db\.example\.com/, /api\.example\.com/], certificate: 'CN=db.example.com' }, openssl: 'hostname', certtool: 'hostname' }),
  row({ name: 'subject CN ignored when the leaf has SANs', leaf: 'leaf.api', host: 'db.example.com', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: [/not db\.example\.com/, /api\.example\.com/] }, openssl: 'hostname', certtool: 'hostname' }),
  row({ name: 'host matched case-insensitively', leaf: 'leaf.api', host: 'API.Example.COM', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'wildcard *.example.com matches www.example.com', leaf: 'leaf.wildcard', host: 'www.example.com', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'wildcard *.example.com does not match example.com', leaf: 'leaf.wildcard', host: 'example.com', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: [/\*\.example\.com/, /not example\.com/] }, openssl: 'hostname', certtool: 'hostname' }),
  row({ name: 'wildcard *.example.com does not match a.b.example.com', leaf: 'leaf.wildcard', host: 'a.b.example.com', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: [/\*\.example\.com/, /a\.b\.example\.com/] }, openssl: 'hostname', certtool: 'hostname' }),
  row({ name: 'wildcard *.com matches nothing', leaf: 'leaf.star-com', host: 'example.com', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: [/\*\.com/, /example\.com/] }, openssl: 'hostname', certtool: 'hostname' }),
  row({ name: 'IPv4 SAN', leaf: 'leaf.ip', ip: '192.0.2.10', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'IPv6 SAN, address written out in full', leaf: 'leaf.ip', ip: '2001:db8:0:0:0:0:0:1', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'IP not in the SANs', leaf: 'leaf.ip', ip: '192.0.2.11', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: /192\.0\.2\.11/ }, openssl: 'hostname', certtool: 'hostname' }),
  row({ name: 'host given as an IP literal is compared as an IP', leaf: 'leaf.ip', host: '192.0.2.10', pki: 'ok', openssl: 'hostname', certtool: 'ok', disagreement: { openssl: '-verify_hostname compares an IP literal with DNS SANs only; the issue: a host given as an IP literal is compared as an IP' } }),
  row({ name: 'CN-only leaf (no SAN)', leaf: 'leaf.cn-only', host: 'www.example.com', pki: { code: 'ERR_HOSTNAME_MISMATCH', cause: [/www\.example\.com/, /subjectAltName|SAN/], certificate: LEAF }, openssl: 'ok', certtool: 'ok', disagreement: { openssl: 'falls back to the subject CN when the leaf has no DNS SAN; RFC 9525 §6.3 forbids CN-IDs and the issue says DNS SANs only', certtool: 'GnuTLS falls back to the CN too' } }),
];

const purposes: Row[] = [
  row({ name: 'client certificate used as a server', leaf: 'leaf.client', pki: { code: 'ERR_PURPOSE', cause: /serverAuth/, certificate: 'CN=client' }, openssl: 'purpose', certtool: 'purpose' }),
  row({ name: 'client certificate used as a client', leaf: 'leaf.client', purpose: 'client', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'EKU-constrained intermediate (clientAuth only) above a server leaf', leaf: 'leaf.under-client-only', untrusted: ['inter.client-only'], pki: { code: 'ERR_PURPOSE', cause: /serverAuth/, certificate: 'CN=Client-only Intermediate' }, openssl: 'purpose', certtool: 'purpose' }),
];

const caConstraints: Row[] = [
  row({ name: 'pathLen 0 violated by a second intermediate', leaf: 'leaf.pathlen', untrusted: ['inter.pathlen0', 'inter.below-pathlen0'], pki: { code: 'ERR_PATH_LENGTH', cause: /path ?len/i, certificate: 'CN=PathLen0 Intermediate' }, openssl: 'path-length', certtool: 'constraints' }),
  row({ name: 'CA:FALSE issuer', leaf: 'leaf.under-not-ca', untrusted: ['inter.not-ca'], pki: { code: 'ERR_NOT_CA', cause: /\bCA\b/, certificate: 'CN=Not-a-CA Issuer' }, openssl: 'key-usage+not-ca+purpose', certtool: 'constraints+not-ca' }),
  row({ name: 'CA without keyCertSign', leaf: 'leaf.under-no-certsign', untrusted: ['inter.no-certsign'], pki: { code: 'ERR_KEY_USAGE', cause: /keyCertSign/, certificate: 'CN=No-keyCertSign Intermediate' }, openssl: 'key-usage+not-ca+purpose', certtool: 'constraints' }),
  row({ name: 'name constraints: DNS name permitted', leaf: 'leaf.nc-dns-ok', untrusted: ['inter.nc-dns'], pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'name constraints: DNS name outside the permitted subtree', leaf: 'leaf.nc-dns-outside', untrusted: ['inter.nc-dns'], pki: { code: 'ERR_NAME_CONSTRAINTS', cause: [/www\.example\.org/, /DNS-constrained Intermediate/], certificate: 'CN=www.example.org' }, openssl: 'name-constraints', certtool: 'constraints' }),
  row({ name: 'name constraints: DNS name in the excluded subtree', leaf: 'leaf.nc-dns-excluded', untrusted: ['inter.nc-dns'], pki: { code: 'ERR_NAME_CONSTRAINTS', cause: [/x\.bad\.example\.com/, /excluded/], certificate: 'CN=x.bad.example.com' }, openssl: 'name-constraints', certtool: 'constraints' }),
  row({ name: 'name constraints: IP permitted', leaf: 'leaf.nc-ip-ok', untrusted: ['inter.nc-ip'], pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'name constraints: IP outside the permitted subtree', leaf: 'leaf.nc-ip-outside', untrusted: ['inter.nc-ip'], pki: { code: 'ERR_NAME_CONSTRAINTS', cause: [/198\.51\.100\.1/, /IP-constrained Intermediate/], certificate: 'CN=ip leaf' }, openssl: 'name-constraints', certtool: 'constraints' }),
  row({ name: 'name constraints: IP in the excluded subtree', leaf: 'leaf.nc-ip-excluded', untrusted: ['inter.nc-ip'], pki: { code: 'ERR_NAME_CONSTRAINTS', cause: [/192\.0\.2\.200/, /excluded/], certificate: 'CN=ip leaf' }, openssl: 'name-constraints', certtool: 'constraints' }),
];

const extensionsAndAlgorithms: Row[] = [
  row({ name: 'unknown critical extension', leaf: 'leaf.critical-ext', pki: { code: 'ERR_UNKNOWN_CRITICAL_EXTENSION', cause: /1\.3\.6\.1\.4\.1\.55555\.7/, certificate: LEAF }, openssl: 'critical-extension', certtool: 'critical-extension' }),
  row({ name: 'SHA-1 signature', leaf: 'leaf.sha1', pki: { code: 'ERR_WEAK_ALGORITHM', cause: /SHA-?1/i, certificate: LEAF }, openssl: 'ok', certtool: 'weak-algorithm', disagreement: { openssl: 'OpenSSL 3.0 at security level 1 still accepts SHA-1 certificate signatures; the issue: SHA-1 signatures refused' } }),
  row({ name: 'RSA-1024 leaf', leaf: 'leaf.rsa1024', untrusted: ['rsa.inter'], roots: ['rsa.root'], pki: { code: 'ERR_WEAK_KEY', cause: /1024/, certificate: LEAF }, openssl: 'ok', certtool: 'ok', disagreement: { openssl: 'security level 1 accepts 1024-bit RSA (80 bits); the issue: RSA < 2048 refused', certtool: 'with no --verify-profile certtool applies none and accepts RSA-1024' } }),
];

const revocation: Row[] = [
  row({ name: 'CRL current, leaf not revoked', leaf: 'leaf.good', crl: 'fresh', crlCheck: 'leaf', pki: 'ok', openssl: 'ok', certtool: 'ok' }),
  row({ name: 'revoked by CRL', leaf: 'leaf.revoked', crl: 'fresh', crlCheck: 'leaf', pki: { code: 'ERR_REVOKED', cause: [/revoked/, /keyCompromise/], certificate: 'CN=revoked.example.com' }, openssl: 'revoked', certtool: 'revoked' }),
  row({ name: 'stale CRL (past nextUpdate)', leaf: 'leaf.good', crl: 'stale', crlCheck: 'leaf', pki: { code: 'ERR_CRL_STALE', cause: (f) => rfc3339(f.crlFile('crl.stale').nextUpdate), certificate: 'CN=P-256 Intermediate' }, openssl: 'crl-stale', certtool: 'ok', disagreement: { certtool: 'GnuTLS uses a CRL past its nextUpdate without complaint; RFC 5280 §6.3.3 and the issue: the CRL must be current at the validation time' } }),
  row({ name: 'CRL signed by the wrong key', leaf: 'leaf.good', crl: 'wrongKey', crlCheck: 'leaf', pki: { code: 'ERR_CRL_BAD_SIGNATURE', cause: /signature/i, certificate: 'CN=P-256 Intermediate' }, openssl: 'crl-signature', certtool: 'ok', disagreement: { certtool: 'GnuTLS silently drops a CRL whose signature does not verify and validates as if none was given; the issue: an unusable --crl makes the result invalid' } }),
  row({ name: 'stale CRL given without a check flag', leaf: 'leaf.good', crl: 'stale', pki: { code: 'ERR_CRL_STALE', cause: (f) => rfc3339(f.crlFile('crl.stale').nextUpdate), certificate: 'CN=P-256 Intermediate' }, openssl: 'ok', certtool: 'ok', disagreement: { openssl: 'without -crl_check openssl does not read the CRL at all; the issue: a --crl that is stale makes the result invalid whether or not a check flag is given', certtool: 'GnuTLS ignores the CRL’s nextUpdate (row above)' } }),
  row({ name: 'revoked intermediate, CRL check of every certificate', leaf: 'leaf.under-revoked-inter', untrusted: ['inter.revoked'], crl: 'chain', crlCheck: 'all', pki: { code: 'ERR_REVOKED', cause: [/revoked/, /cACompromise/i], certificate: 'CN=Revoked Intermediate' }, openssl: 'revoked', certtool: 'revoked' }),
  row({ name: 'revoked intermediate, CRL check of the leaf only', leaf: 'leaf.under-revoked-inter', untrusted: ['inter.revoked'], crl: 'chain', crlCheck: 'leaf', pki: 'ok', openssl: 'ok', certtool: 'revoked', disagreement: { certtool: 'certtool has no leaf-only mode: it checks every certificate a loaded CRL covers; pki --crl-check, as openssl -crl_check, checks the leaf (the issue)' } }),
  row({ name: 'CRL check with no CRL for the leaf', leaf: 'leaf.good', crlCheck: 'leaf', pki: { code: 'ERR_CRL_MISSING', cause: [/CRL/, /P-256 Intermediate/] }, openssl: 'crl-missing', certtool: 'ok', disagreement: { certtool: 'certtool has no require-a-CRL mode (openssl -crl_check, pki --crl-check): no CRL means no revocation check' } }),
];

export const TABLE: readonly Row[] = [...perKeyType, ...validity, ...pathBuilding, ...hosts, ...purposes, ...caConstraints, ...extensionsAndAlgorithms, ...revocation];

/** The texts and patterns a failure's message must contain, dates made from the chain. */
export function causes(failure: PkiFailure, f: ChainFactory): (string | RegExp)[] {
  const list: readonly Cause[] = Array.isArray(failure.cause) ? failure.cause : [failure.cause as Cause];
  return list.map((c) => (typeof c === 'function' ? c(f) : c));
}
