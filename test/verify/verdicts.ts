/**
 * One small vocabulary for what pki, `openssl verify` and `certtool --verify` answer, so the agreement
 * table can compare them: `ok`, or the class of the cause (`expired`, `unknown-ca`, `hostname`, …).
 * openssl's class comes from its error numbers, certtool's from the status phrases GnuTLS prints. Both can
 * report several causes at once (openssl's verify callback goes on after some errors): the classes are
 * sorted and joined with `+`.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CrlCheckMode, VerifyErrorCode, VerifyPurpose } from '../../src/core/verify/index.js';
import { PEER_RUN_MS, requirePeer } from '../helpers/peers.js';

export type Verdict = string;

/** pki's verdict codes in the shared vocabulary. */
export const PKI_CLASS: Record<VerifyErrorCode, Verdict> = {
  ERR_CERT_EXPIRED: 'expired',
  ERR_CERT_NOT_YET_VALID: 'not-yet-valid',
  ERR_UNKNOWN_AUTHORITY: 'unknown-ca',
  // A loop never reaches a trust anchor: peers say "unknown issuer", pki says why.
  ERR_CHAIN_LOOP: 'unknown-ca',
  ERR_HOSTNAME_MISMATCH: 'hostname',
  ERR_PURPOSE: 'purpose',
  ERR_REVOKED: 'revoked',
  ERR_PATH_LENGTH: 'path-length',
  ERR_NAME_CONSTRAINTS: 'name-constraints',
  ERR_BAD_SIGNATURE: 'signature',
  ERR_NOT_CA: 'not-ca',
  ERR_KEY_USAGE: 'key-usage',
  ERR_UNKNOWN_CRITICAL_EXTENSION: 'critical-extension',
  ERR_WEAK_ALGORITHM: 'weak-algorithm',
  ERR_WEAK_KEY: 'weak-key',
  ERR_UNSUPPORTED_ALGORITHM: 'unsupported-algorithm',
  ERR_MALFORMED_CERTIFICATE: 'malformed',
  ERR_CRL_MISSING: 'crl-missing',
  ERR_CRL_STALE: 'crl-stale',
  ERR_CRL_NOT_YET_VALID: 'crl-not-yet-valid',
  ERR_CRL_BAD_SIGNATURE: 'crl-signature',
  ERR_CRL_UNKNOWN_CRITICAL_EXTENSION: 'crl-critical-extension',
  ERR_CRL_MALFORMED: 'crl-malformed',
};

/** openssl's X509_V_ERR_* numbers (include/openssl/x509_vfy.h) in the vocabulary. */
const OPENSSL_CLASS: Record<number, Verdict> = {
  2: 'unknown-ca', // unable to get issuer certificate
  3: 'crl-missing', // unable to get certificate CRL
  7: 'signature',
  8: 'crl-signature',
  9: 'not-yet-valid',
  10: 'expired',
  11: 'crl-not-yet-valid',
  12: 'crl-stale',
  18: 'unknown-ca', // self-signed certificate
  19: 'unknown-ca', // self-signed certificate in certificate chain
  20: 'unknown-ca', // unable to get local issuer certificate
  21: 'unknown-ca', // unable to verify the first certificate
  22: 'path-length', // certificate chain too long
  23: 'revoked',
  25: 'path-length',
  26: 'purpose',
  32: 'key-usage', // key usage does not include certificate signing
  34: 'critical-extension',
  36: 'crl-critical-extension',
  47: 'name-constraints', // permitted subtree violation
  48: 'name-constraints', // excluded subtree violation
  55: 'unknown-ca', // path loop
  62: 'hostname',
  64: 'hostname', // IP address mismatch
  66: 'weak-key', // EE key too small
  67: 'weak-key', // CA key too small
  68: 'weak-algorithm', // CA signature digest algorithm too weak
  79: 'not-ca', // invalid CA certificate
};

