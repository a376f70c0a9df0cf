/**
 * Regression tests for the bugs the fuzz and property suites found (issue 6). Each is named after what
 * broke, and pins the minimal input that broke it.
 */
import { describe, expect, it } from 'vitest';
import { PkiError } from '../../src/core/errors.js';
import { inspectBytes } from '../../src/core/inspect/index.js';
import { inspectKey } from '../../src/core/inspect/key.js';
import { formatDistinguishedName } from '../../src/core/x509/name-decoder.js';
import { parseSan } from '../../src/core/x509/names.js';
import { decodePem } from '../../src/core/der/pem.js';
import { parseDuration, parseTimeSpec } from '../../src/core/x509/validity.js';
import { overLimit, timeCall, type Timing } from '../helpers/cpu-time.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof PkiError) return e.code;
    throw e;
  }
  return 'no error';
}

/** Runs `fn` (a PkiError is its result) and measures it in CPU time: a loaded machine must not fail a linear-time check. */
function timed<T>(fn: () => T): Timing & { result: T | PkiError } {
  return timeCall((): T | PkiError => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof PkiError)) throw e;
      return e;
    }
  });
}

/** Name ::= SEQUENCE { SET { SEQUENCE { OID cn, <value> } } } around one encoded attribute value. */
function nameWithCn(value: Buffer): Buffer {
  const atv = Buffer.concat([Buffer.from('0603550403', 'hex'), value]);
  const seq = Buffer.concat([Buffer.from([0x30, atv.length]), atv]);
  const set = Buffer.concat([Buffer.from([0x31, seq.length]), seq]);
  return Buffer.concat([Buffer.from([0x30, set.length]), set]);
}

describe('formatDistinguishedName', () => {
  it('UniversalString with a code point past U+10FFFF threw RangeError: now printed as #hex', () => {
    const der = nameWithCn(Buffer.from('1c04ffffffff', 'hex'));
    expect(formatDistinguishedName(der)).toBe('CN=#1c04ffffffff');
  });

  it('UniversalString whose length is not a multiple of 4 lost its tail silently: now printed as #hex', () => {
    expect(formatDistinguishedName(nameWithCn(Buffer.from('1c050000004178', 'hex')))).toBe('CN=#1c050000004178');
    expect(formatDistinguishedName(nameWithCn(Buffer.from('1c0400000041', 'hex')))).toBe('CN=A');
  });

  it('a UTF8String CN spelled like a #hex encoding printed unescaped (read back as another name): now \\#', () => {
    const spoof = Buffer.from('#0c03616263', 'utf8');
    const der = nameWithCn(Buffer.concat([Buffer.from([0x0c, spoof.length]), spoof]));
    expect(formatDistinguishedName(der)).toBe('CN=\\#0c03616263');
  });
});

describe('formatDistinguishedName agrees with openssl -nameopt RFC2253 (found by round-trip.test.ts)', () => {
  const utf8Cn = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    return nameWithCn(Buffer.concat([Buffer.from([0x0c, bytes.length]), bytes]));
  };
  it('a CN of one space printed "\\\\ " (an escaped backslash, reading back as "\\"): now "\\ "', () => {
    expect(formatDistinguishedName(utf8Cn(' '))).toBe('CN=\\ ');
    expect(formatDistinguishedName(utf8Cn('  '))).toBe('CN=\\ \\ ');
  });
  it('"=" was escaped where openssl and Go print it bare', () => {
    expect(formatDistinguishedName(utf8Cn('a=b'))).toBe('CN=a=b');
  });
  it('control characters were escaped in lower-case hex and DEL not at all: now \\1F and \\7F as openssl prints them', () => {
    expect(formatDistinguishedName(utf8Cn('a\x1fb\x7f'))).toBe('CN=a\\1Fb\\7F');
  });
});

describe('inspectKey (ENCRYPTED PRIVATE KEY)', () => {
  it.each([
    ['empty AlgorithmIdentifier', '3004300004 00'],
    ['PBES2 without parameters content', '3011300f06092a864886f70d01050d3002300004 00'],
    ['PBES2 with an empty KDF', '3015300f06092a864886f70d01050d3004300030000400'],
  ])('%s threw TypeError (reading .tag of undefined): now ERR_MALFORMED_KEY', (_name, hex) => {
    const der = Buffer.from(hex.replace(/ /g, ''), 'hex');
    expect(codeOf(() => inspectKey('ENCRYPTED PRIVATE KEY', der))).toMatch(/^ERR_MALFORMED_(KEY|DER)$/);
  });

  it('through inspectBytes, as `pki inspect` reads a PEM file', () => {
    const text = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAQwAAQA\n-----END ENCRYPTED PRIVATE KEY-----\n';
    expect(codeOf(() => inspectBytes(Buffer.from(text)))).toBe('ERR_MALFORMED_KEY');
  });
});

