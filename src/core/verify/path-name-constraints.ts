/**
 * Name constraints along a path (RFC 5280 §4.2.1.10, §6.1.3 (b)/(c), §6.1.4 (g)): every CA certificate's
 * permitted and excluded subtrees apply to every certificate below it — to its DNS, IP, email, URI and
 * directoryName SANs, its subject DN (directoryName), and, only when it has no SAN extension, its subject
 * CN when that looks like a host name and its subject emailAddress attributes.
 *   - The trust anchor's constraints apply too (as openssl and Go apply them).
 *   - Self-issued intermediates (issuer = subject) are exempt from the constraints above them; the leaf never is.
 *   - A form with permitted subtrees: each name of that form must lie in one of them; an excluded subtree
 *     always wins. A form with no permitted subtree is unconstrained.
 *   - DNS: `example.com` is the name and every name under it, `.example.com` only names under it (openssl's
 *     and Go's reading); a wildcard SAN is excluded when any name it stands for would be.
 *   - directoryName: the constraint's RDNs must be a prefix of the subject's, values compared
 *     case-insensitively with white space collapsed (a simplification of RFC 4518 string preparation).
 *   - Forms pki cannot check (otherName, x400Address, ediPartyName, registeredID) fail closed: a
 *     certificate below carrying a SAN of such a form under such a constraint is refused. A
 *     NameConstraints extension pki cannot read (min/max distances, bad iPAddress lengths) is refused.
 */
import type { CertificateFields } from '../x509/certificate-fields.js';
import { dnsExcludedBy, domainMatches, emailMatches, ipMatches, uriHost } from '../x509/name-constraints.js';
import { decodeName } from '../x509/name-decoder.js';
import { formatDistinguishedName } from '../x509/name-decoder.js';
import { formatIpBytes } from '../x509/names.js';
import {
  certificateNames,
  decodeNameConstraints,
  UNSUPPORTED_FORMS,
  UnreadableConstraints,
  type CertificateNames,
  type DecodedNameConstraints,
  type IpSubtree,
  type Subtrees,
} from './name-constraint-subtrees.js';
import type { CheckOutcome, VerifyFailure } from './types.js';

/** A DNS/URI-host constraint: the empty one is every name (RFC 5280); otherwise openssl's nc_dns reading. */
const inDomain = (name: string, constraint: string) => constraint === '' || domainMatches(name, constraint);
const excludedDomain = (name: string, constraint: string) => constraint === '' || dnsExcludedBy(name, constraint);

/** The IPv4 address an IPv4-mapped IPv6 address stands for, so 10.0.0.0/8 constraints also hold ::ffff:10.0.0.1. */
function ipForms(bytes: Uint8Array): string[] {
  const text = formatIpBytes(bytes);
  const mapped = bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? [text, formatIpBytes(bytes.subarray(12))] : [text];
}

const collapse = (v: string) => v.trim().replace(/\s+/g, ' ').toLowerCase();

/** True when `name` lies in the subtree `constraint` (RFC 5280 §7.1: the constraint's RDNs are a prefix of the name's). */
function directoryWithin(name: Uint8Array, constraint: Uint8Array): boolean {
  const n = decodeName(name);
  const c = decodeName(constraint);
  if (c.length > n.length) return false;
  const rdnKey = (rdn: { type: string; value: string; hex?: true }[]) =>
    rdn.map((a) => `${a.type}=${a.hex ? a.value : collapse(a.value)}`).sort().join('+');
  return c.every((rdn, i) => rdnKey(rdn) === rdnKey(n[i]!));
}

const FORM_LABELS = { dns: 'DNS names', ip: 'IP addresses', email: 'email addresses', uri: 'URIs', directory: 'directory names' } as const;
type Form = keyof typeof FORM_LABELS;

/** A name as one form sees it: what it is matched as, and how the message shows it. */
interface Candidate {
  readonly form: Form;
  readonly shown: string;
  readonly inSubtree: (s: Subtrees) => string | undefined;
  readonly excludedBy: (s: Subtrees) => string | undefined;
}

function candidates(names: CertificateNames): Candidate[] {
  const out: Candidate[] = [];
  const cnNote = (fromCn: boolean) => (fromCn ? ' (the common name, read as a host name: the certificate has no SAN)' : '');
  for (const { value, fromCommonName } of names.dns) {
    out.push({ form: 'dns', shown: `${value}${cnNote(fromCommonName)}`, inSubtree: (s) => s.dns.find((c) => inDomain(value, c)), excludedBy: (s) => s.dns.find((c) => excludedDomain(value, c)) });
  }
  for (const { bytes, fromCommonName } of names.ip) {
    const forms = bytes.length === 4 || bytes.length === 16 ? ipForms(bytes) : [];
    const hit = (list: IpSubtree[]) => list.find((block) => forms.some((ip) => ipMatches(ip, block)))?.text;
    out.push({ form: 'ip', shown: `${forms[0] ?? `a ${bytes.length}-octet iPAddress`}${cnNote(fromCommonName)}`, inSubtree: (s) => hit(s.ip), excludedBy: (s) => hit(s.ip) });
  }
  for (const email of names.email) {
    out.push({ form: 'email', shown: email, inSubtree: (s) => s.email.find((c) => emailMatches(email, c)), excludedBy: (s) => s.email.find((c) => emailMatches(email, c)) });
  }
  for (const uri of names.uri) {
    const host = uriHost(uri);
    // A URI without a host (urn:…) cannot lie in any host subtree: outside every permitted one, in no excluded one.
    out.push({ form: 'uri', shown: uri, inSubtree: (s) => (host ? s.uri.find((c) => inDomain(host, c)) : undefined), excludedBy: (s) => (host ? s.uri.find((c) => excludedDomain(host, c)) : undefined) });
  }
  for (const dn of names.directory) {
    const within = (s: Subtrees) => s.directory.find((c) => directoryWithin(dn, c));
    out.push({ form: 'directory', shown: formatDistinguishedName(dn) || '(empty name)', inSubtree: (s) => (within(s) ? formatDistinguishedName(within(s)!) || '(empty name)' : undefined), excludedBy: (s) => (within(s) ? formatDistinguishedName(within(s)!) || '(empty name)' : undefined) });
  }
  return out;
}

