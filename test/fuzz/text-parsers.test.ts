/**
 * Fuzzing the text an operator (or a hand-edited pki.json) hands pki: durations, time specs, SANs, serials,
 * revocation reasons and the config file. Contract: a value or a PkiError with a code within the hang
 * guard; whatever is accepted is normalised idempotently and is something pki can encode.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGeneralNames } from '../../src/core/x509/extension-decoders.js';
import { encodeGeneralName, groupSans, parseSan, parseSans } from '../../src/core/x509/names.js';
import { parseRevocationReason, revocationReasons } from '../../src/core/x509/revocation-reason.js';
import { normalizeSerial } from '../../src/core/x509/serial.js';
import { parseDuration, parseTimeSpec } from '../../src/core/x509/validity.js';
import { sequence } from '../../src/core/der/writer.js';
import { parseConfig } from '../../src/store/config.js';
import { decodeOutcome, PROPERTY_TIMEOUT_MS, runs } from './harness.js';

/** Printable ASCII, full Unicode and raw binary strings: the alphabets operators and attackers type. */
const anyText = (maxLength: number) =>
  fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }));

/** A string drawn from `alphabet`: for near misses of a grammar. */
const textOver = (alphabet: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength });

const NOW = new Date('2030-06-01T12:34:56.789Z');

