/**
 * Issue 6 point 2: the issuance policy, end to end through the CLI. Every refusal asserts exit 1, the
 * one-line message and an unchanged CA home (snapshotTree before and after). The refusals pki sign shares
 * with these (CA:TRUE, keyCertSign, unknown critical extensions, RSA-1024, SHA-1, a bad self-signature)
 * are in test/cli/sign.test.ts; this file adds curves, SANs, validity against the issuer, an expired or
 * revoked intermediate and name constraints (stamped into the intermediate, proved with openssl).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, runPeer } from '../helpers/peers.js';

let work: string;
beforeAll(() => {
  work = tempDir('pki-policy-');
});

let counter = 0;
/** A fresh output path: a refused command must not create it. */
const never = () => join(work, `never-${++counter}.crt`);
/** An openssl request with `-addext` extras; `newkey` as for openssl req. */
function opensslCsr(subject: string, extra: string[] = [], newkey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']): string {
  const name = `req${++counter}`;
  const out = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', ...newkey, '-nodes', '-keyout', join(work, `${name}.key`), '-out', out, '-subj', subject, ...extra]);
  return out;
}

/** Runs `pki …args --json` and asserts a refusal: exit 1, the error `code`, one line matching `pattern`, CA home unchanged. */
function expectRefused(dir: string, args: string[], code: string, pattern: RegExp, env: NodeJS.ProcessEnv = {}): CliResult {
  const before = snapshotTree(dir);
  const r = pki([...args, '--json', '--dir', dir], { env });
  expect(expectCliError(r, code)).toMatch(pattern);
  expect(snapshotTree(dir)).toBe(before);
  return r;
}

const root = (dir: string) => join(dir, 'ca', 'root_ca.crt');
const intermediate = (dir: string) => join(dir, 'ca', 'intermediate_ca.crt');

