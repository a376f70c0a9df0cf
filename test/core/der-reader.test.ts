import { describe, expect, it } from 'vitest';
import { oid, sequence, time, integer } from '../../src/core/der/writer.js';
import {
  MAX_DER_DEPTH,
  checkDerStructure,
  childrenOf,
  readBitString,
  readBoolean,
  readEnumerated,
  readIntegerBigInt,
  readIntegerHex,
  readOctetString,
  readOid,
  readRootTlv,
  readTime,
  readTlv,
  type DerElement,
} from '../../src/core/der/reader.js';
import { expectPkiError } from '../helpers/errors.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));

/** `depth` SEQUENCEs, each holding the next; definite lengths throughout. */
function nested(depth: number): Uint8Array {
  let der: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < depth; i++) der = sequence(der);
  return der;
}

describe('readTlv', () => {
  it.each([
    ['okShortForm', hex('04 03 010203'), { tag: 0x04, headerLength: 2, length: 3, start: 0, end: 5 }],
    ['okLongForm1', Uint8Array.from([0x04, 0x81, 0x80, ...new Array(0x80).fill(0)]), { tag: 0x04, headerLength: 3, length: 128, start: 0, end: 131 }],
    ['okLongForm2', Uint8Array.from([0x04, 0x82, 0x01, 0x00, ...new Array(256).fill(0)]), { tag: 0x04, headerLength: 4, length: 256, start: 0, end: 260 }],
    ['okEmpty', hex('05 00'), { tag: 0x05, headerLength: 2, length: 0, start: 0, end: 2 }],
  ])('%s', (_name, der, expected) => {
    expect(readTlv(der, 0)).toEqual(expected);
  });

  it('reads at an offset', () => {
    expect(readTlv(hex('05 00 02 01 07'), 2)).toEqual({ tag: 0x02, headerLength: 2, length: 1, start: 2, end: 5 });
  });
});

describe('malformed DER is ERR_MALFORMED_DER', () => {
  const cases: [string, Uint8Array][] = [
    ['failEmptyInput', bytes()],
    ['failTruncatedHeader', bytes(0x30)],
    ['failTruncatedContent', hex('30 05 02 01')],
    ['failTruncatedLengthOctets', hex('04 82 01')],
    ['failIndefiniteLength', hex('30 80 05 00 00 00')],
    ['failHugeLength', hex('30 84 ff ff ff ff 00')],
    ['failLengthOfLengthFive', hex('30 85 00 00 00 00 01 00')],
    ['failReservedLengthOctet', hex('30 ff 00')],
    ['failNonMinimalLongForm', hex('04 81 01 00')],
    ['failNonMinimalLeadingZero', Uint8Array.from([0x04, 0x82, 0x00, 0x80, ...new Array(0x80).fill(0)])],
    ['failMultiOctetTag', hex('1f 81 00 00')],
    ['failChildPastParent', hex('30 03 04 05 00 00 00 00 00')],
    ['failTrailingBytes', hex('05 00 00')],
    ['failDeepNestingBomb', nested(10_000)],
    ['failOneLevelTooDeep', nested(MAX_DER_DEPTH + 1)],
    ['failBadChildAfterGoodOne', hex('30 06 05 00 30 80 00 00')],
  ];
  it.each(cases)('%s', (_name, der) => {
    expectPkiError(() => checkDerStructure(der), 'ERR_MALFORMED_DER');
  });

  it('accepts nesting exactly at the bound', () => {
    expect(() => checkDerStructure(nested(MAX_DER_DEPTH))).not.toThrow();
  });

  it('refuses children of a primitive element', () => {
    const der = hex('04 02 05 00');
    expectPkiError(() => childrenOf(der, readRootTlv(der)), 'ERR_MALFORMED_DER');
  });

  it('walks a flat 200,000-element SEQUENCE without recursion', () => {
    const der = sequence(Buffer.alloc(400_000, 0).fill(Buffer.from([0x05, 0x00])));
    checkDerStructure(der);
    expect(childrenOf(der, readRootTlv(der))).toHaveLength(200_000);
  });
});

/** Reads the root element of `der` with `read`. */
const readWith = <T>(read: (der: Uint8Array, el: DerElement) => T, der: Uint8Array): T => read(der, readRootTlv(der));

