/**
 * Issue 6 point 6: clocks and time. notBefore is backdated by pki.json's clockSkew (default 1 minute) in
 * generate, sign and renew; every time is UTC; validity math is exact across leap days and DST changes;
 * dates from 2050 are GeneralizedTime. Fixed clocks come from PKI_TEST_NOW (src/cli/clock.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer } from '../helpers/peers.js';

const certs = (dir: string, service: string) => join(dir, 'services', service, 'main', 'certs');

/** notBefore/notAfter as openssl prints them in ISO 8601. */
function dates(path: string): { notBefore: string; notAfter: string } {
  const out = peer('openssl', ['x509', '-in', path, '-noout', '-dates', '-dateopt', 'iso_8601']);
  const get = (name: string) => new RegExp(`${name}=(.+)`).exec(out)![1]!.trim();
  return { notBefore: get('notBefore'), notAfter: get('notAfter') };
}

/** A CA made at a fixed time (2028-01-01, ten-year root, five-year intermediate). */
function initAt(now: string, extra: string[] = []): string {
  const dir = join(tempDir('pki-clock-'), 'ca');
  const r = pki(['init', '--no-password', '--insecure', '--dir', dir, ...extra], { env: { PKI_TEST_NOW: now } });
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
}

function setConfig(dir: string, patch: Record<string, unknown>): void {
  const path = join(dir, 'pki.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...patch }, null, 2));
}

function csr(work: string, name: string): string {
  const out = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, `${name}.key`), '-out', out, '-subj', `/CN=${name}.example.com`]);
  return out;
}

describe('notBefore is backdated by the clock skew', () => {
  let dir: string;
  let work: string;
  beforeAll(() => {
    dir = initAt('2028-01-01T00:00:00Z');
    work = tempDir('pki-clock-work-');
  });

  it('by 1 minute by default (generate), in UTC', () => {
    const r = pki(['generate', 'leap', 'main', '--dir', dir, '--not-after', '365d'], { env: { PKI_TEST_NOW: '2028-02-29T12:00:00Z' } });
    expect(r.code, r.stderr).toBe(0);
    // Leap day + 365 days of 86,400 s = 2029-02-28 12:00, not "2029-02-29" (which does not exist).
    expect(dates(join(certs(dir, 'leap'), 'leap.crt'))).toEqual({ notBefore: '2028-02-29 11:59:00Z', notAfter: '2029-02-28 12:00:00Z' });
  });

  it('by pki.json clockSkew for sign (5m) and not at all with 0s', () => {
    const skewDir = initAt('2028-01-01T00:00:00Z');
    setConfig(skewDir, { clockSkew: '5m' });
    const out = join(work, 'skew5.crt');
    let r = pki(['sign', csr(work, 'skew5'), '--dir', skewDir, '--out', out, '--not-after', '2028-06-01T00:00:00Z'], { env: { PKI_TEST_NOW: '2028-03-01T00:02:00Z' } });
    expect(r.code, r.stderr).toBe(0);
    expect(dates(out).notBefore).toBe('2028-02-29 23:57:00Z');
    setConfig(skewDir, { clockSkew: '0s' });
    const out0 = join(work, 'skew0.crt');
    r = pki(['sign', csr(work, 'skew0'), '--dir', skewDir, '--out', out0, '--not-after', '30d'], { env: { PKI_TEST_NOW: '2028-03-01T00:02:00Z' } });
    expect(r.code, r.stderr).toBe(0);
    expect(dates(out0)).toEqual({ notBefore: '2028-03-01 00:02:00Z', notAfter: '2028-03-31 00:02:00Z' });
  });

  it('by pki.json clockSkew for renew, keeping the lifetime across a leap day', () => {
    const renewDir = initAt('2028-01-01T00:00:00Z');
    setConfig(renewDir, { clockSkew: '2m' });
    expect(pki(['generate', 'web', 'main', '--dir', renewDir, '--not-after', '90d'], { env: { PKI_TEST_NOW: '2028-01-10T00:00:00Z' } }).code).toBe(0);
    const crt = join(certs(renewDir, 'web'), 'web.crt');
    expect(dates(crt)).toEqual({ notBefore: '2028-01-09 23:58:00Z', notAfter: '2028-04-09 00:00:00Z' });
    const r = pki(['renew', crt, '--dir', renewDir, '--force'], { env: { PKI_TEST_NOW: '2028-02-29T06:00:00Z' } });
    expect(r.code, r.stderr).toBe(0);
    // The same lifetime (90 days + 2 minutes) from the new notBefore: exact milliseconds, no calendar arithmetic.
    expect(dates(crt)).toEqual({ notBefore: '2028-02-29 05:58:00Z', notAfter: '2028-05-29 06:00:00Z' });
  });

  it('an RFC 3339 time with an offset on a DST change day is converted to UTC', () => {
    // 2028-03-26 is the EU spring-forward day: 01:30+01:00 is 00:30 UTC whatever the host's zone.
    const r = pki(['generate', 'dst', 'main', '--dir', dir, '--not-after', '2028-03-26T03:30:00+02:00'], { env: { PKI_TEST_NOW: '2028-03-25T00:00:00Z', TZ: 'Europe/Berlin' } });
    expect(r.code, r.stderr).toBe(0);
    expect(dates(join(certs(dir, 'dst'), 'dst.crt'))).toEqual({ notBefore: '2028-03-24 23:59:00Z', notAfter: '2028-03-26 01:30:00Z' });
  });

  it.each([
    ['2d', /clockSkew: must be a duration from 0s to 1d/],
    ['soon', /clockSkew: must be a duration from 0s to 1d/],
    [60, /clockSkew: must be a string/],
  ])('refuses clockSkew %j with one line and changes nothing', (skew, pattern) => {
    const badDir = initAt('2028-01-01T00:00:00Z');
    setConfig(badDir, { clockSkew: skew });
    const before = snapshotTree(badDir);
    const r = pki(['generate', '--json', 'x', 'main', '--dir', badDir], { env: { PKI_TEST_NOW: '2028-02-01T00:00:00Z' } });
    expect(expectCliError(r, 'ERR_INVALID_CONFIG')).toMatch(pattern);
    expect(snapshotTree(badDir)).toBe(before);
  });
});

