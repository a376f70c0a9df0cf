/**
 * Issue 11, `pki verify` as a command: the files it gathers (the leaf file, --untrusted, --roots or the
 * default anchors, --crl and the CA home's CRLs), the one-line verdict on stdout with exit 0/1, the --json
 * document, and bad input (one `pki: error:` line on stderr, exit 1, or 2 for flags). Certificates come
 * from real CA homes made with `pki init` / `pki generate` / `pki sign` under fixed clocks (PKI_TEST_NOW).
 * The path-validation rules themselves are proven against openssl and certtool in test/verify/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer } from '../helpers/peers.js';

const NOW = '2026-12-01T00:00:00Z';
const at = (time: string) => ({ env: { PKI_TEST_NOW: time } });
/** The redis leaf made at NOW lives 90 days (pki.json validity.leaf). */
const LEAF_NOT_AFTER = '2027-03-01T00:00:00Z';

interface Home {
  dir: string;
  root: string;
  intermediate: string;
  /** services/redis/main/certs/redis.crt: the leaf, then the intermediate. */
  bundle: string;
  /** The redis leaf alone. */
  leaf: string;
  /** EKU serverAuth only (pki sign --profile server), SAN web.example.com; leaf + intermediate. */
  serverOnly: string;
  clientKey: string;
}

function run(args: readonly string[], time = NOW): CliResult {
  return pki(['verify', ...args], at(time));
}

function makeHome(): Home {
  const work = tempDir('pki-verify-');
  const dir = join(work, 'ca');
  let r = pki(['init', '--no-password', '--insecure', '--dir', dir], at(NOW));
  expect(r.code, r.stderr).toBe(0);
  r = pki(['generate', 'redis', 'main', '--dir', dir], at(NOW));
  expect(r.code, r.stderr).toBe(0);
  const certs = join(dir, 'services/redis/main/certs');
  const bundle = join(certs, 'redis.crt');
  const leaf = join(work, 'redis-leaf.crt');
  writeFileSync(leaf, `${readFileSync(bundle, 'utf8').split('-----END CERTIFICATE-----')[0]}-----END CERTIFICATE-----\n`);
  const csr = join(work, 'web.csr');
  peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'web.key'), '-out', csr, '-subj', '/CN=web.example.com', '-addext', 'subjectAltName=DNS:web.example.com']);
  const serverOnly = join(work, 'web.crt');
  r = pki(['sign', csr, '--profile', 'server', '--out', serverOnly, '--dir', dir], at(NOW));
  expect(r.code, r.stderr).toBe(0);
  return { dir, root: join(dir, 'ca/root_ca.crt'), intermediate: join(dir, 'ca/intermediate_ca.crt'), bundle, leaf, serverOnly, clientKey: join(certs, 'client.key') };
}

/** The --json document of a run, with the exit code it must have had and nothing on stderr. */
function verdict(r: CliResult, exit: number) {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(exit);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as {
    valid: boolean;
    chain: { subject: string; issuer: string; serial: string; notBefore: string; notAfter: string; fingerprintSha256: string }[];
    error: { code: string; message: string; certificate: string; hint?: string } | null;
    checks: { name: string; ok: boolean; detail: string }[];
    time: string;
    roots: string[];
    crls: string[];
  };
}

/** An invalid verdict in text form: one `invalid: ` line on stdout, exit 1, stderr empty. */
function invalidLine(r: CliResult): string {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  expect(r.stderr).toBe('');
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^invalid: /);
  return lines[0]!;
}

let home: Home;
let empty: string;
beforeAll(() => {
  home = makeHome();
  empty = tempDir('pki-verify-no-home-');
});