function subtreeTexts(s: Subtrees, form: Form): string[] {
  if (form === 'ip') return s.ip.map((b) => b.text);
  if (form === 'directory') return s.directory.map((d) => formatDistinguishedName(d) || '(empty name)');
  return s[form].map((c) => c || '(any)');
}

const listed = (items: string[]) => (items.length <= 6 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`);

const HINT = 'a CA may certify only names inside its name constraints: issue this name from a CA that may certify it, or leave it out of the certificate';

/** The first name of `cert` that `nc` (of CA `caName`) does not allow, as a failure; null when all are allowed. */
function violation(cert: CertificateFields, names: CertificateNames, nc: DecodedNameConstraints, caName: string): VerifyFailure | null {
  const certificate = formatDistinguishedName(cert.subjectDer);
  const fail = (message: string): VerifyFailure => ({ code: 'ERR_NAME_CONSTRAINTS', message, certificate, hint: HINT });
  const dnsConstrained = nc.permitted.dns.length + nc.excluded.dns.length > 0;
  if (names.invalidCommonName !== null && dnsConstrained) {
    return fail(`the common name "${names.invalidCommonName}" looks like a host name but is not a valid one, so it cannot be held to the DNS name constraints of ${caName}`);
  }
  for (const tag of [...nc.permitted.unsupported, ...nc.excluded.unsupported]) {
    const form = UNSUPPORTED_FORMS[tag] ?? `[${tag}]`;
    if (names.otherForms.has(tag)) return fail(`pki cannot check names of the form ${form}, and the certificate has one under the ${form} constraints of ${caName}`);
  }
  for (const c of candidates(names)) {
    const excluded = c.excludedBy(nc.excluded);
    if (excluded !== undefined) return fail(`${c.shown} is within the excluded ${FORM_LABELS[c.form]} of ${caName} (${excluded})`);
    const permitted = subtreeTexts(nc.permitted, c.form);
    if (permitted.length > 0 && c.inSubtree(nc.permitted) === undefined) return fail(`${c.shown} is outside the permitted ${FORM_LABELS[c.form]} of ${caName} (${listed(permitted)})`);
  }
  return null;
}

const selfIssued = (c: CertificateFields) => Buffer.from(c.issuerDer).equals(c.subjectDer);

/** `path`: leaf first, trust anchor last. The first violation, from the top of the path down, is the answer. */
export function checkPathNameConstraints(path: readonly CertificateFields[]): CheckOutcome {
  const constraints: { index: number; nc: DecodedNameConstraints; caName: string }[] = [];
  for (let j = path.length - 1; j >= 1; j--) {
    const ca = path[j]!;
    const caName = formatDistinguishedName(ca.subjectDer);
    try {
      const nc = decodeNameConstraints(ca);
      if (nc !== null) constraints.push({ index: j, nc, caName });
    } catch (e) {
      const why = e instanceof UnreadableConstraints ? e.message : 'the extension is not valid DER';
      const failure = { code: 'ERR_NAME_CONSTRAINTS', message: `the name constraints of ${caName} cannot be used: ${why}`, certificate: caName, hint: 'the CA certificate must be re-issued with RFC 5280 name constraints' } as const;
      return { ok: false, name: 'nameConstraints', failure };
    }
  }
  if (constraints.length === 0) return { ok: true, name: 'nameConstraints', detail: 'no name constraints in the path' };
  for (let i = constraints[0]!.index - 1; i >= 0; i--) {
    const cert = path[i]!;
    if (i > 0 && selfIssued(cert)) continue; // §6.1.3 (b): a self-issued intermediate is exempt, the leaf is not
    let names: CertificateNames;
    try {
      names = certificateNames(cert);
    } catch {
      const failure = { code: 'ERR_NAME_CONSTRAINTS', message: 'its subjectAltName extension cannot be read, so it cannot be held to the name constraints above it', certificate: formatDistinguishedName(cert.subjectDer) } as const;
      return { ok: false, name: 'nameConstraints', failure };
    }
    for (const { index, nc, caName } of constraints) {
      if (index <= i) continue;
      const failure = violation(cert, names, nc, caName);
      if (failure) return { ok: false, name: 'nameConstraints', failure };
    }
  }
  return { ok: true, name: 'nameConstraints', detail: `every name below ${constraints.map((c) => c.caName).join(' and ')} is within its name constraints` };
}
