/**
 * The pure parts of `pki check` (src/core/check/): state boundaries, the CRL's own-lifetime rule, the
 * window checks, the Nagios status line, and the Prometheus label escaping and DN fields.
 */
import { describe, expect, it } from 'vitest';
import { nagiosStatusLine } from '../../src/core/check/nagios.js';
import { certificateLabels, decimalSerial, escapeLabelValue, parseDistinguishedName, prometheusTextfile } from '../../src/core/check/prometheus.js';
import { certificateState, crlState, DAY_MS, parseWindows, summarize, type CheckItem } from '../../src/core/check/states.js';
import { encodeSubjectName } from '../../src/core/x509/names.js';
import { formatDistinguishedName } from '../../src/core/x509/name-decoder.js';
import { expectPkiError } from '../helpers/errors.js';

const windows = parseWindows('30d', '7d');
const NOW = Date.parse('2030-01-01T00:00:00Z');

describe('certificateState', () => {
  it('OK beyond --warn, WARN within it, CRITICAL within --critical, EXPIRED once past notAfter', () => {
    const state = (leftMs: number) => certificateState(NOW + leftMs, NOW, windows);
    expect([30 * DAY_MS + 1000, 30 * DAY_MS, 7 * DAY_MS + 1000, 7 * DAY_MS, 0, -1000].map(state)).toEqual(['OK', 'WARN', 'WARN', 'CRITICAL', 'CRITICAL', 'EXPIRED']);
  });
});

describe('crlState', () => {
  const thisUpdate = NOW;
  const nextUpdate = NOW + 7 * DAY_MS;
  it('judges a CRL against its own lifetime: a third left is WARN, a day CRITICAL, nextUpdate EXPIRED', () => {
    const at = (ms: number) => crlState(thisUpdate, nextUpdate, ms);
    expect(at(NOW)).toBe('OK');
    expect(at(nextUpdate - (7 * DAY_MS) / 3 - 1000)).toBe('OK');
    expect(at(nextUpdate - (7 * DAY_MS) / 3 + 1000)).toBe('WARN');
    expect(at(nextUpdate - DAY_MS)).toBe('CRITICAL');
    expect(at(nextUpdate)).toBe('EXPIRED');
    expect(crlState(thisUpdate, null, NOW + 1000 * DAY_MS)).toBe('OK');
  });
});

describe('parseWindows', () => {
  it('refuses a bad duration and a CRITICAL window longer than the WARN one', () => {
    expectPkiError(() => parseWindows('soon', '7d'), 'ERR_INVALID_DURATION');
    expect(expectPkiError(() => parseWindows('7d', '30d'), 'ERR_USAGE').message).toBe('--critical 30d is longer than --warn 7d');
    expect(parseWindows('7d', '7d').criticalMs).toBe(7 * DAY_MS);
  });
});

function item(state: CheckItem['state'], extra: Partial<CheckItem> = {}): CheckItem {
  return {
    source: 'inventory',
    type: 'x509',
    profile: 'server',
    serial: '0A',
    subject: 'CN=a',
    issuer: 'CN=pki Intermediate CA',
    notBefore: '2029-01-01T00:00:00.000Z',
    notAfter: '2030-02-01T00:00:00.000Z',
    path: '/srv/a.crt',
    state,
    secondsLeft: 0,
    renewalDue: false,
    file: 'same',
    notes: [],
    ...extra,
  };
}

describe('nagiosStatusLine', () => {
  it('names the non-zero counts worst first and always writes every perfdata label', () => {
    const summary = summarize([item('EXPIRED'), item('WARN'), item('WARN'), item('OK', { renewalDue: true })], [{ path: '/x', message: 'bad', readError: true }]);
    expect(nagiosStatusLine(summary, windows, false)).toBe(
      'PKI CRITICAL - 1 expired, 2 expiring within 30d, 1 renewal due, 1 unreadable | expired=1;;; critical=0;;; warn=2;;; ok=1;;; renewal_due=1;;; read_errors=1;;;',
    );
    expect(nagiosStatusLine(summarize([item('OK')], []), windows, false)).toBe('PKI OK - 1 checked, none expiring within 30d | expired=0;;; critical=0;;; warn=0;;; ok=1;;; renewal_due=0;;; read_errors=0;;;');
  });
});

describe('Prometheus labels', () => {
  it('escapes backslash, double quote and line feed (exposition format)', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('reads RFC 4514 text back as formatDistinguishedName wrote it, escapes undone, in encoded order', () => {
    const der = encodeSubjectName({ commonName: 'x,y+"z"\\ ', organization: '#hash' });
    const text = formatDistinguishedName(der);
    const attrs = parseDistinguishedName(text);
    expect(attrs.find((a) => a.type === 'CN')?.value).toBe('x,y+"z"\\ ');
    expect(attrs.find((a) => a.type === 'O')?.value).toBe('#hash');
    expect(parseDistinguishedName('CN=b,OU=u2,OU=u1,C=DE').map((a) => a.type)).toEqual(['C', 'OU', 'OU', 'CN']);
  });

  it('labels as Go pkix.Name fills them: first O/OU in encoded order, last CN; serial in decimal', () => {
    const labels = certificateLabels({ path: '/etc/ssl/a.crt', serial: 'FF', subject: 'CN=last,CN=first,OU=second,OU=first', issuer: 'CN=ca' });
    expect(labels).toBe('{filename="a.crt",filepath="/etc/ssl/a.crt",issuer_CN="ca",serial_number="255",subject_CN="last",subject_OU="first"}');
    expect(decimalSerial('6A1C2F0D8B3E4F5061728394A5B6C7D8')).toBe(BigInt('0x6A1C2F0D8B3E4F5061728394A5B6C7D8').toString(10));
  });

  it('groups each family together, HELP and TYPE first, even when empty', () => {
    const text = Buffer.from(prometheusTextfile([item('OK'), item('EXPIRED', { serial: '0B', path: '/srv/b.crt' })], [], new Date(NOW))).toString('utf8');
    const names = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
    expect(names).toEqual([
      'x509_cert_not_before',
      'x509_cert_not_after',
      'x509_cert_expired',
      'x509_read_errors',
      'pki_certificate_renewal_due',
      'pki_ssh_cert_not_after',
      'pki_crl_next_update_timestamp_seconds',
      'pki_check_last_run_timestamp_seconds',
    ]);
    expect(text).toMatch(/^x509_cert_expired\{filename="b\.crt",.*\} 1$/m);
  });
});