describe('pki verify: the verdict', () => {
  it('a generated bundle against the CA home root (the default): "OK: …" with the chain and the leaf notAfter, exit 0', () => {
    const r = run([home.bundle, '--dir', home.dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`OK: CN=redis — chain redis ← pki Intermediate CA ← pki Root CA (valid until ${LEAF_NOT_AFTER})\n`);
  });

  it('the leaf alone with --untrusted intermediate and --roots root (no CA home): OK, and --json names the roots file', () => {
    const args = [home.leaf, '--untrusted', home.intermediate, '--roots', home.root, '--dir', empty];
    expect(run(args).stdout).toMatch(/^OK: CN=redis — chain redis ← pki Intermediate CA ← pki Root CA /);
    const doc = verdict(run(['--json', ...args]), 0);
    expect(doc.roots).toEqual([home.root]);
    expect(doc.chain.map((c) => c.subject)).toEqual(['CN=redis', 'CN=pki Intermediate CA', 'CN=pki Root CA']);
  });

  it('the leaf alone without its intermediate: ERR_UNKNOWN_AUTHORITY', () => {
    const doc = verdict(run(['--json', home.leaf, '--roots', home.root, '--dir', empty]), 1);
    expect(doc.error?.code).toBe('ERR_UNKNOWN_AUTHORITY');
  });

  it('no CA home and no --roots: the system bundle is the default, which does not know a pki CA (ERR_UNKNOWN_AUTHORITY)', () => {
    const doc = verdict(run(['--json', home.bundle, '--dir', empty]), 1);
    expect(doc.roots).toEqual(['/etc/ssl/certs/ca-certificates.crt']);
    expect(doc.valid).toBe(false);
    expect(doc.error?.code).toBe('ERR_UNKNOWN_AUTHORITY');
    expect(invalidLine(run([home.bundle, '--dir', empty]))).toMatch(/^invalid: CN=/);
  });

  it('--time after the leaf expired: "invalid: CN=redis: certificate has expired on …", ERR_CERT_EXPIRED', () => {
    const line = invalidLine(run([home.bundle, '--dir', home.dir, '--time', '2027-03-02T00:00:00Z']));
    expect(line).toMatch(/^invalid: CN=redis: .*expired.*2027-03-01T00:00:00Z/);
    const doc = verdict(run(['--json', home.bundle, '--dir', home.dir, '--time', '2027-03-02T00:00:00Z']), 1);
    expect(doc.error).toMatchObject({ code: 'ERR_CERT_EXPIRED', certificate: 'CN=redis' });
    expect(doc.time).toBe('2027-03-02T00:00:00Z');
  });

  it('--time with an offset is the same instant in UTC; before notBefore: ERR_CERT_NOT_YET_VALID', () => {
    const doc = verdict(run(['--json', home.bundle, '--dir', home.dir, '--time', '2026-12-01T02:00:00+02:00']), 0);
    expect(doc.time).toBe(NOW);
    const early = verdict(run(['--json', home.bundle, '--dir', home.dir, '--time', '2026-11-01T00:00:00Z']), 1);
    expect(early.error?.code).toBe('ERR_CERT_NOT_YET_VALID');
  });

  it('--host: a SAN matches (DNS, and an IP literal as an IP); another name is ERR_HOSTNAME_MISMATCH', () => {
    expect(run([home.bundle, '--dir', home.dir, '--host', 'REDIS']).code).toBe(0);
    expect(run([home.bundle, '--dir', home.dir, '--host', '127.0.0.1']).code).toBe(0);
    expect(run([home.bundle, '--dir', home.dir, '--ip', '::1']).code).toBe(0);
    const line = invalidLine(run([home.bundle, '--dir', home.dir, '--host', 'db.internal']));
    expect(line).toContain('db.internal');
    expect(verdict(run(['--json', home.bundle, '--dir', home.dir, '--host', 'db.internal']), 1).error?.code).toBe('ERR_HOSTNAME_MISMATCH');
    expect(verdict(run(['--json', home.bundle, '--dir', home.dir, '--ip', '10.0.0.5']), 1).error?.code).toBe('ERR_HOSTNAME_MISMATCH');
  });

  it('--purpose client on a server-only certificate: ERR_PURPOSE; --purpose server and any: OK', () => {
    expect(run([home.serverOnly, '--dir', home.dir, '--purpose', 'server']).code).toBe(0);
    expect(run([home.serverOnly, '--dir', home.dir]).code).toBe(0);
    const doc = verdict(run(['--json', home.serverOnly, '--dir', home.dir, '--purpose', 'client']), 1);
    expect(doc.error).toMatchObject({ code: 'ERR_PURPOSE', certificate: 'CN=web.example.com' });
    expect(invalidLine(run([home.serverOnly, '--dir', home.dir, '--purpose', 'client']))).toMatch(/^invalid: CN=web\.example\.com: /);
  });

  it('--max-depth 0 with one intermediate in the path: ERR_PATH_LENGTH; --max-depth 1: OK', () => {
    expect(run([home.bundle, '--dir', home.dir, '--max-depth', '1']).code).toBe(0);
    expect(verdict(run(['--json', home.bundle, '--dir', home.dir, '--max-depth', '0']), 1).error?.code).toBe('ERR_PATH_LENGTH');
  });

  it('a name with control characters is escaped on the terminal (a self-signed CA given as the leaf and the root)', () => {
    const work = tempDir('pki-verify-evil-');
    const evil = join(work, 'evil.crt');
    peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'evil.key'), '-out', evil, '-days', '30', '-utf8', '-subj', '/CN=evil\x1b[31mred']);
    const r = pki(['verify', evil, '--roots', evil, '--dir', empty]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).toMatch(/^OK: CN=evil\\1B\[31mred — chain evil\\x1b\[31mred \(valid until /);
  });
});

describe('pki verify: revocation', () => {
  it('--crl-check on a valid leaf uses the CA home CRL; --crl-check-all also the root CRL; both OK', () => {
    const doc = verdict(run(['--json', home.bundle, '--dir', home.dir, '--crl-check']), 0);
    expect(doc.crls).toEqual([join(home.dir, 'crl/intermediate_ca.crl')]);
    const all = verdict(run(['--json', home.bundle, '--dir', home.dir, '--crl-check-all']), 0);
    expect(all.crls).toEqual([join(home.dir, 'crl/intermediate_ca.crl'), join(home.dir, 'crl/root_ca.crl')]);
  });

  it('after `pki revoke`: --crl-check gives ERR_REVOKED naming the leaf; without --crl-check the leaf still verifies', () => {
    const own = makeHome();
    const later = '2026-12-02T00:00:00Z';
    const r = pki(['revoke', own.serverOnly, '--dir', own.dir], at('2026-12-01T12:00:00Z'));
    expect(r.code, r.stderr).toBe(0);
    expect(pki(['verify', own.serverOnly, '--dir', own.dir], at(later)).code).toBe(0);
    const doc = verdict(pki(['verify', '--json', own.serverOnly, '--dir', own.dir, '--crl-check'], at(later)), 1);
    expect(doc.error).toMatchObject({ code: 'ERR_REVOKED', certificate: 'CN=web.example.com' });
    expect(invalidLine(pki(['verify', own.serverOnly, '--dir', own.dir, '--crl-check'], at(later)))).toMatch(/^invalid: CN=web\.example\.com: .*revoked/);
    // The same CRL given with --crl, the CA home out of the picture.
    const byFile = verdict(pki(['verify', '--json', own.serverOnly, '--roots', own.root, '--crl', join(own.dir, 'crl/intermediate_ca.crl'), '--crl-check', '--dir', empty], at(later)), 1);
    expect(byFile.error?.code).toBe('ERR_REVOKED');
  });

  it('--crl-check with no CRL for the leaf (no CA home, no --crl): ERR_CRL_MISSING', () => {
    const doc = verdict(run(['--json', home.bundle, '--roots', home.root, '--dir', empty, '--crl-check']), 1);
    expect(doc.crls).toEqual([]);
    expect(doc.error?.code).toBe('ERR_CRL_MISSING');
  });

  it('a --crl past its nextUpdate makes the verdict invalid even without --crl-check (ERR_CRL_STALE)', () => {
    const doc = verdict(run(['--json', home.bundle, '--dir', home.dir, '--crl', join(home.dir, 'crl/intermediate_ca.crl'), '--time', '2026-12-20T00:00:00Z']), 1);
    expect(doc.error?.code).toBe('ERR_CRL_STALE');
  });
});

describe('pki verify --json', () => {
  it('exactly valid, chain, error, checks, then time, roots, crls; chain entries and checks have their fields and types', () => {
    const ok = verdict(run(['--json', home.bundle, '--dir', home.dir, '--host', 'redis', '--purpose', 'server']), 0);
    expect(Object.keys(ok)).toEqual(['valid', 'chain', 'error', 'checks', 'time', 'roots', 'crls']);
    expect(ok.valid).toBe(true);
    expect(ok.error).toBeNull();
    expect(ok.chain).toHaveLength(3);
    for (const entry of ok.chain) {
      expect(Object.keys(entry).sort()).toEqual(['fingerprintSha256', 'issuer', 'notAfter', 'notBefore', 'serial', 'subject']);
      for (const value of Object.values(entry)) expect(typeof value).toBe('string');
      expect(entry.notAfter).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(entry.fingerprintSha256).toMatch(/^[0-9a-fA-F]{64}$/);
    }
    expect(ok.chain[0]!.notAfter).toBe(LEAF_NOT_AFTER);
    const serial = peer('openssl', ['x509', '-in', home.leaf, '-noout', '-serial']).trim().replace(/^serial=/, '');
    expect(ok.chain[0]!.serial.replace(/^0+/, '')).toBe(serial.replace(/^0+/, ''));
    expect(ok.checks.length).toBeGreaterThan(0);
    for (const check of ok.checks) {
      expect(Object.keys(check)).toEqual(['name', 'ok', 'detail']);
      expect(typeof check.name).toBe('string');
      expect(check.ok).toBe(true);
      expect(typeof check.detail).toBe('string');
    }
    expect(ok.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['signature', 'validity', 'host', 'extendedKeyUsage']));
    expect(ok.time).toBe(NOW);
    expect(ok.roots).toEqual([home.root]);
    expect(ok.crls).toEqual([]);

    const bad = verdict(run(['--json', home.bundle, '--dir', home.dir, '--host', 'db.internal']), 1);
    expect(bad.valid).toBe(false);
    expect(Object.keys(bad.error!).filter((k) => k !== 'hint')).toEqual(['code', 'message', 'certificate']);
    expect(typeof bad.error!.message).toBe('string');
    expect(bad.checks.some((c) => c.name === 'host' && !c.ok)).toBe(true);
  });
});

