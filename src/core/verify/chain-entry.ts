/** A certificate of the validated path as `pki verify --json` prints it (types.ts ChainEntry). */
import { sha256Fingerprint } from '../x509/fingerprint.js';
import type { PathCertificate } from './path-certificate.js';
import type { ChainEntry } from './types.js';

/** RFC 3339 in UTC, whole seconds (`2026-10-01T00:00:00Z`): certificate times have no fractions. */
export function rfc3339Seconds(date: Date): string {
  // Built from the UTC fields: Date#toISOString's first call costs ~1 ms of a cold process, this ~0.05 ms.
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${p(date.getUTCFullYear(), 4)}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}T${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}Z`;
}

export function chainEntryOf(certificate: PathCertificate): ChainEntry {
  const f = certificate.fields;
  return {
    subject: certificate.subject(),
    issuer: certificate.issuer(),
    serial: f.serial.toUpperCase(),
    notBefore: rfc3339Seconds(f.notBefore),
    notAfter: rfc3339Seconds(f.notAfter),
    // types.ts: lower-case hex (sha256Fingerprint is the inventory's upper-case form).
    fingerprintSha256: sha256Fingerprint(f.der).toLowerCase(),
  };
}
