/**
 * Host checks (RFC 9525, which obsoletes RFC 6125): is the leaf valid for this DNS name or IP address?
 *   - A DNS name matches DNS SANs only, case-insensitively, a trailing dot ignored, IDNs compared as
 *     A-labels (the host is converted with UTS #46; SANs are A-labels by RFC 5280 §4.2.1.6).
 *   - A wildcard is only a whole left-most label `*` and stands for exactly one label: `*.example.com`
 *     matches `a.example.com`, not `example.com`, not `a.b.example.com`. A partial wildcard (`f*.example.com`)
 *     never matches, nor does one covering a public suffix alone (`*.com`, `*.co.uk`: public-suffix.ts).
 *   - The subject CN is never used, not even when the leaf has no SAN extension (RFC 9525 §6.3, as Go 1.15+
 *     does; openssl -verify_hostname still falls back to the CN then — docs/verify.md lists the difference).
 *   - An IP address (--ip, or --host given as an IP literal, IPv6 brackets tolerated) matches IP SANs only,
 *     v4 and v6 in canonical form, an IPv4-mapped IPv6 address being the IPv4 address (as names.ts folds
 *     it); a DNS name never matches an IP SAN, nor an IP a DNS SAN that spells it.
 */
import { PkiError } from '../errors.js';
import type { CertificateFields } from '../x509/certificate-fields.js';
import { decodeSubjectAltName } from '../x509/extension-decoders.js';
import { ExtensionOid } from '../x509/extensions.js';
import { commonNameOf, formatDistinguishedName } from '../x509/name-decoder.js';
import { parseSan, type San } from '../x509/names.js';
import { wildcardBaseAllowed } from './public-suffix.js';
import type { CheckOutcome } from './types.js';

/** The name the leaf must be valid for: a DNS name or an IP literal, as --host/--ip give it. */
export interface HostTarget {
  readonly host?: string;
  readonly ip?: string;
}

interface Wanted {
  readonly type: 'dns' | 'ip';
  /** Lower-case A-label DNS name, or canonical IP text. */
  readonly value: string;
}

