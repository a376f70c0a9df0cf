/**
 * Issue 13, the pure parts of challenge validation (src/core/acme/challenge.ts): the dns-01 TXT value, the
 * reverse-DNS SNI of RFC 8738 §6, and reading a tls-alpn-01 certificate that is not a certificate.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dns01TxtValue, readTlsAlpnCertificate, reverseDnsName } from '../../src/core/acme/challenge.js';
import { PkiError } from '../../src/core/errors.js';

describe('ACME challenge helpers', () => {
  it('dns-01 TXT: base64url of SHA-256 of the key authorization, unpadded', () => {
    const keyAuth = 'token.thumbprint';
    expect(dns01TxtValue(keyAuth)).toBe(createHash('sha256').update(keyAuth).digest('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
    expect(dns01TxtValue(keyAuth)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reverse-DNS names (RFC 8738 §6 example for IPv6)', () => {
    expect(reverseDnsName('192.0.2.5')).toBe('5.2.0.192.in-addr.arpa');
    expect(reverseDnsName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });

  it('a tls-alpn-01 "certificate" that is not DER is a PkiError', () => {
    expect(() => readTlsAlpnCertificate(Buffer.from('not a certificate'))).toThrow(PkiError);
    expect(() => readTlsAlpnCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]))).toThrow(/tbsCertificate, signatureAlgorithm, signatureValue/);
  });
});