describe('keys and curves', () => {
  let ca: string;
  beforeAll(() => {
    ca = initCa();
  });
  it.each([
    ['secp256k1', /unsupported EC curve secp256k1/],
    ['brainpoolP256r1', /unsupported EC curve brainpoolP256r1/],
    ['prime192v1', /unsupported EC curve/],
  ])('a request with a %s key is refused', (curve, pattern) => {
    const csr = opensslCsr(`/CN=${curve}.example.com`, [], ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`]);
    expectRefused(ca, ['sign', csr, '--out', never()], 'ERR_UNSUPPORTED_KEY', pattern);
  });
});

describe('SANs: DNS labels, A-labels only, IPs, emails, URIs, wildcards as the whole left-most label', () => {
  let ca: string;
  beforeAll(() => {
    ca = initCa();
  });
  it.each([
    ['an underscore', 'DNS:bad_label.example.com', /invalid SAN "bad_label\.example\.com": "bad_label" is not a valid DNS label/],
    ['a label starting with a hyphen', 'DNS:-lead.example.com', /"-lead" is not a valid DNS label/],
    ['a 64-character label', `DNS:${'a'.repeat(64)}.example.com`, /is not a valid DNS label/],
    ['a wildcard that is not left-most', 'DNS:www.*.example.com', /a wildcard may only be the whole left-most label/],
    ['a partial-label wildcard', 'DNS:w*.example.com', /a wildcard may only be the whole left-most label/],
    ['a wildcard over a top-level domain', 'DNS:*.com', /a wildcard needs at least two labels after it/],
    ['fake punycode', 'DNS:xn--zz.example.com', /"xn--zz" is not valid punycode/],
    ['an IP address in a DNS SAN', 'DNS:10.0.0.1', /DNS SAN "10\.0\.0\.1" is not a DNS name/],
    ['an email address in a DNS SAN', 'DNS:ops@example.com', /DNS SAN "ops@example\.com" is not a DNS name/],
    ['a bad email address', 'email:not-an-email', /email SAN "not-an-email" is not a email address|invalid SAN/],
    ['host:port as a URI', 'URI:db.example.com:5432', /looks like host:port/],
  ])('sign refuses a request with %s', (_name, san, pattern) => {
    const csr = opensslCsr('/CN=san-test', ['-addext', `subjectAltName=${san}`]);
    expectRefused(ca, ['sign', csr, '--out', never()], 'ERR_INVALID_SAN', pattern);
  });

  it('a U-label in a request (raw UTF-8 in the IA5String) is refused', () => {
    // openssl writes what it is given; the DER then holds non-ASCII bytes in a dNSName.
    const csr = opensslCsr('/CN=idn', ['-addext', 'subjectAltName=DNS:bücher.example']);
    expectRefused(ca, ['sign', csr, '--out', never()], 'ERR_INVALID_SAN', /DNS SAN "b.*cher\.example" holds bytes that are not printable ASCII/);
  });

  it('a U-label given with --san is converted to its A-label (UTS #46), and openssl shows the A-label', () => {
    const csr = opensslCsr('/CN=idn-ok');
    const out = join(work, 'idn.crt');
    const r = pki(['sign', csr, '--san', 'bücher.example', '--san', '*.Example.COM', '--dir', ca, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(peer('openssl', ['x509', '-in', out, '-noout', '-ext', 'subjectAltName'])).toMatch(/DNS:xn--bcher-kva\.example, DNS:\*\.example\.com/);
  });

  it.each([
    ['a bad --san on generate', ['generate', 'svc', 'main', '--san', 'a..b.example'], /invalid SAN "a\.\.b\.example"/],
    ['an IPv6 zone on generate', ['generate', 'svc', 'main', '--san', 'fe80::1%eth0'], /zone identifier/],
    ['a wildcard in an email domain', ['generate', 'svc', 'main', '--san', 'ops@*.example.com'], /wildcard is not allowed here/],
  ])('refuses %s', (_name, args, pattern) => {
    expectRefused(ca, args, 'ERR_INVALID_SAN', pattern);
  });
});

describe('a leaf never outlives its issuer', () => {
  let ca: string;
  beforeAll(() => {
    ca = join(tempDir(), 'ca');
    const r = pki(['init', '--no-password', '--insecure', '--dir', ca, '--intermediate-not-after', '100d'], { env: { PKI_TEST_NOW: '2030-01-01T00:00:00Z' } });
    expect(r.code, r.stderr).toBe(0);
  });
  const env = { PKI_TEST_NOW: '2030-01-02T00:00:00Z' };

  it('sign --not-after beyond the intermediate is refused', () => {
    expectRefused(ca, ['sign', opensslCsr('/CN=long.example.com'), '--out', never(), '--not-after', '200d'], 'ERR_VALIDITY', /would expire 2030-07-21T00:00:00\.000Z, after its issuing CA \(2030-04-11T00:00:00\.000Z\)/, env);
  });

  it('generate --not-after beyond the intermediate is refused', () => {
    expectRefused(ca, ['generate', 'long', 'main', '--not-after', '2031-01-01T00:00:00Z'], 'ERR_VALIDITY', /after its issuing CA \(2030-04-11/, env);
  });

  it('renew whose successor would outlive the intermediate is refused (exit 1, old certificate kept)', () => {
    expect(pki(['generate', 'renewme', 'main', '--dir', ca, '--not-after', '90d'], { env }).code).toBe(0);
    const crt = join(ca, 'services', 'renewme', 'main', 'certs', 'renewme.crt');
    const before = snapshotTree(ca);
    // 30 days later the same 90-day lifetime would end 2030-05-02, after the intermediate (2030-04-11).
    const r = pki(['renew', crt, '--force', '--dir', ca], { env: { PKI_TEST_NOW: '2030-02-01T00:00:00Z' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/after its issuing CA \(2030-04-11/);
    expect(snapshotTree(ca)).toBe(before);
  });
});

describe('an expired intermediate cannot be used', () => {
  let ca: string;
  let crt: string;
  let serial: string;
  beforeAll(() => {
    ca = join(tempDir(), 'ca');
    const env = { PKI_TEST_NOW: '2030-01-01T00:00:00Z' };
    expect(pki(['init', '--no-password', '--insecure', '--dir', ca, '--intermediate-not-after', '30d'], { env }).code).toBe(0);
    expect(pki(['generate', 'web', 'main', '--dir', ca, '--not-after', '20d'], { env }).code).toBe(0);
    crt = join(ca, 'services', 'web', 'main', 'certs', 'web.crt');
    serial = peer('openssl', ['x509', '-in', crt, '-noout', '-serial']).trim().replace('serial=', '');
  });
  const later = { PKI_TEST_NOW: '2030-02-01T00:00:00Z' };
  const expired = /the issuing CA expired on 2030-01-31T00:00:00\.000Z/;

  it('sign', () => expectRefused(ca, ['sign', opensslCsr('/CN=late.example.com'), '--out', never()], 'ERR_ISSUER_EXPIRED', expired, later));
  it('generate', () => expectRefused(ca, ['generate', 'late', 'main'], 'ERR_ISSUER_EXPIRED', expired, later));
  it('revoke', () => expectRefused(ca, ['revoke', serial], 'ERR_ISSUER_EXPIRED', expired, later));
  it('crl', () => expectRefused(ca, ['crl'], 'ERR_ISSUER_EXPIRED', expired, later));
  it('renew (exit 1, the failure named, nothing changed)', () => {
    const before = snapshotTree(ca);
    const r = pki(['renew', crt, '--force', '--dir', ca], { env: later });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(expired);
    expect(snapshotTree(ca)).toBe(before);
  });
});

describe('a revoked intermediate cannot be used', () => {
  let ca: string;
  let crt: string;
  beforeAll(() => {
    ca = initCa();
    expect(pki(['generate', 'web', 'main', '--dir', ca]).code).toBe(0);
    crt = join(ca, 'services', 'web', 'main', 'certs', 'web.crt');
  });

  it('the root cannot be revoked: it is replaced', () => {
    expectRefused(ca, ['revoke', root(ca)], 'ERR_POLICY', /is the root CA certificate; a root is not revoked/);
  });

  it('pki revoke of the intermediate records it; every signing command then refuses before any write', () => {
    const r = pki(['revoke', intermediate(ca), '--reason', 'cACompromise', '--dir', ca, '--json']);
    expect(r.code, r.stderr).toBe(0);
    // Issue 9 point 15: with the root key in the CA home, the root's CRL now lists the intermediate (was crl: null).
    expect(JSON.parse(r.stdout)).toMatchObject({ reason: 'cACompromise', crl: { path: join(ca, 'crl', 'root_ca.crl'), entries: 1 } });
    const listed = JSON.parse(pki(['list', '--revoked', '--json', '--dir', ca]).stdout) as { profile: string }[];
    expect(listed.map((c) => c.profile)).toContain('intermediate');

    const revoked = /the intermediate CA \(serial [0-9A-F]+\) was revoked on .* \(cACompromise\); it no longer issues/;
    expectRefused(ca, ['sign', opensslCsr('/CN=after.example.com'), '--out', never()], 'ERR_ISSUER_REVOKED', revoked);
    expectRefused(ca, ['generate', 'other', 'main'], 'ERR_ISSUER_REVOKED', revoked);
    expectRefused(ca, ['crl'], 'ERR_ISSUER_REVOKED', revoked);
    expectRefused(ca, ['revoke', crt], 'ERR_ISSUER_REVOKED', revoked);
    const before = snapshotTree(ca);
    const renewed = pki(['renew', crt, '--force', '--dir', ca]);
    expect(renewed.code).toBe(1);
    expect(renewed.stderr).toMatch(revoked);
    expect(snapshotTree(ca)).toBe(before);
  });
});

describe('name constraints: stamped into the intermediate at init, enforced at issuance, enforced by openssl', () => {
  let ca: string;
  beforeAll(() => {
    ca = initCa(['--permit-dns', 'example.com', '--exclude-dns', 'secret.example.com', '--permit-ip', '10.0.0.0/8']);
  });

  it('the intermediate carries a critical Name Constraints extension, and pki.json records it', () => {
    const text = peer('openssl', ['x509', '-in', intermediate(ca), '-noout', '-ext', 'nameConstraints']);
    expect(text).toMatch(/X509v3 Name Constraints: critical/);
    expect(text).toMatch(/Permitted:\s+DNS:example\.com\s+IP:10\.0\.0\.0\/255\.0\.0\.0\s+Excluded:\s+DNS:secret\.example\.com/);
    expect(JSON.parse(readFileSync(join(ca, 'pki.json'), 'utf8')).nameConstraints).toEqual({
      permittedDns: ['example.com'],
      excludedDns: ['secret.example.com'],
      permittedIp: ['10.0.0.0/8'],
      excludedIp: [],
      permittedEmail: [],
      permittedUri: [],
    });
    // The root is not constrained.
    expect(peer('openssl', ['x509', '-in', root(ca), '-noout', '-text'])).not.toMatch(/Name Constraints/);
  });

  it('a request inside the constraints is signed and openssl verifies it', () => {
    const out = join(work, 'inside.crt');
    const r = pki(['sign', opensslCsr('/CN=api.example.com', ['-addext', 'subjectAltName=DNS:api.example.com,DNS:*.svc.example.com,IP:10.1.2.3']), '--dir', ca, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(peer('openssl', ['verify', '-CAfile', root(ca), '-untrusted', intermediate(ca), out]).trim()).toMatch(/: OK$/);
  });

  it.each([
    ['a DNS SAN outside the permitted subtree', 'DNS:api.example.org', /DNS name api\.example\.org is outside the intermediate's name constraints \(permitted: example\.com\)/],
    ['a DNS SAN in the excluded subtree', 'DNS:db.secret.example.com', /DNS name db\.secret\.example\.com is outside .* \(excluded: secret\.example\.com\)/],
    ['a wildcard covering the excluded subtree', 'DNS:*.example.com', /DNS name \*\.example\.com is outside .* \(excluded: secret\.example\.com\)/],
    ['a look-alike suffix', 'DNS:evilexample.com', /DNS name evilexample\.com is outside/],
    ['an IP outside the permitted block', 'IP:192.168.1.1', /IP address 192\.168\.1\.1 is outside .* \(permitted: 10\.0\.0\.0\/8\)/],
  ])('sign refuses %s before signing', (_name, san, pattern) => {
    const csr = opensslCsr('/CN=nc-test', ['-addext', `subjectAltName=${san}`]);
    expectRefused(ca, ['sign', csr, '--out', never()], 'ERR_NAME_CONSTRAINTS', pattern);
  });

  it('a host-name CN outside the constraints with no DNS SAN is refused (openssl checks it too)', () => {
    expectRefused(ca, ['sign', opensslCsr('/CN=www.example.net'), '--out', never()], 'ERR_NAME_CONSTRAINTS', /DNS name www\.example\.net is outside/);
  });

  it('generate and --san are held to the same constraints', () => {
    expectRefused(ca, ['generate', 'redis', 'main'], 'ERR_NAME_CONSTRAINTS', /DNS name redis is outside the intermediate's name constraints/);
    expectRefused(ca, ['sign', opensslCsr('/CN=ok.example.com'), '--san', 'other.org', '--out', never()], 'ERR_NAME_CONSTRAINTS', /other\.org is outside/);
  });

  it('openssl verify rejects a leaf outside the constraints that another tool signed with the intermediate key', () => {
    const csr = opensslCsr('/CN=rogue', ['-addext', 'subjectAltName=DNS:rogue.example.org']);
    const rogue = join(work, 'rogue.crt');
    peer('openssl', ['x509', '-req', '-in', csr, '-CA', intermediate(ca), '-CAkey', join(ca, 'ca', 'intermediate_ca.key'), '-CAcreateserial', '-copy_extensions', 'copyall', '-days', '30', '-out', rogue]);
    const v = runPeer('openssl', ['verify', '-CAfile', root(ca), '-untrusted', intermediate(ca), rogue]);
    expect(v.status).not.toBe(0);
    expect(v.stdout + v.stderr).toMatch(/permitted subtree violation/);
  });

  it.each([
    [['--permit-ip', '10.0.0.1/8'], /name constraint permittedIp "10\.0\.0\.1\/8": host bits are set/],
    [['--permit-ip', 'example.com'], /permittedIp "example\.com": not an IP address or CIDR block/],
    [['--permit-dns', 'bad_name.com'], /permittedDns "bad_name\.com": not a DNS name/],
  ])('init refuses bad constraints %j and writes nothing', (flags, pattern) => {
    const dir = join(tempDir(), 'ca');
    const r = pki(['init', '--json', '--no-password', '--insecure', '--dir', dir, ...flags]);
    expect(expectCliError(r, 'ERR_INVALID_CONFIG')).toMatch(pattern);
    expect(snapshotTree(dir)).toBe('');
  });
});

