/**
 * Issue 11, point 1 (host checks, RFC 9525): checkHost on leaves made with the core API, and with openssl
 * for SANs pki refuses to write (`*.com`, `f*.example.com`, a 16-octet IPv4-mapped address). Where openssl's
 * X509_check_host (`openssl x509 -checkhost`) departs from RFC 9525 — CN fallback, `*.co.uk` — the test
 * asserts pki's verdict and records openssl's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkHost, type HostTarget } from '../../../src/core/verify/host-match.js';
import type { CheckOutcome } from '../../../src/core/verify/types.js';
import { expectPkiError } from '../../helpers/errors.js';
import { makeLeaf, makeRoot, openssl, opensslCert, workDir, writePem, type TestCert } from './sub-check-fixtures.js';

let dir: string;
let root: TestCert;
beforeAll(() => {
  dir = workDir();
  root = makeRoot('host test root');
});

function failure(outcome: CheckOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ok: ${outcome.detail}`);
  return outcome.failure;
}

/** openssl's X509_check_host verdict for the same certificate and name. */
function opensslCheckHost(cert: TestCert, host: string): boolean {
  const file = writePem(dir, `${Math.random().toString(36).slice(2)}.crt`, 'CERTIFICATE', cert.der);
  return / does match certificate/.test(openssl(['x509', '-in', file, '-noout', '-checkhost', host]));
}

describe('DNS names match DNS SANs (RFC 9525 §6.3)', () => {
  // The last column is openssl's verdict: its -checkhost neither drops a trailing dot nor converts U-labels.
  it.each<[string, string[], string, boolean]>([
    ['exact', ['db.internal'], 'db.internal', true],
    ['case-insensitive', ['DB.Internal'], 'db.INTERNAL', true],
    ['trailing dot ignored', ['db.internal'], 'db.internal.', false],
    ['IDN host compared as A-label', ['xn--bcher-kva.example'], 'bücher.example', false],
    ['wildcard matches one left-most label', ['*.example.com'], 'a.example.com', true],
    ['one of several SANs', ['api.internal', 'db.internal', '10.0.0.1'], 'db.internal', true],
    ['wildcard over a multi-label ccTLD registration', ['*.example.co.uk'], 'www.example.co.uk', true],
  ])('%s', (_name, sans, host, opensslVerdict) => {
    const leaf = makeLeaf(root, { cn: 'leaf', sans });
    const outcome = checkHost(leaf.fields, { host });
    expect(outcome).toMatchObject({ ok: true, name: 'host' });
    if (outcome.ok) expect(outcome.detail).toMatch(/matches DNS SAN/);
    expect(opensslCheckHost(leaf, host)).toBe(opensslVerdict);
  });

  it.each<[string, string[], string, RegExp]>([
    ['wildcard does not cover the base name', ['*.example.com'], 'example.com', /\*\.example\.com does not cover example\.com itself/],
    ['wildcard covers exactly one label', ['*.example.com'], 'a.b.example.com', /stands for exactly one label, not a\.b/],
    ['other name', ['api.internal', '10.0.0.1'], 'db.internal', /^valid for api\.internal, 10\.0\.0\.1, not db\.internal$/],
    ['wildcard over a listed multi-label public suffix', ['*.co.uk'], 'example.co.uk', /\*\.co\.uk is not honoured: a wildcard may not cover a public suffix \(co\.uk\)/],
  ])('fails: %s', (_name, sans, host, message) => {
    const leaf = makeLeaf(root, { cn: 'leaf', sans });
    const f = failure(checkHost(leaf.fields, { host }));
    expect(f.code).toBe('ERR_HOSTNAME_MISMATCH');
    expect(f.message).toMatch(message);
    expect(f.certificate).toBe('CN=leaf');
    expect(f.hint).toBe(`re-issue it with --san ${host}`);
  });

  it('openssl agrees on the base name and the second label, and accepts *.co.uk (it has no public-suffix list)', () => {
    expect(opensslCheckHost(makeLeaf(root, { cn: 'leaf', sans: ['*.example.com'] }), 'example.com')).toBe(false);
    expect(opensslCheckHost(makeLeaf(root, { cn: 'leaf', sans: ['*.example.com'] }), 'a.b.example.com')).toBe(false);
    expect(opensslCheckHost(makeLeaf(root, { cn: 'leaf', sans: ['*.co.uk'] }), 'example.co.uk')).toBe(true); // recorded disagreement
  });

  it('*.com never matches (a wildcard needs two labels after it); openssl agrees', () => {
    const leaf = opensslCert(dir, root, '/CN=wild', ['subjectAltName = DNS:*.com']);
    const f = failure(checkHost(leaf.fields, { host: 'example.com' }));
    expect(f.code).toBe('ERR_HOSTNAME_MISMATCH');
    expect(f.message).toMatch(/^valid for \*\.com, not example\.com; \*\.com is not honoured: a wildcard may not cover a public suffix \(com\) alone$/);
    expect(opensslCheckHost(leaf, 'example.com')).toBe(false);
  });

  it('a partial wildcard (f*.example.com) never matches, nor a * in an inner label', () => {
    const leaf = opensslCert(dir, root, '/CN=partial', ['subjectAltName = DNS:f*.example.com, DNS:a.*.example.com']);
    const f = failure(checkHost(leaf.fields, { host: 'foo.example.com' }));
    expect(f.code).toBe('ERR_HOSTNAME_MISMATCH');
    expect(f.message).toMatch(/f\*\.example\.com is not honoured: only a whole left-most "\*" label is a wildcard/);
    expect(failure(checkHost(leaf.fields, { host: 'a.b.example.com' })).code).toBe('ERR_HOSTNAME_MISMATCH');
  });

  it('an upper-case SAN (openssl keeps the case it is given) matches case-insensitively', () => {
    const leaf = opensslCert(dir, root, '/CN=upper', ['subjectAltName = DNS:DB.Internal, DNS:*.Apps.Internal.']);
    expect(checkHost(leaf.fields, { host: 'db.INTERNAL' })).toMatchObject({ ok: true, detail: 'db.internal matches DNS SAN db.internal' });
    expect(checkHost(leaf.fields, { host: 'web.apps.internal' })).toMatchObject({ ok: true, detail: 'web.apps.internal matches DNS SAN *.apps.internal' });
  });

  it('a DNS name never matches an IP SAN', () => {
    const leaf = makeLeaf(root, { cn: 'leaf', sans: ['10.0.0.1'] });
    expect(failure(checkHost(leaf.fields, { host: 'ten.internal' })).message).toBe('valid for 10.0.0.1, not ten.internal');
  });

  it('a long SAN list is truncated in the message', () => {
    const sans = Array.from({ length: 9 }, (_, i) => `n${i}.internal`);
    const f = failure(checkHost(makeLeaf(root, { cn: 'leaf', sans }).fields, { host: 'db.internal' }));
    expect(f.message).toBe('valid for n0.internal, n1.internal, n2.internal, n3.internal, n4.internal and 4 more, not db.internal');
  });
});

