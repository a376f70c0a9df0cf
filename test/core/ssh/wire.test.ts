import { describe, expect, it } from 'vitest';
import { encodeSshMpint, encodeSshNameList, encodeSshString, encodeSshUint32, encodeSshUint64, SshReader } from '../../../src/core/ssh/wire.js';

describe('SSH wire encoding (RFC 4251 §5 examples)', () => {
  it.each([
    { name: 'mpint 0', bytes: [], hex: '00000000' },
    { name: 'mpint 0x9a378f9b2e332a7', bytes: [0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7], hex: '0000000809a378f9b2e332a7' },
    { name: 'mpint 0x80', bytes: [0x80], hex: '000000020080' },
    { name: 'mpint with leading zeros', bytes: [0, 0, 0x7f], hex: '000000017f' },
  ])('$name', ({ bytes, hex }) => {
    const encoded = encodeSshMpint(Uint8Array.from(bytes));
    expect(encoded.toString('hex')).toBe(hex);
    const reader = new SshReader(encoded, 'test');
    expect(Buffer.from(reader.readMpint('x')).toString('hex')).toBe(Buffer.from(bytes).toString('hex').replace(/^(00)+/, ''));
    reader.expectEnd();
  });

  it('round-trips strings, uint32, uint64 and name-lists', () => {
    const data = Buffer.concat([
      encodeSshString('testing'),
      encodeSshUint32(0xdeadbeef),
      encodeSshUint64(0xffff_ffff_ffff_ffffn),
      encodeSshNameList(['zlib', 'none']),
      encodeSshNameList([]),
    ]);
    const reader = new SshReader(data, 'test');
    expect(reader.readText('s')).toBe('testing');
    expect(reader.readUint32('u')).toBe(0xdeadbeef);
    expect(reader.readUint64('u')).toBe(0xffff_ffff_ffff_ffffn);
    expect(reader.readNameList('n')).toEqual(['zlib', 'none']);
    expect(reader.readNameList('n')).toEqual([]);
    reader.expectEnd();
  });

  it('refuses uint64 values out of range', () => {
    expect(() => encodeSshUint64(-1n)).toThrow(RangeError);
    expect(() => encodeSshUint64(1n << 64n)).toThrow(RangeError);
  });
});

describe('SshReader refuses hostile input with ERR_MALFORMED_SSH', () => {
  it.each([
    { name: 'truncated uint32', hex: '000000', read: (r: SshReader) => r.readUint32('x') },
    { name: 'truncated uint64', hex: '00000000000000', read: (r: SshReader) => r.readUint64('x') },
    { name: 'string longer than the data', hex: '00000005616263', read: (r: SshReader) => r.readString('x') },
    { name: 'string claiming 4 GiB', hex: 'ffffffff00', read: (r: SshReader) => r.readString('x') },
    { name: 'negative mpint', hex: '0000000180', read: (r: SshReader) => r.readMpint('x') },
    { name: 'text that is not UTF-8', hex: '00000001ff', read: (r: SshReader) => r.readText('x') },
    { name: 'empty input', hex: '', read: (r: SshReader) => r.readByte('x') },
    { name: 'trailing bytes', hex: '0000000000', read: (r: SshReader) => (r.readString('x'), r.expectEnd()) },
  ])('$name', ({ hex, read }) => {
    expect(() => read(new SshReader(Buffer.from(hex, 'hex'), 'test'))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_SSH' }));
  });

  it('text with an embedded NUL', () => {
    const reader = new SshReader(encodeSshString(Buffer.from('a\0b', 'latin1')), 'test');
    expect(() => reader.readText('x')).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_SSH' }));
  });
});
