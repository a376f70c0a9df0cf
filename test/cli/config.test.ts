/**
 * Issue 12, point 3 (done-means 4): `pki config validate [FILE]` and `pki config show`. Every refusal of the
 * profile schema names the field path and the file, both through `config validate` and through a command
 * that loads pki.json (`generate`: ERR_INVALID_CONFIG, exit 1, nothing written); `config show` prints the
 * effective configuration with the defaults and the built-in profiles.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/store/config.js';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError, expectPkiError } from '../helpers/errors.js';

let home: string;
let base: Record<string, unknown>;
let work: string;

beforeAll(() => {
  home = initCa();
  work = tempDir('pki-config-');
  base = JSON.parse(readFileSync(join(home, 'pki.json'), 'utf8')) as Record<string, unknown>;
});

/** [what, the field path the refusal names, how its message starts, the pki.json fields changed]. */
const REFUSALS: readonly [string, string, string, Record<string, unknown>][] = [
  ['unknown field', 'profiles.web', 'unknown field "bogus"', { profiles: { web: { bogus: 1 } } }],
  ['bad duration', 'profiles.web.notAfter', 'must be a duration', { profiles: { web: { notAfter: '90 days' } } }],
  ['unknown EKU', 'profiles.web.extKeyUsage.1', 'must be one of "serverAuth"', { profiles: { web: { extKeyUsage: ['serverAuth', 'fooAuth'] } } }],
  ['EKU without serverAuth or clientAuth', 'profiles.web.extKeyUsage', 'must include serverAuth or clientAuth', { profiles: { web: { extKeyUsage: ['codeSigning'] } } }],
  ['unknown key usage', 'profiles.web.keyUsage.1', 'must be one of "digitalSignature"', { profiles: { web: { keyUsage: ['digitalSignature', 'signEverything'] } } }],
  ['CA-only keyCertSign in a leaf profile', 'profiles.web.keyUsage.0', 'keyCertSign is a CA-only key usage', { profiles: { web: { keyUsage: ['keyCertSign'] } } }],
  ['CA-only cRLSign in a leaf profile', 'profiles.server.keyUsage.1', 'cRLSign is a CA-only key usage', { profiles: { server: { keyUsage: ['digitalSignature', 'cRLSign'] } } }],
  ['basicConstraints in a leaf profile', 'profiles.web', 'basicConstraints is not allowed', { profiles: { web: { basicConstraints: { ca: true } } } }],
  ['RSA 1024', 'profiles.web.size', 'must be at least 2048', { profiles: { web: { kty: 'RSA', size: 1024 } } }],
  ['RSA size not a multiple of 8', 'profiles.web.size', 'must be a multiple of 8', { profiles: { web: { kty: 'RSA', size: 2049 } } }],
  ['unknown kty', 'profiles.web.kty', 'must be one of "EC", "RSA", "OKP"', { profiles: { web: { kty: 'DSA' } } }],
  ['crv with kty RSA', 'profiles.web.crv', 'does not apply to kty "RSA"', { profiles: { web: { kty: 'RSA', crv: 'P-256' } } }],
  ['Ed25519 with kty EC', 'profiles.web.crv', 'must be "P-256" or "P-384" with kty "EC"', { profiles: { web: { kty: 'EC', crv: 'Ed25519' } } }],
  ['size with kty EC', 'profiles.web.size', 'applies to kty "RSA" only', { profiles: { web: { kty: 'EC', size: 2048 } } }],
  ['bad OCSP URL', 'profiles.web.ocspUrls.0', 'must be an http(s) URL', { profiles: { web: { ocspUrls: ['ftp://ocsp.example'] } } }],
  ['bad CRL distribution point', 'profiles.web.crlDistributionPoints.0', 'must be an http(s) URL', { profiles: { web: { crlDistributionPoints: ['crl.example/x.crl'] } } }],
  ['caIssuersUrls not a list', 'profiles.web.caIssuersUrls', 'must be an array', { profiles: { web: { caIssuersUrls: 'http://pki.example/ca.der' } } }],
  ['bad top-level aia.caIssuers URL', 'aia.caIssuers.0', 'must be an http(s) URL', { aia: { caIssuers: ['file:///etc/passwd'] } }],
  ['three-letter subject country', 'profiles.web.subject.C', 'must be a two-letter country code', { profiles: { web: { subject: { C: 'DEU' } } } }],
  ['unknown subject attribute', 'profiles.web.subject', 'unknown field "CN"', { profiles: { web: { subject: { CN: 'x' } } } }],
  ['empty profile name', 'profiles.""', 'a profile name must be 1 to 40', { profiles: { '': { notAfter: '30d' } } }],
  ['sans with an invalid name', 'profiles.web.sans.1', 'is not a name pki issues', { profiles: { web: { sans: ['ok.internal', 'not a name'] } } }],
  ['a required SAN pattern with a space', 'profiles.web.requiredSanPatterns.1', 'must be a name pattern', { profiles: { web: { requiredSanPatterns: ['*.internal', 'a b'] } } }],
  ['profiles not an object', 'profiles', 'must be an object of named profiles', { profiles: ['web'] }],
];