describe('GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
  it('a leaf until 2051-01-01 under a CA until 2060 carries notAfter as GENERALIZEDTIME, notBefore as UTCTIME', () => {
    const dir = initAt('2030-01-01T00:00:00Z', ['--root-not-after', '2060-01-01T00:00:00Z', '--intermediate-not-after', '2055-01-01T00:00:00Z']);
    // Regression: a time given to --root-not-after used to be written to pki.json, which then refused to load.
    expect(JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')).validity).toMatchObject({ root: '10957d', intermediate: '9131d' });
    const work = tempDir('pki-2050-');
    const out = join(work, 'far.crt');
    const r = pki(['sign', csr(work, 'far'), '--dir', dir, '--out', out, '--not-after', '2051-01-01T00:00:00Z'], { env: { PKI_TEST_NOW: '2030-06-01T00:00:00Z' } });
    expect(r.code, r.stderr).toBe(0);
    const parsed = peer('openssl', ['asn1parse', '-in', out]);
    expect(parsed).toMatch(/UTCTIME\s+:300531235900Z/);
    expect(parsed).toMatch(/GENERALIZEDTIME\s+:20510101000000Z/);
    // The intermediate's own notAfter (2055) is GeneralizedTime too, and openssl accepts the chain in 2030.
    expect(peer('openssl', ['asn1parse', '-in', join(dir, 'ca', 'intermediate_ca.crt')])).toMatch(/GENERALIZEDTIME\s+:20550101000000Z/);
    const v = peer('openssl', ['verify', '-attime', String(Date.parse('2031-01-01T00:00:00Z') / 1000), '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-untrusted', join(dir, 'ca', 'intermediate_ca.crt'), out]);
    expect(v.trim()).toMatch(/: OK$/);
  });
});