describe('durations and times', () => {
  it('parseDuration: any text → a positive bounded number of milliseconds, or ERR_INVALID_DURATION', () => {
    fc.assert(
      fc.property(fc.oneof(anyText(40), textOver('0123456789smhdwy hx-+.', 30)), (text) => {
        const out = decodeOutcome('parseDuration', () => parseDuration(text));
        if (out.ok) {
          expect(Number.isSafeInteger(out.value)).toBe(true);
          expect(out.value).toBeGreaterThan(0);
          expect(out.value).toBeLessThanOrEqual(10_000 * 365 * 86_400_000);
        } else {
          expect(out.error.code).toBe('ERR_INVALID_DURATION');
        }
      }),
      runs(1000),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('parseTimeSpec: any text → a valid whole-second time in 1950–9999, or a PkiError', () => {
    const rfc3339ish = fc
      .tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.constantFrom('Z', '+14:00', '-23:59', '+99:99', 'z', ''), fc.constantFrom('T', 't', ' ', 'x'))
      .map(([y, mo, d, h, zone, sep]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}${sep}${String(h).padStart(2, '0')}:00:00${zone}`);
    fc.assert(
      fc.property(fc.oneof(anyText(40), textOver('0123456789-:TZ+. smhdwy', 30), rfc3339ish), (text) => {
        const out = decodeOutcome('parseTimeSpec', () => parseTimeSpec(text, NOW));
        if (out.ok) {
          expect(Number.isNaN(out.value.getTime())).toBe(false);
          expect(out.value.getTime() % 1000 === 0).toBe(true); // -0 for times before 1970
          // What was accepted is a real calendar time: formatting it and parsing that back gives it again.
          expect(parseTimeSpec(out.value.toISOString(), NOW).getTime()).toBe(out.value.getTime());
          const year = out.value.getUTCFullYear();
          expect(year).toBeGreaterThanOrEqual(1950);
          expect(year).toBeLessThanOrEqual(9999);
          expect(() => out.value.toISOString()).not.toThrow();
        } else {
          expect(['ERR_INVALID_TIME', 'ERR_INVALID_DURATION']).toContain(out.error.code);
        }
      }),
      runs(1000),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('SANs', () => {
  const sanLike = fc.oneof(
    anyText(80),
    textOver('abcxyz019.-*@:/[]%_', 40),
    fc.domain(),
    fc.ipV4(),
    fc.ipV4Extended(),
    fc.ipV6(),
    fc.emailAddress(),
    fc.webUrl(),
    fc.tuple(fc.constantFrom('xn--', 'xn--a', '*.', '*.*.', 'a*.', 'ü', '.', '..'), fc.domain()).map(([p, d]) => p + d),
  );

  it('parseSan: any text → a normalised SAN that re-parses to itself and survives GeneralName encode/decode, or ERR_INVALID_SAN', () => {
    fc.assert(
      fc.property(sanLike, (text) => {
        const out = decodeOutcome('parseSan', () => parseSan(text));
        if (!out.ok) {
          expect(out.error.code).toBe('ERR_INVALID_SAN');
          return;
        }
        const san = out.value;
        expect(parseSan(san.value)).toEqual(san);
        const decoded = decodeGeneralNames(sequence(encodeGeneralName(san)));
        expect(decoded[san.type]).toEqual([san.value]);
        if (san.type === 'dns') {
          expect(san.value.length).toBeLessThanOrEqual(253);
          expect(san.value).toMatch(/^(\*\.)?[a-z0-9.-]+$/);
        }
      }),
      runs(1500),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('parseSans: de-duplicates, keeps order, and groups consistently', () => {
    fc.assert(
      fc.property(fc.array(sanLike, { maxLength: 8 }), (texts) => {
        const out = decodeOutcome('parseSans', () => parseSans(texts));
        if (!out.ok) return;
        const keys = out.value.map((s) => `${s.type}:${s.value}`);
        expect(new Set(keys).size).toBe(keys.length);
        const grouped = groupSans(out.value);
        expect(grouped.dns.length + grouped.ip.length + grouped.email.length + grouped.uri.length).toBe(out.value.length);
      }),
      runs(300),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('serials and revocation reasons', () => {
  it('normalizeSerial: any text → canonical upper-case hex (idempotent), or ERR_INVALID_SERIAL', () => {
    fc.assert(
      fc.property(fc.oneof(anyText(80), textOver('0123456789abcdefABCDEFxX:= serial', 70)), (text) => {
        const out = decodeOutcome('normalizeSerial', () => normalizeSerial(text));
        if (out.ok) {
          expect(out.value).toMatch(/^(0|[1-9A-F][0-9A-F]*)$/);
          expect(normalizeSerial(out.value)).toBe(out.value);
        } else {
          expect(out.error.code).toBe('ERR_INVALID_SERIAL');
        }
      }),
      runs(1000),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('parseRevocationReason: any text → one of the RFC 5280 names, or ERR_INVALID_OPTION', () => {
    fc.assert(
      fc.property(fc.oneof(anyText(30), fc.constantFrom(...revocationReasons).map((r) => ` ${r.toUpperCase()} `)), (text) => {
        const out = decodeOutcome('parseRevocationReason', () => parseRevocationReason(text));
        if (out.ok) expect(revocationReasons).toContain(out.value);
        else expect(out.error.code).toBe('ERR_INVALID_OPTION');
      }),
      runs(500),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('pki.json', () => {
  const valid = {
    version: 1,
    name: 'fuzz',
    key: { kty: 'EC', crv: 'P-256' },
    validity: { root: '10y', intermediate: '5y', leaf: '90d' },
    crl: { distributionPoints: ['http://crl.example.com/ca.crl'], nextUpdate: '7d' },
    nameConstraints: { permittedDns: ['example.com'] },
  };

  /** A valid config with one field replaced by a random JSON value, or one key added. */
  const damagedConfig = fc
    .tuple(
      fc.constantFrom('version', 'name', 'key', 'key.kty', 'key.crv', 'key.size', 'validity', 'validity.leaf', 'crl.nextUpdate', 'crl.distributionPoints', 'nameConstraints', 'extra', '__proto__'),
      fc.jsonValue({ maxDepth: 3 }),
    )
    .map(([path, value]) => {
      const copy = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
      const [head, tail] = path.split('.') as [string, string | undefined];
      if (tail === undefined) copy[head] = value;
      else if (typeof copy[head] === 'object' && copy[head] !== null) (copy[head] as Record<string, unknown>)[tail] = value;
      return JSON.stringify(copy);
    });

  it('parseConfig: random JSON, damaged configs and random text → a config or ERR_INVALID_CONFIG (or a key-spec refusal)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json({ maxDepth: 4 }), damagedConfig, anyText(200), textOver('{}[]":,0123456789 truefalsn', 100)), (text) => {
        const out = decodeOutcome('parseConfig', () => parseConfig(text, 'pki.json'));
        if (!out.ok) expect(['ERR_INVALID_CONFIG', 'ERR_UNSUPPORTED_KEY', 'ERR_WEAK_KEY', 'ERR_INVALID_OPTION']).toContain(out.error.code);
      }),
      runs(800),
    );
  }, PROPERTY_TIMEOUT_MS);

  it.each([
    ['100,000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['100,000 nested objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    ['a 10 MB string field', JSON.stringify({ ...valid, name: 'x'.repeat(10_000_000) })],
    ['a validity of 999999999y', JSON.stringify({ ...valid, validity: { ...valid.validity, leaf: '999999999y' } })],
  ])('parseConfig: %s → ERR_INVALID_CONFIG within the hang guard', (_name, text) => {
    const out = decodeOutcome('parseConfig', () => parseConfig(text, 'pki.json'));
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error.code).toBe('ERR_INVALID_CONFIG');
  });
});