/** GnuTLS status phrases (gnutls_certificate_verification_status_print) in the vocabulary. */
const CERTTOOL_CLASS: readonly [RegExp, Verdict][] = [
  [/is revoked|has been revoked/, 'revoked'],
  [/revocation or OCSP data are old/, 'crl-stale'],
  [/revocation or OCSP data are issued with a future date/, 'crl-not-yet-valid'],
  [/issuer is unknown/, 'unknown-ca'],
  [/issuer is not a CA/, 'not-ca'],
  [/insecure algorithm/, 'weak-algorithm'],
  [/not yet valid certificate/, 'not-yet-valid'],
  [/expired certificate/, 'expired'],
  [/signature .*invalid|invalid signature/, 'signature'],
  [/name in the certificate does not match/, 'hostname'],
  [/does not match the intended purpose/, 'purpose'],
  [/unknown critical extension/, 'critical-extension'],
  // GnuTLS reports pathLen, keyUsage and name constraint failures as one flag.
  [/violates the signer's constraints/, 'constraints'],
];

/** The classes certtool's coarse "signer's constraints" flag covers. */
export const CERTTOOL_CONSTRAINTS = ['path-length', 'key-usage', 'name-constraints', 'not-ca'];

export interface PeerOutcome {
  readonly verdict: Verdict;
  /** What the peer printed, for failure messages. */
  readonly output: string;
}

export interface VerifyRequest {
  readonly leaf: string;
  readonly untrusted: readonly string[];
  readonly roots: readonly string[];
  readonly host?: string;
  readonly ip?: string;
  readonly purpose: VerifyPurpose;
  readonly crl?: string;
  readonly crlCheck: CrlCheckMode;
  readonly time: Date;
}

const PURPOSE_OID: Record<VerifyPurpose, string | undefined> = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2', any: undefined };
const OPENSSL_PURPOSE: Record<VerifyPurpose, string | undefined> = { server: 'sslserver', client: 'sslclient', any: undefined };

const paths = new Map<string, string>();
function run(name: string, args: readonly string[]): { status: number | null; output: string } {
  let path = paths.get(name);
  if (!path) paths.set(name, (path = requirePeer(name)));
  const r = spawnSync(path, args as string[], { encoding: 'utf8', timeout: PEER_RUN_MS });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** `openssl verify -x509_strict …` with the request's options; files are written under `dir` as `<tag>.*`. */
export function opensslVerdict(dir: string, tag: string, q: VerifyRequest, pem: (names: readonly string[]) => string): PeerOutcome {
  const roots = join(dir, `${tag}.roots.pem`);
  writeFileSync(roots, pem(q.roots));
  const args = ['verify', '-x509_strict', '-CAfile', roots, '-attime', String(Math.floor(q.time.getTime() / 1000))];
  if (q.untrusted.length > 0) {
    const untrusted = join(dir, `${tag}.untrusted.pem`);
    writeFileSync(untrusted, pem(q.untrusted));
    args.push('-untrusted', untrusted);
  }
  if (q.host !== undefined) args.push('-verify_hostname', q.host);
  if (q.ip !== undefined) args.push('-verify_ip', q.ip);
  const purpose = OPENSSL_PURPOSE[q.purpose];
  if (purpose) args.push('-purpose', purpose);
  if (q.crlCheck !== 'none') args.push(q.crlCheck === 'all' ? '-crl_check_all' : '-crl_check');
  if (q.crl) args.push('-CRLfile', q.crl);
  args.push(q.leaf);
  const r = run('openssl', args);
  if (r.status === 0 && /: OK\s*$/.test(r.output)) return { verdict: 'ok', output: r.output };
  const errors = [...r.output.matchAll(/error (\d+) at \d+ depth lookup: (.*)/g)];
  if (errors.length === 0) return { verdict: `unparsed (exit ${r.status})`, output: r.output };
  return { verdict: joined(errors.map((e) => OPENSSL_CLASS[Number(e[1])] ?? `openssl-${e[1]}: ${e[2]}`)), output: r.output };
}

/** `certtool --verify` with the leaf and the untrusted certificates in one file, leaf first. */
export function certtoolVerdict(dir: string, tag: string, q: VerifyRequest, pem: (names: readonly string[]) => string, leafPem: string): PeerOutcome {
  const roots = join(dir, `${tag}.ca.pem`);
  const chain = join(dir, `${tag}.chain.pem`);
  writeFileSync(roots, pem(q.roots));
  writeFileSync(chain, leafPem + pem(q.untrusted));
  const args = ['--verify', '--load-ca-certificate', roots, '--infile', chain];
  const name = q.host ?? q.ip;
  if (name !== undefined) args.push('--verify-hostname', name);
  const oid = PURPOSE_OID[q.purpose];
  if (oid) args.push('--verify-purpose', oid);
  if (q.crl) args.push('--load-crl', q.crl);
  const r = run('certtool', args);
  const line = /Chain verification output: (.*)/.exec(r.output)?.[1];
  if (!line) return { verdict: `unparsed (exit ${r.status})`, output: r.output };
  if (/^Verified\./.test(line) && r.status === 0) return { verdict: 'ok', output: r.output };
  const classes = CERTTOOL_CLASS.filter(([re]) => re.test(line)).map(([, c]) => c);
  return { verdict: classes.length > 0 ? joined(classes) : `certtool: ${line}`, output: r.output };
}

const joined = (classes: readonly Verdict[]) => [...new Set(classes)].sort().join('+');

/** Does a peer verdict say the same as pki's class? certtool's coarse flags cover several of pki's. */
export function agrees(pki: Verdict, peer: Verdict): boolean {
  if (pki === peer) return true;
  const parts = peer.split('+');
  return parts.includes(pki) || (parts.includes('constraints') && CERTTOOL_CONSTRAINTS.includes(pki));
}