describe('value helpers', () => {
  it.each([
    ['okSmall', hex('02 01 07'), '07'],
    ['okSignOctetDropped', hex('02 02 00 80'), '80'],
    ['okZero', hex('02 01 00'), '00'],
    ['okLong', hex('02 14 7FEEDDCCBBAA99887766554433221100FFEEDDCC'), '7FEEDDCCBBAA99887766554433221100FFEEDDCC'],
    ['okNegative', hex('02 01 80'), '-80'],
    ['okMinusOne', hex('02 01 ff'), '-01'],
  ])('readIntegerHex %s', (_name, der, expected) => {
    expect(readWith(readIntegerHex, der)).toBe(expected);
  });

  it('readIntegerBigInt reads 20-octet values and negatives', () => {
    expect(readWith(readIntegerBigInt, integer(2n ** 150n + 7n))).toBe(2n ** 150n + 7n);
    expect(readWith(readIntegerBigInt, hex('02 02 ff 7f'))).toBe(-129n);
  });

  it.each(['2.5.29.20', '1.2.840.113549.1.1.11', '1.3.101.112', '0.9.2342.19200300.100.1.25', '2.999.3', '2.25.329800735698586629295641978511506172918'])(
    'readOid round-trips %s',
    (dotted) => {
      expect(readWith(readOid, oid(dotted))).toBe(dotted);
    },
  );

  it.each([
    ['okUtcTime', new Date('2026-11-25T14:00:01Z')],
    ['okUtcTime1950', new Date('1950-01-01T00:00:00Z')],
    ['okUtcTime2049', new Date('2049-12-31T23:59:59Z')],
    ['okGeneralizedTime2050', new Date('2050-01-01T00:00:00Z')],
    ['okGeneralizedTime9999', new Date('9999-12-31T23:59:59Z')],
  ])('readTime %s', (_name, date) => {
    expect(readWith(readTime, time(date)).toISOString()).toBe(date.toISOString());
  });

  it('readBitString, readOctetString, readBoolean, readEnumerated', () => {
    expect(readWith(readBitString, hex('03 03 06 ff c0'))).toEqual({ unusedBits: 6, bytes: hex('ff c0') });
    expect(readWith(readOctetString, hex('04 02 ab cd'))).toEqual(hex('ab cd'));
    expect(readWith(readBoolean, hex('01 01 ff'))).toBe(true);
    expect(readWith(readBoolean, hex('01 01 00'))).toBe(false);
    expect(readWith(readEnumerated, hex('0a 01 0a'))).toBe(10);
  });

  const malformed: [string, () => unknown][] = [
    ['failIntegerEmpty', () => readWith(readIntegerHex, hex('02 00'))],
    ['failIntegerNonMinimalZero', () => readWith(readIntegerHex, hex('02 02 00 01'))],
    ['failIntegerNonMinimalOnes', () => readWith(readIntegerBigInt, hex('02 02 ff 80'))],
    ['failIntegerWrongTag', () => readWith(readIntegerHex, hex('04 01 01'))],
    ['failOidEmpty', () => readWith(readOid, hex('06 00'))],
    ['failOidNonMinimalArc', () => readWith(readOid, hex('06 03 2a 80 01'))],
    ['failOidTruncatedArc', () => readWith(readOid, hex('06 02 2a 81'))],
    ['failTimeMonth13', () => readWith(readTime, Uint8Array.from([0x17, 13, ...Buffer.from('261325000000Z')]))],
    ['failTimeFeb30', () => readWith(readTime, Uint8Array.from([0x17, 13, ...Buffer.from('260230000000Z')]))],
    ['failTimeNoSeconds', () => readWith(readTime, Uint8Array.from([0x17, 11, ...Buffer.from('2611250000Z')]))],
    ['failTimeOffset', () => readWith(readTime, Uint8Array.from([0x17, 17, ...Buffer.from('261125000000+0100')]))],
    ['failTimeFraction', () => readWith(readTime, Uint8Array.from([0x18, 19, ...Buffer.from('20261125000000.five')]))],
    ['failTimeNotDigits', () => readWith(readTime, Uint8Array.from([0x17, 13, ...Buffer.from('2611250000a0Z')]))],
    ['failTimeWrongTag', () => readWith(readTime, Uint8Array.from([0x04, 13, ...Buffer.from('261125000000Z')]))],
    ['failBitStringEmpty', () => readWith(readBitString, hex('03 00'))],
    ['failBitStringUnused8', () => readWith(readBitString, hex('03 02 08 00'))],
    ['failBitStringUnusedNonZero', () => readWith(readBitString, hex('03 02 01 01'))],
    ['failBitStringUnusedWithoutBits', () => readWith(readBitString, hex('03 01 03'))],
    ['failBooleanNotDer', () => readWith(readBoolean, hex('01 01 01'))],
    ['failEnumeratedTooLong', () => readWith(readEnumerated, hex('0a 05 01 00 00 00 00'))],
    ['failOctetStringWrongTag', () => readWith(readOctetString, hex('03 01 00'))],
  ];
  it.each(malformed)('%s', (_name, fn) => {
    expectPkiError(fn, 'ERR_MALFORMED_DER');
  });
});
