/**
 * The OpenSSL CA database format (`index.txt`, read by `openssl ca` and `openssl ocsp -index`): one line
 * per certificate, six tab-separated fields — status (V valid, R revoked, E expired), expiry time,
 * revocation time[,reason], serial (upper-case hex, even length), file name ("unknown") and subject in
 * OpenSSL's one-line form (/O=…/CN=…). See apps/ca.c and the `openssl-ca(1)` manual.
 */
import { decodeName } from '../x509/name-decoder.js';
import type { RevocationReason } from '../x509/revocation-reason.js';

export interface OpensslIndexEntry {
  readonly serialHex: string;
  readonly notAfter: Date;
  readonly revokedAt: Date | null;
  readonly reason: RevocationReason | null;
  /** Subject Name DER (from the certificate); null writes /CN=unknown. */
  readonly subjectDer: Uint8Array | null;
}

/**
 * Reason names openssl's index understands (apps/ca.c crl_reasons). privilegeWithdrawn and aACompromise
 * have no spelling there and are written without a reason, as is unspecified (what `openssl ca -revoke`
 * writes when no reason is given).
 */
const OPENSSL_REASONS: Partial<Record<RevocationReason, string>> = {
  keyCompromise: 'keyCompromise',
  cACompromise: 'CACompromise',
  affiliationChanged: 'affiliationChanged',
  superseded: 'superseded',
  cessationOfOperation: 'cessationOfOperation',
  certificateHold: 'certificateHold',
  removeFromCRL: 'removeFromCRL',
};

/** ASN.1 time text as OpenSSL stores it: YYMMDDHHMMSSZ through 2049, YYYYMMDDHHMMSSZ from 2050 (RFC 5280 §4.1.2.5). */
export function opensslTime(date: Date): string {
  const iso = date.toISOString(); // 2026-03-01T12:00:00.000Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? digits.slice(2) : digits;
}

/** `/O=Example/CN=api`: attributes in encoded order, as X509_NAME_oneline prints them. */
export function opensslOneLineName(subjectDer: Uint8Array): string {
  const text = decodeName(subjectDer)
    .flat()
    .map((a) => `/${a.type}=${a.value.replace(/[\t\r\n]/g, ' ')}`)
    .join('');
  return text || '/';
}

export function formatOpensslIndexLine(entry: OpensslIndexEntry, now: Date): string {
  let serial = entry.serialHex.toUpperCase();
  if (serial.length % 2) serial = `0${serial}`;
  const status = entry.revokedAt ? 'R' : entry.notAfter.getTime() <= now.getTime() ? 'E' : 'V';
  const reason = entry.reason ? OPENSSL_REASONS[entry.reason] : undefined;
  const revoked = entry.revokedAt ? `${opensslTime(entry.revokedAt)}${reason ? `,${reason}` : ''}` : '';
  const subject = entry.subjectDer ? opensslOneLineName(entry.subjectDer) : '/CN=unknown';
  return [status, opensslTime(entry.notAfter), revoked, serial, 'unknown', subject].join('\t');
}

/** The whole index.txt, one line per entry, newline-terminated. */
export function formatOpensslIndex(entries: Iterable<OpensslIndexEntry>, now: Date): string {
  let out = '';
  for (const e of entries) out += `${formatOpensslIndexLine(e, now)}\n`;
  return out;
}
