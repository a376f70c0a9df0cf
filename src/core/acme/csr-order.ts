/**
 * ACME finalize (RFC 8555 §7.4): the names a CSR asks for must be exactly the order's identifiers, as a
 * set — every SAN (DNS and IP) and the subject CN, when there is one, is an identifier of the order, and
 * every identifier is asked for. Names are compared normalised: DNS lower case without a trailing dot,
 * IP addresses in their canonical text (`::1`, not `0:0::1`). Email and URI SANs are never in an order.
 */
import type { San } from '../x509/names.js';
import { parseSan } from '../x509/names.js';
import type { Identifier } from './identifier-pattern.js';

/** The identifier's canonical key (`dns:a.test`, `ip:10.0.0.1`), or null when it is not a valid name of its type. */
export function identifierKey(identifier: Identifier): string | null {
  try {
    const san = parseSan(identifier.value);
    if (san.type !== identifier.type) return null;
    return `${san.type}:${san.value}`;
  } catch {
    return null;
  }
}

export type CsrOrderMatch = { readonly ok: true } | { readonly ok: false; readonly detail: string };

/** Whether `sans` and `commonName` (as the CSR policy read them) are exactly `identifiers`; else what differs. */
export function matchCsrToOrder(sans: readonly San[], commonName: string | undefined, identifiers: readonly Identifier[]): CsrOrderMatch {
  const wanted = new Set<string>();
  for (const id of identifiers) {
    const key = identifierKey(id);
    if (key !== null) wanted.add(key);
  }
  const other = sans.filter((s) => s.type !== 'dns' && s.type !== 'ip');
  if (other.length > 0) return { ok: false, detail: `the CSR asks for ${other.map((s) => `${s.type} name ${s.value}`).join(', ')}, which an ACME order cannot hold` };
  const asked = new Set<string>(sans.map((s) => `${s.type}:${s.value}`));
  if (commonName !== undefined) {
    let key: string | null = null;
    try {
      const san = parseSan(commonName);
      key = `${san.type}:${san.value}`;
    } catch {
      key = null;
    }
    if (key === null || !wanted.has(key)) return { ok: false, detail: `the CSR's common name "${commonName}" is not an identifier of the order` };
    asked.add(key);
  }
  const extra = [...asked].filter((k) => !wanted.has(k));
  const missing = [...wanted].filter((k) => !asked.has(k));
  if (extra.length === 0 && missing.length === 0) return { ok: true };
  const parts: string[] = [];
  if (extra.length) parts.push(`not in the order: ${extra.join(', ')}`);
  if (missing.length) parts.push(`in the order but not in the CSR: ${missing.join(', ')}`);
  return { ok: false, detail: `the CSR's names differ from the order's identifiers (${parts.join('; ')})` };
}
