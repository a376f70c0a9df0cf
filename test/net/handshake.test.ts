/**
 * The pure pieces of src/net (issue 11, point 2): handshake message parsing (the CertificateRequest CA
 * names of TLS 1.2 and 1.3), TLS 1.3 record keys (RFC 8448 §3 vectors) and record opening, the STARTTLS
 * byte formats, and --tls targets. The end-to-end proof against real servers is test/cli/inspect-tls.test.ts.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCertificateMessage, parseCertificateRequest, parseServerHello, splitHandshakeMessages, TLS12, TLS13 } from '../../src/net/handshake-messages.js';
import { openRecord, trafficKeys, hkdfExpandLabel } from '../../src/net/tls13-decrypt.js';
import { parseSmtpReply, postgresSslRequest } from '../../src/net/starttls.js';
import { splitRecords } from '../../src/net/tls-records.js';
import { parseTlsTarget } from '../../src/net/tls-target.js';
import { errorCode } from '../helpers/errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const vec16 = (...parts: Buffer[]) => Buffer.concat([u16(Buffer.concat(parts).length), ...parts]);
const vec24 = (...parts: Buffer[]) => Buffer.concat([u24(Buffer.concat(parts).length), ...parts]);
/** Two DER names: CN=A, CN=Bee (SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String } } }). */
const dn = (cn: string) => {
  const value = Buffer.concat([Buffer.from([0x0c, cn.length]), Buffer.from(cn)]);
  const atv = Buffer.concat([Buffer.from([0x30, 5 + value.length, 0x06, 0x03, 0x55, 0x04, 0x03]), value]);
  const rdn = Buffer.concat([Buffer.from([0x31, atv.length]), atv]);
  return Buffer.concat([Buffer.from([0x30, rdn.length]), rdn]);
};

describe('CertificateRequest', () => {
  const names = [dn('A'), dn('Bee')];
  const list = vec16(...names.map((n) => vec16(n)));

  it('TLS 1.2: certificate_types, signature algorithms, then the DistinguishedName list (RFC 5246 §7.4.4)', () => {
    const body = Buffer.concat([Buffer.from([2, 1, 64]), vec16(hex('0403 0804')), list]);
    expect(parseCertificateRequest(body, TLS12).map((n) => Buffer.from(n))).toEqual(names);
  });

  it('TLS 1.3: context, then extension 47 certificate_authorities among others (RFC 8446 §4.3.2)', () => {
    const sigAlgs = Buffer.concat([u16(13), vec16(vec16(hex('0403')))]);
    const authorities = Buffer.concat([u16(47), vec16(list)]);
    const body = Buffer.concat([Buffer.from([0]), vec16(sigAlgs, authorities)]);
    expect(parseCertificateRequest(body, TLS13).map((n) => Buffer.from(n))).toEqual(names);
    expect(parseCertificateRequest(Buffer.concat([Buffer.from([0]), vec16(sigAlgs)]), TLS13)).toEqual([]);
  });

  it('a truncated request throws instead of reading past the end', () => {
    const body = Buffer.concat([Buffer.from([2, 1, 64]), vec16(hex('0403')), list]).subarray(0, 20);
    expect(() => parseCertificateRequest(body, TLS12)).toThrow(/truncated/);
  });
});