describe('decodePem', () => {
  // Before the fix each took seconds at 50 KB and minutes at 1 MB (quadratic regex backtracking).
  const mb = 1 << 20;
  it.each([
    ['a 1 MiB body of newlines', `-----BEGIN CERTIFICATE-----${'\n'.repeat(mb)}-----END CERTIFICATE-----`, 'ERR_MALFORMED_PEM'],
    ['1 MiB of spaces before a bad character', `-----BEGIN CERTIFICATE-----\nAAAA${' '.repeat(mb)}!\n-----END CERTIFICATE-----`, 'ERR_MALFORMED_PEM'],
    ['1 MiB of blank lines before a colon', `-----BEGIN CERTIFICATE-----\nAAAA${'\n '.repeat(mb / 2)}:\n-----END CERTIFICATE-----`, 'ERR_MALFORMED_PEM'],
    ['1 MiB of white space after padding, then a bad character', `-----BEGIN CERTIFICATE-----\nAA==${'\n'.repeat(mb)}!\n-----END CERTIFICATE-----`, 'ERR_MALFORMED_PEM'],
  ])('%s backtracked quadratically (a hang): now linear', (_name, text, code) => {
    const { result, ...timing } = timed(() => decodePem(text));
    expect((result as PkiError).code).toBe(code);
    expect(overLimit(timing, 1000)).toBeNull();
  });

  it('still refuses legacy encapsulated headers and still accepts padding followed by white space', () => {
    expect(codeOf(() => decodePem('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----'))).toBe(
      'ERR_MALFORMED_PEM',
    );
    expect(decodePem('-----BEGIN X-----\nAAE=\n \n-----END X-----')[0]!.der).toEqual(new Uint8Array([0, 1]));
    expect(codeOf(() => decodePem('-----BEGIN X-----\nAA=\n=\n-----END X-----'))).toBe('ERR_MALFORMED_PEM');
    expect(codeOf(() => decodePem('-----BEGIN X-----\nAA=A\n-----END X-----'))).toBe('ERR_MALFORMED_PEM');
  });
});

describe('durations and times', () => {
  it('parseTimeSpec("999999999y") returned an Invalid Date (toISOString then threw RangeError): now ERR_INVALID_DURATION', () => {
    expect(codeOf(() => parseTimeSpec('999999999y', new Date('2030-01-01T00:00:00Z')))).toBe('ERR_INVALID_DURATION');
    expect(codeOf(() => parseDuration('999999999y'))).toBe('ERR_INVALID_DURATION');
    expect(codeOf(() => parseDuration('10001y'))).toBe('ERR_INVALID_DURATION');
    expect(parseDuration('10000y')).toBe(10_000 * 365 * 86_400_000);
  });

  it.each([
    ['month 23, day 50 (fuzz counterexample)', '0004-23-50 02:00:00-23:59'],
    ['month 13', '2030-13-01T00:00:00Z'],
    ['30 February', '2030-02-30'],
    ['hour 24', '2030-01-01T24:00:00Z'],
    ['second 60', '2030-01-01T00:00:60Z'],
    ['offset hour 24', '2030-01-01T00:00:00+24:00'],
    ['offset minute 60', '2030-01-01T00:00:00+01:60'],
  ])('parseTimeSpec accepted an impossible RFC 3339 time (%s) through Date.parse\'s fallback: now ERR_INVALID_TIME', (_name, text) => {
    expect(codeOf(() => parseTimeSpec(text, new Date('2030-01-01T00:00:00Z')))).toBe('ERR_INVALID_TIME');
  });

  it('RFC 3339 times with offsets, fractions, lower-case separators and bare dates still parse', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseTimeSpec('2030-06-01T12:00:00.999+02:00', now).toISOString()).toBe('2030-06-01T10:00:00.000Z');
    expect(parseTimeSpec('2030-06-01t12:00:00z', now).toISOString()).toBe('2030-06-01T12:00:00.000Z');
    expect(parseTimeSpec('2030-06-01 12:00:00-05:30', now).toISOString()).toBe('2030-06-01T17:30:00.000Z');
    expect(parseTimeSpec('2028-02-29', now).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseTimeSpec('1955-01-01T00:00:00.5Z', now).toISOString()).toBe('1955-01-01T00:00:00.000Z');
    expect(codeOf(() => parseTimeSpec('0055-01-01', now))).toBe('ERR_INVALID_TIME');
  });

  it('a duration that reaches past year 9999 is ERR_INVALID_TIME, not an Invalid Date', () => {
    expect(codeOf(() => parseTimeSpec('9000y', new Date('2030-01-01T00:00:00Z')))).toBe('ERR_INVALID_TIME');
  });
});

describe('parseSan', () => {
  it('an IPv6 zone identifier (fe80::1%eth0) was silently dropped, certifying fe80::1: now ERR_INVALID_SAN', () => {
    expect(codeOf(() => parseSan('fe80::1%eth0'))).toBe('ERR_INVALID_SAN');
    expect(codeOf(() => parseSan('[fe80::1%25eth0]'))).toBe('ERR_INVALID_SAN');
    expect(parseSan('fe80::1')).toEqual({ type: 'ip', value: 'fe80::1' });
  });
});
