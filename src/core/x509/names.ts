/**
 * Names: service/variant names (which become folder names), subject distinguished names, and Subject
 * Alternative Names — the one place a SAN string is classified (IP, email, URI or DNS) and validated.
 */
import { domainToASCII } from 'node:url';
import { oid, sequence, set, tlv } from '../der/writer.js';
import { PkiError } from '../errors.js';

export type SanType = 'dns' | 'ip' | 'email' | 'uri';
export interface San {
  readonly type: SanType;
  /** Normalised text: lower-case A-label DNS names, canonical IP text. */
  readonly value: string;
}

/** Names grouped by type, as reports and inventory rows carry them. */
export interface SanSet {
  readonly dns: string[];
  readonly ip: string[];
  readonly email: string[];
  readonly uri: string[];
}

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Service, variant and client names become path components, so anything that could leave the output
 * folder (`..`, `/`, absolute paths) or hide a file (`.x`) is refused.
 */
export function validateServiceName(kind: string, name: string): string {
  if (!SERVICE_NAME.test(name) || name.includes('..')) {
    throw new PkiError('ERR_INVALID_NAME', `${kind} name "${name}" is not allowed`, {
      hint: `use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. redis, main)`,
    });
  }
  return name;
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function invalidSan(value: string, why: string): PkiError {
  return new PkiError('ERR_INVALID_SAN', `invalid SAN "${value}": ${why}`, {
    hint: 'a SAN is a DNS name (api.example.com, *.example.com), an IP address, an email address or a URI with a scheme (spiffe://…)',
  });
}

/** Validates a DNS name; returns the lower-case A-label form (IDNA U-labels are converted with UTS #46). */
export function normalizeDnsName(input: string, options: { allowWildcard: boolean } = { allowWildcard: true }): string {
  let name = input.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0) throw invalidSan(input, 'empty name');
  let wildcard = false;
  if (name.startsWith('*.')) {
    if (!options.allowWildcard) throw invalidSan(input, 'a wildcard is not allowed here');
    wildcard = true;
    name = name.slice(2);
  }
  if (name.includes('*')) throw invalidSan(input, 'a wildcard may only be the whole left-most label (*.example.com)');
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name);
    if (!ascii) throw invalidSan(input, 'not a valid internationalised domain name');
    name = ascii;
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (!DNS_LABEL.test(label)) throw invalidSan(input, `"${label}" is not a valid DNS label`);
    // An xn-- label must decode: reject garbage that only looks like punycode.
    if (label.startsWith('xn--') && domainToASCII(label) !== label) throw invalidSan(input, `"${label}" is not valid punycode`);
  }
  if (wildcard && labels.length < 2) throw invalidSan(input, 'a wildcard needs at least two labels after it (*.example.com)');
  const full = (wildcard ? '*.' : '') + name;
  if (full.length > 253) throw invalidSan(input, 'longer than 253 characters');
  return full;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * 4, 6 or 0, accepting exactly what node:net's isIP accepts (zone ids included), written out because the
 * first use of node:net's IPv6 regular expression compiles for 30+ ms — paid by every `pki generate`, whose
 * default SANs include ::1 (issue 5) — and loading node:net costs more again.
 */
function ipFamily(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  const zone = text.indexOf('%');
  if (zone >= 0 && !/^[0-9a-zA-Z.:-]+$/.test(text.slice(zone + 1))) return 0;
  const address = zone >= 0 ? text.slice(0, zone) : text;
  const gap = address.indexOf('::');
  if (gap !== address.lastIndexOf('::')) return 0;
  const parts = gap < 0 ? address.split(':') : [...(gap > 0 ? address.slice(0, gap).split(':') : []), ...(gap + 2 < address.length ? address.slice(gap + 2).split(':') : [])];
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes('.') && address.endsWith(part)) {
      if (!IPV4.test(part)) return 0;
      groups += 2;
    } else if (IPV6_GROUP.test(part)) {
      groups += 1;
    } else {
      return 0;
    }
  }
  return (gap < 0 ? groups === 8 : groups <= 7) ? 6 : 0;
}

/**
 * Canonical text of an IPv4 or IPv6 address, or null. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`,
 * `::ffff:a00:1`) is the IPv4 address itself: it is folded to its 4-octet form, as Go's crypto/x509 (so
 * step) encodes it, so that name constraints on 10.0.0.0/8 cover it — in pki's checks and in every
 * verifier, which compare iPAddress and constraint of the same length only.
 */
function normalizeIp(value: string): string | null {
  const v = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  const family = ipFamily(v);
  if (family === 4) return v.split('.').map((o) => String(Number(o))).join('.');
  if (family === 6) {
    const bytes = ipToBytes(v.split('%')[0]!); // a zone is refused by parseSan
    return formatIpBytes(isIpv4Mapped(bytes) ? bytes.subarray(12) : bytes);
  }
  return null;
}

/** ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
function isIpv4Mapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Classifies and validates one SAN string (`--san`). */
export function parseSan(raw: string): San {
  const value = raw.trim();
  if (value.length === 0) throw invalidSan(raw, 'empty value');
  if (/[\s\x00-\x1f\x7f]/.test(value)) throw invalidSan(raw, 'contains white space or control characters');
  const ip = normalizeIp(value);
  // node:net accepts `fe80::1%eth0`; an iPAddress SAN has no room for the zone, which would silently vanish.
  if (ip !== null && value.includes('%')) throw invalidSan(raw, 'an IPv6 zone identifier (%…) cannot appear in a certificate');
  if (ip !== null) return { type: 'ip', value: ip };
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    // Only URIs with an authority (scheme://) or URNs: "host:port" is a common mistake, not a URI.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^urn:/i.test(value)) {
      throw invalidSan(raw, 'looks like host:port; give the host name alone, or a URI with "scheme://"');
    }
    if (/[^\x21-\x7e]/.test(value)) throw invalidSan(raw, 'URIs must be ASCII (percent-encode other characters)');
    try {
      new URL(value);
    } catch {
      throw invalidSan(raw, 'not a valid URI');
    }
    return { type: 'uri', value };
  }
  if (value.includes('@')) {
    const at = value.lastIndexOf('@');
    const local = value.slice(0, at);
    const domain = value.slice(at + 1);
    if (!/^[\x21-\x7e]{1,64}$/.test(local) || local.includes('@')) throw invalidSan(raw, 'not a valid email address');
    return { type: 'email', value: `${local}@${normalizeDnsName(domain, { allowWildcard: false })}` };
  }
  if (/^[\d.]+$/.test(value)) throw invalidSan(raw, 'not a valid IPv4 address');
  if (value.includes(':')) throw invalidSan(raw, 'not a valid IPv6 address');
  return { type: 'dns', value: normalizeDnsName(value) };
}

/** SANs per certificate when pki.json sets no `maxSans`: more than any service needs, far below what bloats a handshake. */
export const DEFAULT_MAX_SANS = 100;

/** Refuses more SANs than a certificate may carry (`max`, pki.json `maxSans`). */
export function checkSanCount(sans: readonly San[], max: number): void {
  if (sans.length > max) {
    throw new PkiError('ERR_POLICY', `${sans.length} subject alternative names is more than the ${max} a certificate may carry`, {
      hint: 'split the names over several certificates, or raise maxSans in pki.json',
    });
  }
}

/** Parses, validates and de-duplicates SANs, keeping the first occurrence's order. */
export function parseSans(values: readonly string[]): San[] {
  const seen = new Set<string>();
  const out: San[] = [];
  for (const v of values) {
    const san = parseSan(v);
    const key = `${san.type}:${san.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(san);
    }
  }
  return out;
}

export function groupSans(sans: readonly San[]): SanSet {
  const set: SanSet = { dns: [], ip: [], email: [], uri: [] };
  for (const s of sans) set[s.type].push(s.value);
  return set;
}

/** IPv4 → 4 bytes, IPv6 → 16 bytes (RFC 5280 §4.2.1.6 iPAddress). */
export function ipToBytes(ip: string): Buffer {
  if (ipFamily(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  let text = ip;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const tail: number[] = [];
  if (v4tail) {
    tail.push(...v4tail[1]!.split('.').map(Number));
    text = text.slice(0, -v4tail[1]!.length) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length) bytes.set(tail, 12);
  return bytes;
}

/** Canonical text for 4- or 16-byte addresses (RFC 5952 for IPv6). */
export function formatIpBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return Buffer.from(bytes).toString('hex');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** GeneralName DER (context tags of RFC 5280 §4.2.1.6, IMPLICIT). */
export function encodeGeneralName(san: San): Buffer {
  switch (san.type) {
    case 'email':
      return tlv(0x81, Buffer.from(san.value, 'ascii'));
    case 'dns':
      return tlv(0x82, Buffer.from(san.value, 'ascii'));
    case 'uri':
      return tlv(0x86, Buffer.from(san.value, 'ascii'));
    case 'ip':
      return tlv(0x87, ipToBytes(san.value));
  }
}

/** Subject attributes pki sets, in the order they appear in the DN. */
export interface SubjectName {
  readonly commonName?: string;
  readonly organization?: string;
  /** OU, C (two letters, PrintableString), ST and L: set by a pki.json profile's `subject` (core/x509/profile-config.ts). */
  readonly organizationalUnit?: string;
  readonly country?: string;
  readonly state?: string;
  readonly locality?: string;
  /**
   * An already-encoded Name used byte for byte instead of the attributes above (renewal keeps the old
   * certificate's subject exactly, whatever attributes and string types it has). commonName/organization
   * then only describe it, for the empty-subject checks.
   */
  readonly encoded?: Uint8Array;
}

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_OU = '2.5.4.11';
const OID_C = '2.5.4.6';
const OID_ST = '2.5.4.8';
const OID_L = '2.5.4.7';

/**
 * Name DER (RFC 5280 §4.1.2.4): one attribute per RDN, in the customary C, ST, L, O, OU, CN order;
 * UTF8String values as RFC 5280 requires for new certs, except countryName, which X.520 fixes as a
 * two-letter PrintableString.
 */
export function encodeSubjectName(name: SubjectName): Buffer {
  if (name.encoded) return Buffer.from(name.encoded);
  const rdns: Buffer[] = [];
  const attr = (type: string, value: string) => set(sequence(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
  if (name.country) rdns.push(set(sequence(oid(OID_C), tlv(0x13, Buffer.from(name.country, 'ascii')))));
  if (name.state) rdns.push(attr(OID_ST, name.state));
  if (name.locality) rdns.push(attr(OID_L, name.locality));
  if (name.organization) rdns.push(attr(OID_O, name.organization));
  if (name.organizationalUnit) rdns.push(attr(OID_OU, name.organizationalUnit));
  if (name.commonName) rdns.push(attr(OID_CN, name.commonName));
  return sequence(...rdns);
}

/** Refuses a CommonName that cannot be encoded (RFC 5280 ub-common-name is 64 characters). */
export function validateCommonName(cn: string): string {
  if (cn.length === 0 || cn.length > 64 || /[\x00-\x1f\x7f]/.test(cn)) {
    throw new PkiError('ERR_INVALID_NAME', `common name "${cn}" must be 1 to 64 printable characters`);
  }
  return cn;
}
