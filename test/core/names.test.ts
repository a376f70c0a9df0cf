import { describe, expect, it } from 'vitest';
import { errorCode } from '../helpers/errors.js';
import { formatIpBytes, ipToBytes, parseSan, validateServiceName } from '../../src/core/x509/names.js';


describe('parseSan classifies and normalises', () => {
  it.each([
    ['okDns', 'API.Example.com', { type: 'dns', value: 'api.example.com' }],
    ['okTrailingDot', 'example.com.', { type: 'dns', value: 'example.com' }],
    ['okWildcard', '*.example.com', { type: 'dns', value: '*.example.com' }],
    ['okSingleLabel', 'redis', { type: 'dns', value: 'redis' }],
    ['okIdnToALabel', 'bücher.example', { type: 'dns', value: 'xn--bcher-kva.example' }],
    ['okALabel', 'xn--bcher-kva.example', { type: 'dns', value: 'xn--bcher-kva.example' }],
    ['okIpv4', '10.0.0.1', { type: 'ip', value: '10.0.0.1' }],
    ['okIpv6Compressed', '2001:DB8:0:0:0:0:0:1', { type: 'ip', value: '2001:db8::1' }],
    ['okIpv6Bracketed', '[::1]', { type: 'ip', value: '::1' }],
    // Issue 9 point 12 changed this: an IPv4-mapped address used to stay IPv6 (::ffff:c000:201); it is folded to IPv4.
    ['okIpv4Mapped', '::ffff:192.0.2.1', { type: 'ip', value: '192.0.2.1' }],
    ['okIpv4MappedHex', '::FFFF:c000:201', { type: 'ip', value: '192.0.2.1' }],
    ['okNotMapped', '::fffe:c000:201', { type: 'ip', value: '::fffe:c000:201' }],
    ['okEmail', 'Ops@Example.COM', { type: 'email', value: 'Ops@example.com' }],
    ['okUri', 'spiffe://example.org/ns/redis', { type: 'uri', value: 'spiffe://example.org/ns/redis' }],
    ['okUrn', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', { type: 'uri', value: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66' }],
  ])('%s', (_name, input, expected) => {
    expect(parseSan(input)).toEqual(expected);
  });

  it.each([
    ['failEmpty', ''],
    ['failSpace', 'a b.example'],
    ['failUnderscore', 'bad_name.example'],
    ['failLeadingHyphen', '-a.example'],
    ['failLongLabel', `${'a'.repeat(64)}.example`],
    ['failTooLong', `${'a'.repeat(60)}.`.repeat(5) + 'example'],
    ['failWildcardMiddle', 'a.*.example.com'],
    ['failWildcardPartial', 'f*.example.com'],
    ['failWildcardTld', '*.com'],
    ['failBadIpv4', '256.1.1.1'],
    ['failBadIpv6', '2001:db8:::1'],
    ['failHostPort', 'redis:6379'],
    ['failBadEmail', 'a b@example.com'],
    ['failEmailWildcard', 'ops@*.example.com'],
    ['failNonAsciiUri', 'https://ex.org/ü'],
    ['failControl', 'a\u0000b.example'],
    ['failBadPunycode', 'xn--zz.example'],
  ])('%s → ERR_INVALID_SAN', (_name, input) => {
    expect(errorCode(() => parseSan(input))).toBe('ERR_INVALID_SAN');
  });
});

describe('validateServiceName keeps names inside their folder', () => {
  it.each(['redis', 'postgres-14', 'a.b_c', '0'])('ok %s', (n) => expect(validateServiceName('service', n)).toBe(n));
  it.each(['..', '.', '.hidden', 'a/b', '/abs', 'A', 'a..b', '', 'x'.repeat(64), 'a\nb'])('fail %j', (n) => {
    expect(errorCode(() => validateServiceName('service', n))).toBe('ERR_INVALID_NAME');
  });
});

describe('IP bytes round-trip', () => {
  it.each(['127.0.0.1', '::1', '2001:db8::1', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::'])('%s', (ip) => {
    expect(formatIpBytes(ipToBytes(ip))).toBe(ip);
  });
});
