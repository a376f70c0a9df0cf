/**
 * The textfile's chunked encoding (core/check/prometheus.ts Pieces, issue 11 W7): lines are encoded into
 * 256 KiB chunks, a line that does not fit starts the next one, a line longer than a chunk gets its own
 * piece. Checked against the text written line by line as strings, over enough certificates for a dozen
 * chunks, with non-ASCII subjects (UTF-8 widths) and one subject longer than a chunk.
 */
import { describe, expect, it } from 'vitest';
import { certificateLabels, prometheusTextfile, prometheusTextfilePieces } from '../../src/core/check/prometheus.js';
import type { CheckItem } from '../../src/core/check/states.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function certificate(i: number): CheckItem {
  const subject = i === 1234 ? `CN=${'long'.repeat(100_000)}` : i % 3 === 0 ? `CN=hôte-${i} ${'証明書'.repeat(50)},O=Société "${i}"` : `CN=host${i}.example`;
  return {
    source: 'inventory',
    type: 'x509',
    profile: 'server',
    serial: (i + 1).toString(16).toUpperCase(),
    subject,
    issuer: 'CN=pki Intermediate CA',
    notBefore: new Date(NOW - i * 1000).toISOString(),
    notAfter: new Date(NOW + i * 1000).toISOString(),
    path: `/srv/certs/host${i}.crt`,
    state: i % 7 === 0 ? 'EXPIRED' : 'OK',
    secondsLeft: i,
    renewalDue: i % 5 === 0 ? null : i % 2 === 0,
    file: 'same',
    notes: [],
  };
}

/** The same text built the plain way: one string per line. */
function expectedText(items: CheckItem[]): string {
  const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const family = (name: string, help: string, value: (i: CheckItem) => string | null) =>
    `# HELP ${name} ${help}\n# TYPE ${name} gauge\n` +
    items.map((i) => (value(i) === null ? '' : `${name}${certificateLabels(i)} ${value(i)}\n`)).join('');
  return [
    family('x509_cert_not_before', "Indicates the certificate's not before timestamp", (i) => `${s(i.notBefore)}`),
    family('x509_cert_not_after', "Indicates the certificate's not after timestamp", (i) => `${s(i.notAfter!)}`),
    family('x509_cert_expired', 'Indicates if the certificate is expired', (i) => (i.state === 'EXPIRED' ? '1' : '0')),
    '# HELP x509_read_errors Indicates the number of read failure(s)\n# TYPE x509_read_errors gauge\nx509_read_errors 0\n',
    family(
      'pki_certificate_renewal_due',
      'Whether the certificate is past the renewal threshold of pki renew --all (1) or not (0); inventory certificates only',
      (i) => (i.renewalDue === null ? null : i.renewalDue ? '1' : '0'),
    ),
  ].join('');
}

describe('prometheusTextfilePieces', () => {
  it('encodes 5,000 certificates across many chunks exactly as the line-by-line text, UTF-8 and an oversized line included', () => {
    const items = Array.from({ length: 5000 }, (_, i) => certificate(i));
    const pieces = prometheusTextfilePieces(items, [], new Date(NOW));
    expect(pieces.length).toBeGreaterThan(10);
    const text = Buffer.concat(pieces).toString('utf8');
    const families = text.slice(0, text.indexOf('# HELP pki_ssh_cert_not_after'));
    expect(families).toBe(expectedText(items));
    expect(Buffer.from(prometheusTextfile(items, [], new Date(NOW))).equals(Buffer.concat(pieces))).toBe(true);
  });
});