describe('the subject CN is never used (RFC 9525; Go 1.15+)', () => {
  it('a CN-only leaf (no SAN extension) does not match its CN; openssl falls back to the CN', () => {
    const leaf = makeLeaf(root, { cn: 'db.internal' });
    expect(leaf.fields.extensions.some((e) => e.oid === '2.5.29.17')).toBe(false);
    const f = failure(checkHost(leaf.fields, { host: 'db.internal' }));
    expect(f.code).toBe('ERR_HOSTNAME_MISMATCH');
    expect(f.message).toBe('not valid for db.internal: the certificate has no subjectAltName (its common name "db.internal" is not matched: RFC 9525 host checks use SANs only)');
    expect(f.certificate).toBe('CN=db.internal');
    expect(opensslCheckHost(leaf, 'db.internal')).toBe(true); // recorded disagreement
  });

  it('a CN is not used when SANs exist either', () => {
    const f = failure(checkHost(makeLeaf(root, { cn: 'db.internal', sans: ['api.internal'] }).fields, { host: 'db.internal' }));
    expect(f.message).toBe('valid for api.internal, not db.internal');
  });

  it('a SAN extension with no DNS name or IP says so', () => {
    const f = failure(checkHost(makeLeaf(root, { cn: 'mail', sans: ['ops@example.com'] }).fields, { host: 'db.internal' }));
    expect(f.message).toBe('not valid for db.internal: the certificate names no DNS name or IP address');
  });
});

