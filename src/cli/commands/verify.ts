/**
 * `pki verify <cert-file>`: RFC 5280 path validation of a certificate file (issue 11). The verdict is the
 * command's answer, on stdout: `OK: …` and exit 0, or `invalid: <certificate>: <cause> (<fix>)` and exit 1
 * (an ExitError, so cli/main.ts ends with the code without an error line of its own). Flags that cannot be
 * understood are usage errors (exit 2); files that cannot be read are refusals (exit 1), both as the one
 * error line main.ts writes. docs/verify.md is this command's manual.
 */
import { PkiError } from '../../core/errors.js';
import type { CrlCheckMode, VerifyPurpose } from '../../core/verify/types.js';
import { parseSan } from '../../core/x509/names.js';
import { parseTimeSpec } from '../../core/x509/validity.js';
import { verifyCertificateFile, type VerifyReport } from '../../operations/verify.js';
import { ExitCode, ExitError } from '../errors.js';
import { emitData, type GlobalOptions } from '../output.js';
import { verdictLine } from '../verify-text.js';

export interface VerifyOptions {
  readonly untrusted: string[];
  readonly roots: string[];
  readonly host?: string;
  readonly ip?: string;
  readonly purpose: string;
  readonly time?: string;
  readonly crl: string[];
  readonly crlCheck?: boolean;
  readonly crlCheckAll?: boolean;
  readonly maxDepth?: string;
}

const PURPOSES: readonly VerifyPurpose[] = ['server', 'client', 'any'];

function usage(message: string, hint: string): PkiError {
  return new PkiError('ERR_USAGE', message, { hint });
}

export function parsePurpose(text: string): VerifyPurpose {
  if ((PURPOSES as readonly string[]).includes(text)) return text as VerifyPurpose;
  throw usage(`--purpose "${text}" is not server, client or any`, 'server: the certificate must allow TLS server use (serverAuth), client: clientAuth, any: no EKU check');
}

/**
 * --time: an RFC 3339 time (`2026-10-01T00:00:00Z`, an offset such as `+02:00`, or a bare date for
 * midnight UTC), as parseTimeSpec reads it; durations (`30d`) are refused here, as openssl's -attime takes
 * a point in time only. A bad time is a usage error (exit 2) like every other flag that cannot be read.
 */
export function parseVerifyTime(text: string | undefined, now: Date): Date {
  if (text === undefined) return now;
  const hint = 'give an RFC 3339 time such as 2027-01-31T00:00:00Z';
  if (!/^\s*\d{4}-/.test(text)) throw usage(`--time "${text}" is not an RFC 3339 time`, hint);
  try {
    return parseTimeSpec(text, now);
  } catch (e) {
    if (e instanceof PkiError) throw usage(`--time ${e.message}`, hint);
    throw e;
  }
}

/** --max-depth: a non-negative integer (0: the leaf's issuer must be a trust anchor). */
export function parseMaxDepth(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw usage(`--max-depth "${text}" is not a non-negative whole number`, 'give the most intermediate CA certificates the path may hold, e.g. --max-depth 1');
  }
  return n;
}

/** --host: a DNS name (no wildcard: a host is one name) or an IP literal, normalised (lower case, A-labels, canonical IP). */
export function parseHost(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const hint = 'give the host name alone, e.g. --host db.internal (no port, no scheme, no wildcard), or an address such as --host 10.0.0.5';
  let san;
  try {
    san = parseSan(text);
  } catch (e) {
    if (e instanceof PkiError) throw usage(`--host "${text}" is not a DNS name or IP address: ${e.message.replace(/^invalid SAN "[^"]*": /, '')}`, hint);
    throw e;
  }
  if (san.type === 'ip') return san.value;
  if (san.type === 'dns' && !san.value.startsWith('*.')) return san.value;
  const why = san.type === 'dns' ? 'a wildcard is a pattern, not a host' : `it reads as ${san.type === 'email' ? 'an email address' : 'a URI'}`;
  throw usage(`--host "${text}" is not a DNS name or IP address: ${why}`, hint);
}

/** --ip: an IPv4 or IPv6 address, in canonical form. */
export function parseIp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const hint = 'give an IPv4 or IPv6 address, e.g. --ip 10.0.0.5 or --ip ::1';
  try {
    const san = parseSan(text);
    if (san.type === 'ip') return san.value;
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
  }
  throw usage(`--ip "${text}" is not an IP address`, hint);
}

/** Which certificates' revocation is checked: --crl-check-all wins over --crl-check. */
export function crlCheckMode(options: Pick<VerifyOptions, 'crlCheck' | 'crlCheckAll'>): CrlCheckMode {
  return options.crlCheckAll ? 'all' : options.crlCheck ? 'leaf' : 'none';
}

/** The --json document: the validator's result as it is, then what was read to reach it. */
function jsonDocument(report: VerifyReport, time: Date) {
  const { valid, chain, error, checks } = report.result;
  return { valid, chain, error, checks, time: time.toISOString().replace(/\.000Z$/, 'Z'), roots: report.roots, crls: report.crls };
}

type VerifyDocument = ReturnType<typeof jsonDocument> & { readonly chainNames: readonly string[] };

export async function runVerify(file: string, options: VerifyOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const purpose = parsePurpose(options.purpose);
  const time = parseVerifyTime(options.time, now);
  const maxDepth = parseMaxDepth(options.maxDepth);
  const host = parseHost(options.host);
  const ip = parseIp(options.ip);
  const report = verifyCertificateFile({
    certificateFile: file,
    untrustedFiles: options.untrusted,
    rootFiles: options.roots,
    homeDir: globals.dir,
    ...(host !== undefined ? { host } : {}),
    ...(ip !== undefined ? { ip } : {}),
    purpose,
    time,
    crlFiles: options.crl,
    crlCheck: crlCheckMode(options),
    ...(maxDepth !== undefined ? { maxDepth } : {}),
  });
  const doc = jsonDocument(report, time);
  if (globals.json) emitData(globals, doc, () => '');
  else emitData<VerifyDocument>(globals, { ...doc, chainNames: report.chainNames }, (d) => verdictLine(d, d.chainNames));
  if (!report.result.valid) throw new ExitError(ExitCode.failure);
}