describe('pki.json refusals', () => {
  it('has at least 12 cases', () => expect(REFUSALS.length).toBeGreaterThanOrEqual(12));

  it.each(REFUSALS)('%s: config validate FILE names %s and the file (ERR_INVALID_CONFIG, exit 1)', (_what, field, words, change) => {
    const file = join(work, 'pki.json');
    writeFileSync(file, JSON.stringify({ ...base, ...change }));
    const line = expectCliError(pki(['config', 'validate', file, '--json']), 'ERR_INVALID_CONFIG');
    expect(line).toContain(`${file}: ${field}: ${words}`);
    // A relative FILE is named as the absolute path it resolved to.
    const relative = expectCliError(pki(['config', 'validate', 'pki.json', '--json'], { cwd: work }), 'ERR_INVALID_CONFIG');
    expect(relative).toContain(`${resolve(work, 'pki.json')}: ${field}: `);
  });

  it.each(REFUSALS)('%s: a command loading pki.json (generate) refuses naming %s, nothing written', (_what, field, words, change) => {
    const file = join(home, 'pki.json');
    writeFileSync(file, JSON.stringify({ ...base, ...change }));
    try {
      const before = snapshotTree(home);
      const line = expectCliError(pki(['generate', 'svc', 'main', '--dir', home, '--json']), 'ERR_INVALID_CONFIG');
      expect(line).toContain(`${file}: ${field}: ${words}`);
      expect(line).toContain('see docs/configuration.md');
      expect(snapshotTree(home)).toBe(before);
    } finally {
      writeFileSync(file, JSON.stringify(base, null, 2));
    }
  });

  it('the same refusals in-process: parseConfig throws ERR_INVALID_CONFIG naming the field', () => {
    for (const [, field, , change] of REFUSALS) {
      const e = expectPkiError(() => parseConfig(JSON.stringify({ ...base, ...change }), 'x/pki.json'), 'ERR_INVALID_CONFIG');
      expect(e.message.startsWith(`x/pki.json: ${field}: `), e.message).toBe(true);
    }
  });
});

describe('pki config validate', () => {
  it('the CA home pki.json by default: "<file>: valid", exit 0; --json {file, valid}', () => {
    const r = pki(['config', 'validate', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${join(home, 'pki.json')}: valid\n`);
    const j = pki(['config', 'validate', '--dir', home, '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ file: join(home, 'pki.json'), valid: true });
  });

  it('lists every problem, one per line on stdout, and one error line counting them', () => {
    const file = join(work, 'two.json');
    writeFileSync(file, JSON.stringify({ ...base, profiles: { web: { notAfter: 'soon', subject: { C: 'de' } } } }));
    const r = pki(['config', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      `${file}: profiles.web.notAfter: must be a duration such as 90d or 1y`,
      `${file}: profiles.web.subject.C: must be a two-letter country code such as "DE"`,
    ]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^pki: error: 2 problems: /);
  });

  it('accepts a file with a full profile (every field)', () => {
    const file = join(work, 'full.json');
    writeFileSync(file, JSON.stringify({ ...base, aia: { caIssuers: ['http://pki.example/ca.der'] }, profiles: { web: FULL_PROFILE } }));
    const r = pki(['config', 'validate', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe(`${file}: valid\n`);
  });
});

const FULL_PROFILE = {
  keyUsage: ['digitalSignature'],
  extKeyUsage: ['serverAuth'],
  notAfter: '30d',
  kty: 'RSA',
  size: 3072,
  subject: { O: 'Acme', OU: 'Web', C: 'DE', ST: 'Berlin', L: 'Berlin' },
  sans: ['www.acme.internal'],
  requiredSanPatterns: ['*.acme.internal'],
  crlDistributionPoints: ['http://crl.example/web.crl'],
  ocspUrls: ['http://ocsp.example'],
  caIssuersUrls: ['http://pki.example/ca.der'],
};

function fieldPaths(value: unknown, prefix: string): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => fieldPaths(v, `${prefix}.${k}`));
}

describe('docs/configuration.md', () => {
  it('has a row for every profile field and for aia.caIssuers', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
    const config = parseConfig(JSON.stringify({ ...base, aia: { caIssuers: [] }, profiles: { web: FULL_PROFILE } }), 'pki.json');
    const paths = ['profiles.<name>', 'aia.caIssuers', ...fieldPaths(config.profiles!.web, 'profiles.<name>')];
    expect(paths.length).toBeGreaterThanOrEqual(17);
    expect(paths.filter((p) => !doc.includes(`| \`${p}\` |`))).toEqual([]);
  });
});