describe('IP addresses match IP SANs only', () => {
  it.each<[string, string[], HostTarget]>([
    ['IPv4 by --ip', ['10.0.0.1'], { ip: '10.0.0.1' }],
    ['IPv4 by --host literal', ['10.0.0.1'], { host: '10.0.0.1' }],
    ['IPv6 by --ip, any spelling', ['2001:db8::1'], { ip: '2001:DB8:0:0:0:0:0:1' }],
    ['IPv6 by --host in brackets', ['::1'], { host: '[::1]' }],
    ['IPv4-mapped target folded to IPv4', ['192.0.2.1'], { ip: '::ffff:192.0.2.1' }],
    ['--host and --ip both', ['db.internal', '10.0.0.1'], { host: 'db.internal', ip: '10.0.0.1' }],
  ])('%s', (_name, sans, target) => {
    const outcome = checkHost(makeLeaf(root, { cn: 'leaf', sans }).fields, target);
    expect(outcome).toMatchObject({ ok: true, name: 'host' });
  });

  it('a 16-octet IPv4-mapped IP SAN (openssl writes one) matches its IPv4 address; a v6 SAN from openssl matches', () => {
    const leaf = opensslCert(dir, root, '/CN=mapped', ['subjectAltName = IP:::ffff:10.1.2.3, IP:2001:db8::7']);
    expect(checkHost(leaf.fields, { ip: '10.1.2.3' }).ok).toBe(true);
    expect(checkHost(leaf.fields, { host: '2001:db8:0::7' }).ok).toBe(true);
  });

  it.each<[string, string[], HostTarget, string]>([
    ['other IPv4', ['10.0.0.1'], { ip: '10.0.0.2' }, 'valid for 10.0.0.1, not 10.0.0.2'],
    ['other IPv6', ['2001:db8::1'], { ip: '2001:db8::2' }, 'valid for 2001:db8::1, not 2001:db8::2'],
    ['IPv4 vs the IPv6 address that is not mapped', ['10.0.0.1'], { ip: '::10.0.0.1' }, 'valid for 10.0.0.1, not ::a00:1'],
    ['--host matches but --ip does not', ['db.internal', '10.0.0.1'], { host: 'db.internal', ip: '10.0.0.5' }, 'valid for db.internal, 10.0.0.1, not 10.0.0.5'],
  ])('fails: %s', (_name, sans, target, message) => {
    const f = failure(checkHost(makeLeaf(root, { cn: 'leaf', sans }).fields, target));
    expect(f.code).toBe('ERR_HOSTNAME_MISMATCH');
    expect(f.message).toBe(message);
  });

  it('an IP SAN written as a DNS name is named as such', () => {
    const leaf = opensslCert(dir, root, '/CN=dnsip', ['subjectAltName = DNS:10.0.0.9']);
    expect(failure(checkHost(leaf.fields, { ip: '10.0.0.9' })).message).toBe('valid for 10.0.0.9, not 10.0.0.9; 10.0.0.9 is a DNS SAN there, and an IP address matches IP SANs only');
  });
});

describe('a bad --host or --ip is a usage error (ERR_INVALID_SAN), not a verdict', () => {
  it.each<[string, HostTarget, RegExp]>([
    ['host:port', { host: 'db.internal:5432' }, /--host "db\.internal:5432" is not a DNS name or IP address/],
    ['URL', { host: 'https://db.internal' }, /--host "https:\/\/db\.internal" is not a DNS name or IP address: it reads as a URI/],
    ['wildcard', { host: '*.db.internal' }, /a wildcard is a pattern, not a host/],
    ['bad label', { host: 'bad_name.internal' }, /"bad_name" is not a valid DNS label/],
    ['DNS name as --ip', { ip: 'db.internal' }, /--ip "db\.internal" is not an IP address/],
    ['bad IPv4', { ip: '10.0.0.256' }, /--ip "10\.0\.0\.256" is not an IP address/],
  ])('%s', (_name, target, message) => {
    const leaf = makeLeaf(root, { cn: 'leaf', sans: ['db.internal'] });
    expect(expectPkiError(() => checkHost(leaf.fields, target), 'ERR_INVALID_SAN').message).toMatch(message);
  });
});
