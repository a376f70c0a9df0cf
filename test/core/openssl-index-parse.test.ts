/**
 * The index.txt reader (`pki init --import-index`): openssl's lines as `openssl ca` writes them, reasons
 * in openssl's spelling, UTCTime and GeneralizedTime, the writer's output read back, and every bad line
 * refused with ERR_MALFORMED_INDEX naming its number.
 */
import { describe, expect, it } from 'vitest';
import { formatOpensslIndex } from '../../src/core/lifecycle/openssl-index.js';
import { parseOpensslIndex, parseOpensslTime, subjectFromOneLine } from '../../src/core/lifecycle/openssl-index-parse.js';
import { expectPkiError } from '../helpers/errors.js';

describe('parseOpensslIndex', () => {
  it('reads V, R (with and without a reason, and with openssl extra field) and E lines', () => {
    const text = [
      'V\t271202054115Z\t\t1000\tunknown\t/CN=web.example.com',
      'R\t271202054116Z\t261202054116Z,keyCompromise\t1001\tunknown\t/O=Example/CN=db.example.com',
      'R\t271202054116Z\t261202054116Z\t02\tunknown\t/CN=plain',
      'R\t271202054116Z\t261202054116Z,holdInstruction,1.2.840.10040.2.1\t03\tunknown\t/CN=hold',
      'E\t200101000000Z\t\t0A\tnewcerts/0A.pem\t/CN=old',
      '',
    ].join('\n');
    const entries = parseOpensslIndex(text);
    expect(entries.map((e) => [e.line, e.status, e.serial, e.serialText, e.reason])).toEqual([
      [1, 'valid', '1000', '1000', null],
      [2, 'revoked', '1001', '1001', 'keyCompromise'],
      [3, 'revoked', '2', '02', null],
      [4, 'revoked', '3', '03', 'certificateHold'],
      [5, 'expired', 'A', '0A', null],
    ]);
    expect(entries[1]!.revokedAt?.toISOString()).toBe('2026-12-02T05:41:16.000Z');
    expect(entries[1]!.notAfter.toISOString()).toBe('2027-12-02T05:41:16.000Z');
    expect(entries[4]!.fileName).toBe('newcerts/0A.pem');
    expect(subjectFromOneLine(entries[1]!.subject)).toBe('CN=db.example.com,O=Example');
  });

  it('reads back what pki db export-index writes (UTCTime through 2049, GeneralizedTime from 2050)', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const written = formatOpensslIndex(
      [
        { serialHex: 'ABCD', notAfter: new Date('2060-05-01T10:00:00Z'), revokedAt: null, reason: null, subjectDer: null },
        { serialHex: '1F', notAfter: new Date('2031-05-01T10:00:00Z'), revokedAt: new Date('2030-01-01T00:00:00Z'), reason: 'cACompromise', subjectDer: null },
      ],
      now,
    );
    const [a, b] = parseOpensslIndex(written);
    expect(a).toMatchObject({ status: 'valid', serial: 'ABCD', notAfter: new Date('2060-05-01T10:00:00Z') });
    expect(b).toMatchObject({ status: 'revoked', serial: '1F', reason: 'cACompromise', revokedAt: new Date('2030-01-01T00:00:00Z') });
  });

  it('reads UTCTime years 50–99 as 19xx and refuses impossible dates', () => {
    expect(parseOpensslTime('991231235959Z')?.toISOString()).toBe('1999-12-31T23:59:59.000Z');
    expect(parseOpensslTime('20501231235959Z')?.toISOString()).toBe('2050-12-31T23:59:59.000Z');
    expect(parseOpensslTime('261340000000Z')).toBeNull();
    expect(parseOpensslTime('260230000000Z')).toBeNull();
    expect(parseOpensslTime('2612010000Z')).toBeNull();
  });

  it.each([
    ['five fields', 'V\t271202054115Z\t\t1000\tunknown', /line 2: 5 tab-separated fields, expected 6/],
    ['an unknown status', 'X\t271202054115Z\t\t1000\tunknown\t/CN=a', /line 2: status "X"/],
    ['a bad expiry', 'V\t2712020541Z\t\t1000\tunknown\t/CN=a', /line 2: expiry "2712020541Z"/],
    ['a non-hex serial', 'V\t271202054115Z\t\t10G0\tunknown\t/CN=a', /line 2: serial "10G0" is not hexadecimal/],
    ['an empty serial', 'V\t271202054115Z\t\t\tunknown\t/CN=a', /line 2: serial "" is not hexadecimal/],
    ['R without a time', 'R\t271202054115Z\t\t1000\tunknown\t/CN=a', /line 2: status R without a revocation time/],
    ['R with a bad time', 'R\t271202054115Z\tyesterday\t1000\tunknown\t/CN=a', /line 2: revocation time "yesterday"/],
    ['an unknown reason', 'R\t271202054115Z\t261202054116Z,lostIt\t1000\tunknown\t/CN=a', /line 2: unknown revocation reason "lostIt"/],
    ['V with a revocation field', 'V\t271202054115Z\t261202054116Z\t1000\tunknown\t/CN=a', /line 2: status V with a revocation field/],
    ['a serial listed twice', 'V\t271202054115Z\t\t01\tunknown\t/CN=a', /line 2: serial 1 is listed again \(first on line 1\)/],
  ])('refuses %s, naming the line', (_name, bad, message) => {
    const e = expectPkiError(() => parseOpensslIndex(`V\t271202054115Z\t\t1\tunknown\t/CN=first\n${bad}\n`), 'ERR_MALFORMED_INDEX');
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(/STATUS<TAB>EXPIRY/);
  });
});