describe('Certificate and ServerHello', () => {
  it('TLS 1.3 Certificate entries carry extensions; TLS 1.2 ones do not: both give the DER in order', () => {
    const a = hex('3003020101');
    const b = hex('3003020102');
    const v13 = Buffer.concat([Buffer.from([0]), vec24(vec24(a), u16(0), vec24(b), vec16(hex('0005 0000')))]);
    expect(parseCertificateMessage(v13, TLS13).map((c) => Buffer.from(c))).toEqual([a, b]);
    expect(parseCertificateMessage(vec24(vec24(a), vec24(b)), TLS12).map((c) => Buffer.from(c))).toEqual([a, b]);
  });

  it('ServerHello: the version from supported_versions, else legacy_version; the retry-request random', () => {
    const random = Buffer.alloc(32, 7);
    const hello = (extensions: Buffer, r = random) => Buffer.concat([u16(0x0303), r, Buffer.from([0]), u16(0x1302), Buffer.from([0]), extensions]);
    expect(parseServerHello(hello(vec16(u16(43), vec16(u16(0x0304)))))).toEqual({ version: TLS13, cipherSuite: 0x1302, helloRetryRequest: false });
    expect(parseServerHello(hello(vec16()))).toMatchObject({ version: TLS12 });
    const hrr = hex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
    expect(parseServerHello(hello(vec16(u16(43), vec16(u16(0x0304))), hrr)).helloRetryRequest).toBe(true);
  });

  it('messages split across records are joined; a partial one is left over', () => {
    const message = Buffer.concat([Buffer.from([11]), u24(3), hex('aabbcc')]);
    const { messages, rest } = splitHandshakeMessages(Buffer.concat([message, message.subarray(0, 2)]));
    expect(messages).toHaveLength(1);
    expect(Buffer.from(messages[0]!.body)).toEqual(hex('aabbcc'));
    expect(rest).toHaveLength(2);
  });

  it('records: whole ones only; a non-TLS header throws', () => {
    const record = Buffer.concat([hex('160303'), u16(2), hex('0102')]);
    expect(splitRecords(Buffer.concat([record, record.subarray(0, 4)]))).toHaveLength(1);
    expect(() => splitRecords(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(/not a TLS record/);
  });
});

describe('TLS 1.3 record protection', () => {
  // RFC 8448 §3 (Simple 1-RTT Handshake): the server handshake traffic secret and its write key and IV.
  const serverHandshakeSecret = hex('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38');

  it('HKDF-Expand-Label gives the RFC 8448 key and IV for TLS_AES_128_GCM_SHA256', () => {
    const keys = trafficKeys(0x1301, serverHandshakeSecret)!;
    expect(keys.key.toString('hex')).toBe('3fce516009c21727d0f2e4e86ee403bc');
    expect(keys.iv.toString('hex')).toBe('5d313eb2671276ee13000b30');
    expect(hkdfExpandLabel('sha256', serverHandshakeSecret, 'key', new Uint8Array(0), 16)).toEqual(keys.key);
  });

  it.each([0x1301, 0x1302, 0x1303])('suite %s: a sealed record opens with its sequence number (and not with another)', (suite) => {
    const keys = trafficKeys(suite, hex('11'.repeat(48)))!;
    const inner = Buffer.concat([hex('0800000200 00'.replace(/ /g, '')), Buffer.from([22]), Buffer.alloc(3)]);
    const header = Buffer.concat([hex('170303'), u16(inner.length + 16)]);
    const nonce = Buffer.from(keys.iv);
    nonce[11]! ^= 5;
    const cipher = createCipheriv(keys.cipher as 'aes-128-gcm', keys.key, nonce, { authTagLength: 16 });
    cipher.setAAD(header, { plaintextLength: inner.length });
    const sealed = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
    const opened = openRecord(keys, 5, header, sealed);
    expect(opened.type).toBe(22);
    expect(Buffer.from(opened.content).toString('hex')).toBe('080000020000');
    expect(() => openRecord(keys, 4, header, sealed)).toThrow();
  });

  it('CCM suites are not decrypted (undefined keys), rather than decrypted wrongly', () => {
    expect(trafficKeys(0x1304, serverHandshakeSecret)).toBeUndefined();
  });
});

describe('STARTTLS byte formats', () => {
  it('PostgreSQL SSLRequest: Int32 8, Int32 80877103', () => {
    expect(postgresSslRequest().toString('hex')).toBe('0000000804d2162f');
  });

  it('SMTP replies: multi-line 250- … 250 ; incomplete → undefined; garbage throws', () => {
    const ehlo = Buffer.from('250-mail.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n');
    expect(parseSmtpReply(ehlo)).toEqual({ code: 250, lines: ['mail.example', 'PIPELINING', 'STARTTLS'], length: ehlo.length });
    expect(parseSmtpReply(ehlo.subarray(0, 30))).toBeUndefined();
    expect(() => parseSmtpReply(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))).toThrow(/not an SMTP reply/);
  });
});

describe('--tls targets', () => {
  it.each([
    ['db.internal:5432', { host: 'db.internal', port: 5432, https: false }],
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443, https: false }],
    ['[::1]:443', { host: '::1', port: 443, https: false }],
    ['https://example.com', { host: 'example.com', port: 443, https: true }],
    ['https://example.com:8443/health?x=1', { host: 'example.com', port: 8443, https: true }],
    ['HTTPS://[2001:db8::1]/', { host: '2001:db8::1', port: 443, https: true }],
  ])('%s', (text, expected) => {
    expect(parseTlsTarget(text)).toEqual(expected);
  });

  it.each(['db.internal', 'db.internal:0', 'db.internal:65536', 'db.internal:https', '::1', '[db]:443', 'http://example.com', 'https://user@example.com', 'bad host:443', ':443', 'a..b:1'])('refuses %s', (text) => {
    expect(errorCode(() => parseTlsTarget(text))).toBe('ERR_INVALID_OPTION');
  });
});