/** --host/--ip → the name to match. A value that is neither a DNS name nor an IP is a usage error, not a verdict. */
function parseTarget(flag: '--host' | '--ip', raw: string): Wanted {
  const bad = (why: string, cause?: unknown) =>
    new PkiError('ERR_INVALID_SAN', `${flag} "${raw}" is not ${flag === '--ip' ? 'an IP address' : 'a DNS name or IP address'}${why ? `: ${why}` : ''}`, {
      hint: flag === '--ip' ? 'give an IPv4 or IPv6 address, e.g. --ip 10.0.0.1 or --ip ::1' : 'give the host name alone, e.g. --host db.internal (no port, no scheme, no wildcard)',
      cause,
    });
  let san: San;
  try {
    san = parseSan(raw);
  } catch (e) {
    throw bad(e instanceof PkiError ? e.message.replace(/^invalid SAN "[^"]*": /, '') : '', e);
  }
  if (san.type === 'ip') return { type: 'ip', value: san.value };
  if (flag === '--host' && san.type === 'dns' && !san.value.includes('*')) return { type: 'dns', value: san.value };
  throw bad(san.type === 'dns' ? 'a wildcard is a pattern, not a host' : `it reads as ${san.type === 'email' ? 'an email address' : 'a URI'}`);
}

/** A DNS SAN as compared: lower case, no trailing dot. */
const dnsForm = (san: string) => san.toLowerCase().replace(/\.$/, '');

/** An IP SAN in the canonical text the target has (IPv4-mapped folded), or null for a malformed one. */
function ipForm(san: string): string | null {
  try {
    const parsed = parseSan(san);
    return parsed.type === 'ip' ? parsed.value : null;
  } catch {
    return null;
  }
}

/** RFC 9525 §6.3: exact, or `*.<base>` standing for exactly one label, `base` not a public suffix. */
function dnsMatches(host: string, san: string): boolean {
  if (san === host) return true;
  if (!san.startsWith('*.')) return false;
  const base = san.slice(2);
  if (base.includes('*') || !wildcardBaseAllowed(base) || !host.endsWith(`.${base}`)) return false;
  const label = host.slice(0, host.length - base.length - 1);
  return label.length > 0 && !label.includes('.');
}

/** Why a wildcard SAN that looks as if it could cover `host` does not, for the message; null when it does not look so. */
function wildcardNote(host: string, san: string): string | null {
  if (!san.includes('*') || dnsMatches(host, san)) return null;
  const base = san.startsWith('*.') ? san.slice(2) : null;
  if (base === null || base.includes('*')) {
    const glob = new RegExp(`^${san.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
    return glob.test(host) ? `${san} is not honoured: only a whole left-most "*" label is a wildcard` : null;
  }
  if (!wildcardBaseAllowed(base) && (host.endsWith(`.${base}`) || host === base)) return `${san} is not honoured: a wildcard may not cover a public suffix (${base}) alone`;
  if (host === base) return `${san} does not cover ${base} itself`;
  if (host.endsWith(`.${base}`)) return `${san} stands for exactly one label, not ${host.slice(0, -base.length - 1)}`;
  return null;
}

/** `api.internal, 10.0.0.1` — at most five names, then how many more. */
function listNames(names: readonly string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

function checkOne(leaf: CertificateFields, sans: { dns: string[]; ip: string[] }, wanted: Wanted): CheckOutcome {
  const dns = sans.dns.map(dnsForm);
  if (wanted.type === 'dns') {
    const hit = dns.find((san) => dnsMatches(wanted.value, san));
    if (hit !== undefined) return { ok: true, name: 'host', detail: `${wanted.value} matches DNS SAN ${hit}` };
  } else {
    const hit = sans.ip.find((san) => ipForm(san) === wanted.value);
    if (hit !== undefined) return { ok: true, name: 'host', detail: `${wanted.value} matches IP SAN ${hit}` };
  }
  const names = [...dns, ...sans.ip];
  const hasSanExtension = leaf.extensions.some((e) => e.oid === ExtensionOid.subjectAltName);
  let message: string;
  if (names.length > 0) {
    message = `valid for ${listNames(names)}, not ${wanted.value}`;
  } else if (hasSanExtension) {
    message = `not valid for ${wanted.value}: the certificate names no DNS name or IP address`;
  } else {
    const cn = commonNameOf(leaf.subjectDer);
    message = `not valid for ${wanted.value}: the certificate has no subjectAltName${cn !== undefined ? ` (its common name "${cn}" is not matched: RFC 9525 host checks use SANs only)` : ''}`;
  }
  const notes = wanted.type === 'dns' ? dns.map((san) => wildcardNote(wanted.value, san)).filter((n): n is string => n !== null) : [];
  if (wanted.type === 'ip' && dns.includes(wanted.value)) notes.push(`${wanted.value} is a DNS SAN there, and an IP address matches IP SANs only`);
  if (notes.length > 0) message += `; ${notes.join('; ')}`;
  return {
    ok: false,
    name: 'host',
    failure: { code: 'ERR_HOSTNAME_MISMATCH', message, certificate: formatDistinguishedName(leaf.subjectDer), hint: `re-issue it with --san ${wanted.value}` },
  };
}

/**
 * The leaf against --host and/or --ip (both must match when both are given). Throws ERR_INVALID_SAN for a
 * value that is neither a DNS name nor an IP address; a leaf that does not match is a verdict.
 */
export function checkHost(leaf: CertificateFields, target: HostTarget): CheckOutcome {
  const wanted: Wanted[] = [];
  if (target.host !== undefined) wanted.push(parseTarget('--host', target.host));
  if (target.ip !== undefined) wanted.push(parseTarget('--ip', target.ip));
  if (wanted.length === 0) return { ok: true, name: 'host', detail: 'no host or IP address asked for' };
  let sans: { dns: string[]; ip: string[] };
  try {
    sans = decodeSubjectAltName(leaf);
  } catch {
    const failure = { code: 'ERR_MALFORMED_CERTIFICATE', message: 'its subjectAltName extension cannot be read', certificate: formatDistinguishedName(leaf.subjectDer) } as const;
    return { ok: false, name: 'host', failure };
  }
  const details: string[] = [];
  for (const w of wanted) {
    const outcome = checkOne(leaf, sans, w);
    if (!outcome.ok) return outcome;
    details.push(outcome.detail);
  }
  return { ok: true, name: 'host', detail: details.join('; ') };
}