describe('pki config show', () => {
  interface Shown {
    file: string;
    config: Record<string, unknown> & { profiles: Record<string, Record<string, unknown>> };
  }

  it('prints the effective configuration: defaults filled in, built-in profiles included, pki.json ones beside them', () => {
    const dir = initCa();
    const file = join(dir, 'pki.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    config.ocsp = { urls: ['http://ocsp.example'] };
    config.profiles = { web: { extKeyUsage: ['serverAuth'], notAfter: '30d', ocspUrls: [] }, client: { notAfter: '7d' } };
    writeFileSync(file, JSON.stringify(config));
    const r = pki(['config', 'show', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as Shown;
    expect(shown.file).toBe(file);
    expect(shown.config).toMatchObject({
      version: 1,
      key: { kty: 'EC', crv: 'P-256' },
      maxSans: 100,
      clockSkew: '1m',
      crl: { distributionPoints: [], nextUpdate: '7d', rootNextUpdate: '1y' },
      ocsp: { urls: ['http://ocsp.example'] },
      aia: { caIssuers: [] },
      nameConstraints: { permittedDns: [], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] },
    });
    expect(Object.keys(shown.config.profiles)).toEqual(['client', 'peer', 'server', 'web']);
    expect(shown.config.profiles.server).toEqual({
      source: 'built-in',
      role: 'server',
      keyUsage: ['digitalSignature'],
      keyUsageRsa: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth'],
      notAfter: '90d',
      key: null,
      subject: {},
      sans: [],
      requiredSanPatterns: [],
      crlDistributionPoints: [],
      ocspUrls: ['http://ocsp.example'],
      caIssuersUrls: [],
    });
    expect(shown.config.profiles.peer).toMatchObject({ source: 'built-in', role: 'peer', extKeyUsage: ['serverAuth', 'clientAuth'] });
    expect(shown.config.profiles.client).toMatchObject({ source: 'pki.json, overriding the built-in', role: 'client', extKeyUsage: ['clientAuth'], notAfter: '7d' });
    // web starts from server, and its own empty ocspUrls wins over the top-level one.
    expect(shown.config.profiles.web).toMatchObject({ source: 'pki.json', role: 'server', keyUsage: ['digitalSignature'], keyUsageRsa: ['digitalSignature', 'keyEncipherment'], notAfter: '30d', ocspUrls: [] });

    const text = pki(['config', 'show', '--dir', dir]);
    expect(text.code).toBe(0);
    const [first, ...rest] = text.stdout.split('\n');
    expect(first).toBe(`# ${file}, as pki applies it: defaults filled in, built-in profiles included`);
    expect(JSON.parse(rest.join('\n'))).toEqual(shown.config);
  });

  it('refuses an invalid pki.json as every command does', () => {
    const dir = initCa();
    const file = join(dir, 'pki.json');
    writeFileSync(file, JSON.stringify({ ...base, profiles: { web: { notAfter: 'x' } } }));
    expect(expectCliError(pki(['config', 'show', '--dir', dir, '--json']), 'ERR_INVALID_CONFIG')).toContain(`${file}: profiles.web.notAfter: `);
  });
});

describe('pki config validate of a CA home: what serve.provisioners name must exist there', () => {
  it('refuses a provisioner naming an issuing CA or a trust domain the home lacks (one line, exit 1, the file unchanged); accepts those it has', () => {
    const dir = initCa();
    const file = join(dir, 'pki.json');
    const base = JSON.parse(readFileSync(file, 'utf8'));
    const write = (provisioners: Record<string, unknown>) => writeFileSync(file, `${JSON.stringify({ ...base, serve: { provisioners } }, null, 2)}\n`);
    write({ web: { ca: 'systems' } });
    const before = readFileSync(file, 'utf8');
    expect(expectCliError(pki(['config', 'validate', '--dir', dir, '--insecure', '--json']), 'ERR_INVALID_CONFIG')).toContain(`${file}: serve.provisioners.web.ca: there is no issuing CA "systems" in this CA home (CAs: default)`);
    expect(readFileSync(file, 'utf8')).toBe(before);
    write({ cache: { trustDomain: 'cache' } });
    expect(expectCliError(pki(['config', 'validate', '--dir', dir, '--insecure', '--json']), 'ERR_INVALID_CONFIG')).toContain(`${file}: serve.provisioners.cache.trustDomain: there is no trust domain "cache" in this CA home (trust domains: none)`);
    // Given as a FILE, pki.json is checked alone: the file may belong to another home.
    expect(pki(['config', 'validate', file]).code).toBe(0);
    expect(pki(['ca', 'add', 'systems', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    expect(pki(['generate', 'redis', 'main', '--trust-domain', 'cache', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    write({ web: { ca: 'systems' }, cache: { trustDomain: 'cache' } });
    const ok = pki(['config', 'validate', '--dir', dir, '--insecure']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`${file}: valid\n`);
  });
});