describe('pki verify: bad input is one line on stderr, never a verdict', () => {
  const files = () => {
    const work = tempDir('pki-verify-bad-');
    const garbage = join(work, 'garbage.crt');
    writeFileSync(garbage, 'this is not a certificate\n');
    const emptyFile = join(work, 'empty.crt');
    writeFileSync(emptyFile, '');
    const folder = join(work, 'folder');
    mkdirSync(folder);
    return { garbage, emptyFile, folder, missing: join(work, 'missing.crt') };
  };

  const cases: { name: string; args: (f: ReturnType<typeof files>) => string[]; code: string; exit: number }[] = [
    { name: 'a garbage file', args: (f) => [f.garbage], code: 'ERR_MALFORMED_CERTIFICATE', exit: 1 },
    { name: 'an empty file', args: (f) => [f.emptyFile], code: 'ERR_EMPTY_INPUT', exit: 1 },
    { name: 'a missing file', args: (f) => [f.missing], code: 'ERR_FILE_NOT_FOUND', exit: 1 },
    { name: 'a folder', args: (f) => [f.folder], code: 'ERR_IS_DIRECTORY', exit: 1 },
    { name: 'a key instead of the certificate', args: () => [home.clientKey], code: 'ERR_UNKNOWN_OBJECT', exit: 1 },
    { name: 'a key as --roots', args: () => [home.bundle, '--roots', home.clientKey], code: 'ERR_UNKNOWN_OBJECT', exit: 1 },
    { name: 'a garbage --untrusted', args: (f) => [home.bundle, '--untrusted', f.garbage], code: 'ERR_MALFORMED_CERTIFICATE', exit: 1 },
    { name: 'a certificate as --crl', args: () => [home.bundle, '--crl', home.root], code: 'ERR_UNKNOWN_OBJECT', exit: 1 },
    { name: 'a missing --crl', args: (f) => [home.bundle, '--crl', f.missing], code: 'ERR_FILE_NOT_FOUND', exit: 1 },
    { name: 'an unknown --purpose', args: () => [home.bundle, '--purpose', 'email'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a --time that is not a time', args: () => [home.bundle, '--time', 'yesterday'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a --time with month 13', args: () => [home.bundle, '--time', '2026-13-01T00:00:00Z'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a --time given as a duration', args: () => [home.bundle, '--time', '30d'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a --host with a space', args: () => [home.bundle, '--host', 'db internal'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a wildcard --host', args: () => [home.bundle, '--host', '*.example.com'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a URL as --host', args: () => [home.bundle, '--host', 'https://db.internal'], code: 'ERR_USAGE', exit: 2 },
    { name: 'an --ip that is a name', args: () => [home.bundle, '--ip', 'db.internal'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a negative --max-depth', args: () => [home.bundle, '--max-depth', '-1'], code: 'ERR_USAGE', exit: 2 },
    { name: 'a fractional --max-depth', args: () => [home.bundle, '--max-depth', '1.5'], code: 'ERR_USAGE', exit: 2 },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.code}, exit ${c.exit}; only the error JSON on stdout with --json, nothing without`, () => {
      const f = files();
      const before = snapshotTree(home.dir);
      const args = [...c.args(f), '--dir', home.dir];
      const line = expectCliError(run(['--json', ...args]), c.code, c.exit);
      expect(line).toMatch(/^pki: error: /);
      const text = run(args);
      expect(expectOneLineError(text, c.exit)).toBe(line);
      expect(text.stdout).toBe('');
      expect(snapshotTree(home.dir)).toBe(before);
    });
  }

  it('a key given as the certificate: says it is a key and prints nothing of it', () => {
    const key = readFileSync(home.clientKey, 'utf8');
    const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(body.length).toBeGreaterThan(0);
    for (const r of [run([home.clientKey, '--dir', home.dir]), run(['--json', home.clientKey, '--dir', home.dir])]) {
      expect(r.stderr).toMatch(/private key, not a certificate/);
      for (const line of body) {
        expect(r.stdout).not.toContain(line.slice(0, 24));
        expect(r.stderr).not.toContain(line.slice(0, 24));
      }
    }
  });
});
