import { describe, expect, it } from 'vitest';
import { errorCode } from '../helpers/errors.js';
import { decodePem, encodePem, encodePemBytes } from '../../src/core/der/pem.js';
import { generateSerial, normalizeSerial } from '../../src/core/x509/serial.js';


describe('serials', () => {
  it('are 16 octets, positive, random', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = generateSerial();
      expect(s).toMatch(/^[4-7][0-9A-F]{31}$/);
      seen.add(s);
    }
    expect(seen.size).toBe(1000);
  });
  it('pins with an injected random source', () => {
    expect(generateSerial(() => new Uint8Array(16).fill(0xff))).toBe('7F' + 'FF'.repeat(15));
    expect(generateSerial(() => new Uint8Array(16))).toBe('40' + '00'.repeat(15));
  });
  it.each([
    ['0a:1b:2c', 'A1B2C'],
    ['0x00FF', 'FF'],
    ['serial=00AB', 'AB'],
    ['abcdef', 'ABCDEF'],
    ['0', '0'],
  ])('normalizes %s', (input, out) => expect(normalizeSerial(input)).toBe(out));
  it.each(['', 'xyz', '12 34', '0x'])('refuses %j', (input) => expect(errorCode(() => normalizeSerial(input))).toBe('ERR_INVALID_SERIAL'));
});

describe('PEM', () => {
  it('round-trips and keeps order, ignoring text between blocks', () => {
    const a = encodePem('CERTIFICATE', Buffer.from('first'));
    const b = encodePem('X509 CRL', Buffer.alloc(100, 7));
    const blocks = decodePem(`Certificate:\n  junk\n${a}between\n${b}`);
    expect(blocks.map((x) => x.label)).toEqual(['CERTIFICATE', 'X509 CRL']);
    expect(Buffer.from(blocks[1]!.der).equals(Buffer.alloc(100, 7))).toBe(true);
    expect(b).toMatch(/^-----BEGIN X509 CRL-----\n[A-Za-z0-9+/=]{64}\n/);
  });
  it('encodePemBytes writes the bytes of encodePem', () => {
    for (const n of [0, 1, 47, 48, 49, 96, 1000, 100_001]) {
      const der = Buffer.alloc(n, n & 0xff);
      expect(encodePemBytes('X509 CRL', der).equals(Buffer.from(encodePem('X509 CRL', der), 'latin1'))).toBe(true);
    }
  });
  it('handles CRLF line ends', () => {
    expect(decodePem(encodePem('CERTIFICATE', Buffer.from('x')).replace(/\n/g, '\r\n'))).toHaveLength(1);
  });
  it('decodes a 10 MB block without recursion limits', () => {
    expect(decodePem(encodePem('X509 CRL', Buffer.alloc(10_000_000, 1)))[0]!.der.length).toBe(10_000_000);
  });
  it.each([
    ['no block', 'nothing here', 'ERR_EMPTY_INPUT'],
    ['unterminated', '-----BEGIN CERTIFICATE-----\nAAAA\n', 'ERR_MALFORMED_PEM'],
    ['mismatched end', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n', 'ERR_MALFORMED_PEM'],
    ['bad base64', '-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n', 'ERR_MALFORMED_PEM'],
    ['empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', 'ERR_MALFORMED_PEM'],
    ['legacy headers', '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n', 'ERR_MALFORMED_PEM'],
  ])('%s', (_n, text, expected) => expect(errorCode(() => decodePem(text))).toBe(expected));
});
