/**
 * ACME identifier allowlists (issue 13, docs/serve.md "Patterns"): `*.test` matches exactly one label under
 * test (as a certificate wildcard does), `.internal` every name under internal (at any depth, not
 * `internal` itself), a bare name only itself, a CIDR the IP identifiers inside it. A wildcard identifier
 * (`*.app.test`) is allowed by `.test`-style and by `*.test`-style patterns only when every name it stands
 * for would be (`*.internal` is under `.internal`). Names are compared normalised (lower case, no trailing
 * dot); a name that is not a DNS name (an empty or over-long label, a `*` anywhere but a whole first label)
 * matches nothing, and so does a CIDR with a prefix length that is not 0–32 / 0–128 digits.
 */
import { isIP } from 'node:net';
import { ipToBytes } from '../x509/names.js';

export interface Identifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A DNS identifier's syntax (normalised): labels of 1–63 letters, digits, `-`, `_`; `*` only as a whole first label. */
export function isDnsName(name: string): boolean {
  const n = normalize(name);
  if (n.length === 0 || n.length > 253) return false;
  const labels = n.split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((l) => LABEL.test(l));
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base = '', bitsText] = cidr.split('/');
  if (!isIP(base) || !isIP(ip)) return false;
  const a = ipToBytes(base);
  const b = ipToBytes(ip);
  if (a.length !== b.length) return false;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return false;
  const bits = bitsText === undefined ? a.length * 8 : Number(bitsText);
  if (bits > a.length * 8) return false;
  for (let i = 0; i < a.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** Whether `pattern` is a CIDR (or a bare IP address) rather than a DNS pattern. */
export function isIpPattern(pattern: string): boolean {
  return isIP(pattern.split('/')[0] ?? '') !== 0;
}

export function matchesIdentifierPattern(identifier: Identifier, pattern: string): boolean {
  if (identifier.type === 'ip') return isIpPattern(pattern) && cidrContains(pattern, identifier.value);
  if (isIpPattern(pattern) || !isDnsName(identifier.value)) return false;
  const name = normalize(identifier.value);
  const p = normalize(pattern);
  if (p.startsWith('*.')) {
    const base = p.slice(2);
    // `*.test` covers a.test and the wildcard *.test itself, never a.b.test or test.
    if (name.startsWith('*.')) return name.slice(2) === base;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === base;
  }
  if (p.startsWith('.')) {
    // `.internal` covers a.internal, a.b.internal, and the wildcards *.internal and *.a.internal.
    if (name.startsWith('*.')) return name.slice(1) === p || name.slice(2).endsWith(p);
    return name.endsWith(p) && name.length > p.length;
  }
  return name === p;
}

export function isIdentifierAllowed(identifier: Identifier, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesIdentifierPattern(identifier, p));
}
