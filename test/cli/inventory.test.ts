/**
 * The inventory through the CLI: revoke + CRL against openssl, list, db rebuild / export-index, a missing
 * database, init --force, and 20 concurrent issuing processes.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, pkiAsync, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, runPeer } from '../helpers/peers.js';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

function csr(dir: string, name: string): string {
  const out = join(dir, `${name}.csr`);
  peer('openssl', ['req', '-new', ...EC, '-nodes', '-keyout', join(dir, `${name}.key`), '-out', out, '-subj', `/CN=${name}.example.com`]);
  return out;
}

function signTo(ca: string, dir: string, name: string): { file: string; serial: string } {
  const file = join(dir, `${name}.crt`);
  const r = pki(['sign', csr(dir, name), '--dir', ca, '--out', file]);
  if (r.code !== 0) throw new Error(r.stderr);
  const serial = peer('openssl', ['x509', '-in', file, '-noout', '-serial']).trim().slice('serial='.length);
  return { file, serial };
}

function withDb<T>(ca: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(ca, 'db', 'pki.sqlite'), { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function crlNumber(ca: string): number {
  const text = peer('openssl', ['crl', '-in', join(ca, 'crl', 'intermediate_ca.crl'), '-noout', '-crlnumber']);
  return Number.parseInt(text.trim().slice('crlNumber=0x'.length), 16);
}

function crlVerify(ca: string): void {
  const r = runPeer('openssl', ['crl', '-in', join(ca, 'crl', 'intermediate_ca.crl'), '-CAfile', join(ca, 'ca', 'intermediate_ca.crt'), '-noout', '-verify']);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr + r.stdout).toMatch(/verify OK/);
}

function verifyWithCrl(ca: string, file: string) {
  return runPeer('openssl', [
    'verify',
    '-crl_check',
    '-CRLfile',
    join(ca, 'crl', 'intermediate_ca.crl'),
    '-CAfile',
    join(ca, 'ca', 'root_ca.crt'),
    '-untrusted',
    join(ca, 'ca', 'intermediate_ca.crt'),
    file,
  ]);
}

describe('pki revoke and pki crl', () => {
  let ca: string;
  let work: string;
  beforeAll(() => {
    ca = initCa();
    work = tempDir('pki-revoke-');
  });

  it('revoke, then openssl verify -crl_check rejects the revoked certificate and accepts another; CRL Numbers increase', () => {
    const revoked = signTo(ca, work, 'revoked');
    const kept = signTo(ca, work, 'kept');
    const r = pki(['revoke', revoked.serial, '--reason', 'keyCompromise', '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    crlVerify(ca);
    const first = crlNumber(ca);
    const bad = verifyWithCrl(ca, revoked.file);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/certificate revoked/);
    expect(verifyWithCrl(ca, kept.file).status).toBe(0);
    expect(peer('openssl', ['crl', '-in', join(ca, 'crl', 'intermediate_ca.crl'), '-noout', '-text'])).toMatch(/Key Compromise/);

    const again = pki(['crl', '--der', '--next-update', '1d', '--dir', ca]);
    expect(again.code, again.stderr).toBe(0);
    crlVerify(ca);
    expect(crlNumber(ca)).toBeGreaterThan(first);
    const der = join(ca, 'crl', 'intermediate_ca.crl.der');
    expect(peer('openssl', ['crl', '-inform', 'DER', '-in', der, '-noout', '-crlnumber']).trim()).toBe(`crlNumber=0x${crlNumber(ca).toString(16).toUpperCase().padStart(2, '0')}`);
    expect(readFileSync(join(ca, 'crl', 'intermediate_ca.crl'), 'utf8')).toMatch(/^-----BEGIN X509 CRL-----\n/);
  });

  it('accepts the serial with colons, 0x, lower case and leading zeros, and as a certificate file', () => {
    const forms = [
      (s: string) => s.match(/../g)!.join(':'),
      (s: string) => `0x${s.toLowerCase()}`,
      (s: string) => `000${s.toLowerCase()}`,
      (s: string) => `serial=${s}`,
    ];
    for (const [i, form] of forms.entries()) {
      const { serial } = signTo(ca, work, `form${i}`);
      const r = pki(['revoke', form(serial), '--dir', ca, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { serial: string }).serial).toBe(serial.replace(/^0+/, ''));
    }
    const byFile = signTo(ca, work, 'byfile');
    expect(pki(['revoke', byFile.file, '--reason', 'superseded', '--dir', ca]).code).toBe(0);
    expect(verifyWithCrl(ca, byFile.file).status).not.toBe(0);
  });

  it('every CRL publication gets a higher number, and openssl accepts each', () => {
    const numbers: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(pki(['crl', '--dir', ca]).code).toBe(0);
      crlVerify(ca);
      numbers.push(crlNumber(ca));
    }
    expect(numbers[1]).toBeGreaterThan(numbers[0]!);
    expect(numbers[2]).toBeGreaterThan(numbers[1]!);
  });

  it('an inventory restored from an older copy still publishes a CRL Number above the one on disk', () => {
    const own = initCa();
    expect(pki(['crl', '--dir', own]).code).toBe(0);
    const saved = tempDir('pki-db-copy-');
    withDb(own, (db) => db.prepare('VACUUM INTO ?').run(join(saved, 'pki.sqlite')));
    for (let i = 0; i < 3; i++) expect(pki(['crl', '--dir', own]).code).toBe(0);
    const published = crlNumber(own);
    for (const f of readdirSync(join(own, 'db'))) rmSync(join(own, 'db', f));
    writeFileSync(join(own, 'db', 'pki.sqlite'), readFileSync(join(saved, 'pki.sqlite')), { mode: 0o600 });
    expect(pki(['crl', '--dir', own]).code).toBe(0);
    expect(crlNumber(own)).toBe(published + 1);
    // And a CRL file put back by hand (another file, the same number) is read, not trusted to the inventory.
    const copy = readFileSync(join(own, 'crl', 'intermediate_ca.crl'));
    expect(pki(['crl', '--dir', own]).code).toBe(0);
    rmSync(join(own, 'crl', 'intermediate_ca.crl'));
    writeFileSync(join(own, 'crl', 'intermediate_ca.crl'), copy);
    withDb(own, (db) => db.prepare(`UPDATE sequences SET value = 1 WHERE name = 'crl'`).run());
    expect(pki(['crl', '--dir', own]).code).toBe(0);
    expect(crlNumber(own)).toBe(published + 2);
  });

  it.each([
    ['an unknown serial', ['revoke', '0123456789ABCDEF'], 1, /no certificate with serial 123456789ABCDEF/, 'ERR_UNKNOWN_SERIAL'],
    ['not hex and not a file', ['revoke', 'not-a-serial'], 1, /neither a certificate file nor a hexadecimal serial/, 'ERR_INVALID_SERIAL'],
    ['a bad --reason', ['revoke', '01', '--reason', 'bogus'], 1, /unknown revocation reason "bogus"/, 'ERR_INVALID_OPTION'],
    ['a bad --next-update', ['crl', '--next-update', 'soon'], 1, /not a duration/, 'ERR_INVALID_DURATION'],
    ['revoke without an argument', ['revoke'], 2, /missing required argument/, null],
  ])('refuses %s: exit code, one stderr line, tree unchanged', (_name, args, code, pattern, errorCode) => {
    const before = snapshotTree(ca);
    const r = pki([...args, ...(errorCode ? ['--json'] : []), '--dir', ca]);
    expect(r.code).toBe(code);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    if (errorCode) expectCliError(r, errorCode, code); // commander's own usage errors have no --json document
    expect(snapshotTree(ca)).toBe(before);
  });

  it('refuses a second revocation of the same certificate', () => {
    const { serial } = signTo(ca, work, 'twice');
    expect(pki(['revoke', serial, '--dir', ca]).code).toBe(0);
    const before = snapshotTree(ca);
    expect(expectCliError(pki(['revoke', '--json', serial, '--dir', ca]), 'ERR_ALREADY_REVOKED')).toMatch(/already revoked/);
    expect(snapshotTree(ca)).toBe(before);
  });
});

describe('pki list', () => {
  it('--json, --revoked and --expiring', () => {
    const ca = initCa();
    const work = tempDir('pki-list-');
    expect(pki(['generate', 'redis', 'main', '--dir', ca]).code).toBe(0);
    const short = join(work, 'short.crt');
    expect(pki(['sign', csr(work, 'short'), '--not-after', '5d', '--dir', ca, '--out', short]).code).toBe(0);
    const gone = signTo(ca, work, 'gone');
    expect(pki(['revoke', gone.serial, '--dir', ca]).code).toBe(0);

    const all = JSON.parse(pki(['list', '--json', '--dir', ca]).stdout) as { subject: string; status: string; profile: string; daysLeft: number }[];
    expect(all.map((r) => r.subject).sort()).toEqual(['CN=client', 'CN=pki Intermediate CA', 'CN=pki Root CA', 'CN=redis', 'CN=short.example.com']);
    expect(all.every((r) => r.status === 'valid')).toBe(true);

    const revoked = JSON.parse(pki(['list', '--revoked', '--json', '--dir', ca]).stdout) as { serial: string }[];
    expect(revoked.map((r) => r.serial)).toEqual([gone.serial]);

    const expiring = JSON.parse(pki(['list', '--expiring', '30d', '--json', '--dir', ca]).stdout) as { subject: string; daysLeft: number }[];
    expect(expiring.map((r) => r.subject)).toEqual(['CN=short.example.com']);
    expect(expiring[0]!.daysLeft).toBeLessThanOrEqual(5);

    const table = pki(['list', '--all', '--dir', ca]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^SERIAL\s+SUBJECT\s+PROFILE\s+NOT AFTER\s+DAYS LEFT\s+STATUS$/);
    expect(table.stdout).toMatch(/CN=gone\.example\.com\s+server\s+.*revoked/);
    expectCliError(pki(['list', '--json', '--expiring', 'x', '--dir', ca]), 'ERR_INVALID_DURATION');
  });
});

describe('a missing inventory, pki db rebuild and pki db export-index', () => {
  it('says what is missing, and db rebuild recovers certificates and revocations from disk', () => {
    const ca = initCa();
    const work = tempDir('pki-rebuild-');
    expect(pki(['generate', 'redis', 'main', '--client', 'app', '--dir', ca]).code).toBe(0);
    const revoked = signTo(ca, work, 'lost');
    expect(pki(['revoke', revoked.serial, '--reason', 'cessationOfOperation', '--dir', ca]).code).toBe(0);
    const numberBefore = crlNumber(ca);
    const before = withDb(ca, (db) => db.prepare('SELECT serial, status FROM certificates ORDER BY serial').all());

    for (const f of readdirSync(join(ca, 'db'))) rmSync(join(ca, 'db', f), { recursive: true }); // db/journal/ is a folder (issue 9)
    const tree = snapshotTree(ca);
    for (const args of [['list'], ['crl'], ['revoke', revoked.serial], ['sign', csr(work, 'x')], ['generate', 'other', 'main']]) {
      const line = expectCliError(pki([...args, '--json', '--dir', ca]), 'ERR_INVENTORY_MISSING');
      expect(line).toMatch(/has no inventory database .*pki db rebuild/);
      expect(snapshotTree(ca)).toBe(tree);
    }

    const r = pki(['db', 'rebuild', '--dir', ca, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { added: number; revocationsRecovered: number; revokedWithoutCertificate: number };
    // root, intermediate, redis, app on disk; the signed one was written outside the CA home: kept from the CRL.
    expect(report).toMatchObject({ added: 5, revocationsRecovered: 1, revokedWithoutCertificate: 1 });
    const after = withDb(ca, (db) => db.prepare('SELECT serial, status FROM certificates ORDER BY serial').all());
    expect(after).toEqual(before);
    expect(statSync(join(ca, 'db', 'pki.sqlite')).mode & 0o777).toBe(0o600);
    expect(statSync(join(ca, 'db')).mode & 0o777).toBe(0o700);

    // The CRL continues from the published number and still lists the revoked serial.
    expect(pki(['crl', '--dir', ca]).code).toBe(0);
    expect(crlNumber(ca)).toBeGreaterThan(numberBefore);
    expect(verifyWithCrl(ca, revoked.file).status).not.toBe(0);
    // A second rebuild adds nothing.
    expect(JSON.parse(pki(['db', 'rebuild', '--dir', ca, '--json']).stdout)).toMatchObject({ added: 0, revocationsRecovered: 0 });
  });

  it('export-index writes an index.txt that openssl ca and openssl ocsp read', () => {
    const ca = initCa();
    const work = tempDir('pki-index-');
    const good = signTo(ca, work, 'good');
    const bad = signTo(ca, work, 'bad');
    expect(pki(['revoke', bad.serial, '--reason', 'keyCompromise', '--dir', ca]).code).toBe(0);
    const index = join(work, 'index.txt');
    const r = pki(['db', 'export-index', '--out', index, '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(index, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^V\\t\\d{12}Z\\t\\t${good.serial}\\tunknown\\t/CN=good\\.example\\.com$`));
    expect(lines[1]).toMatch(new RegExp(`^R\\t\\d{12}Z\\t\\d{12}Z,keyCompromise\\t${bad.serial}\\tunknown\\t/CN=bad\\.example\\.com$`));

    const config = join(work, 'openssl.cnf');
    writeFileSync(config, `[ca]\ndefault_ca = pki\n[pki]\ndatabase = ${index}\n`);
    const status = (serial: string) => runPeer('openssl', ['ca', '-config', config, '-status', serial]);
    expect(status(good.serial).stderr).toMatch(new RegExp(`${good.serial}=Valid \\(V\\)`));
    expect(status(bad.serial).stderr).toMatch(new RegExp(`${bad.serial}=Revoked \\(R\\)`));

    // OCSP: a responder reading the index answers "revoked" for one and "good" for the other.
    const inter = join(ca, 'ca', 'intermediate_ca.crt');
    const key = join(ca, 'ca', 'intermediate_ca.key');
    for (const [cert, expected] of [
      [bad.file, /: revoked[\s\S]*Reason: keyCompromise/],
      [good.file, /: good/],
    ] as const) {
      const req = join(work, 'req.der');
      const resp = join(work, 'resp.der');
      peer('openssl', ['ocsp', '-issuer', inter, '-cert', cert, '-no_nonce', '-reqout', req]);
      peer('openssl', ['ocsp', '-index', index, '-CA', inter, '-rsigner', inter, '-rkey', key, '-reqin', req, '-respout', resp]);
      const out = runPeer('openssl', ['ocsp', '-respin', resp, '-issuer', inter, '-cert', cert, '-VAfile', inter, '-no_nonce']);
      expect(out.stdout + out.stderr).toMatch(expected);
    }
  });
});

describe('pki init --force', () => {
  it('starts a fresh inventory and keeps the old one aside', () => {
    const ca = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', ca]).code).toBe(0);
    const r = pki(['init', '--force', '--no-password', '--insecure', '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    const names = readdirSync(join(ca, 'db'));
    const aside = names.find((n) => n.startsWith('pki.sqlite.replaced-'));
    expect(aside).toBeDefined();
    const old = new Database(join(ca, 'db', aside!), { readonly: true });
    expect((old.prepare('SELECT COUNT(*) AS n FROM certificates').get() as { n: number }).n).toBe(4);
    old.close();
    // The new CA's own records; the old CA's valid leaves are carried over marked previous_ca, for renew --all (issue 9).
    expect(withDb(ca, (db) => db.prepare('SELECT profile FROM certificates WHERE previous_ca IS NULL ORDER BY profile').pluck().all())).toEqual(['intermediate', 'root']);
    expect(withDb(ca, (db) => db.prepare('SELECT profile FROM certificates WHERE previous_ca IS NOT NULL ORDER BY profile').pluck().all())).toEqual(['client', 'peer']);
  });
});

describe('concurrency', () => {
  it('20 processes signing and generating at once: every certificate recorded exactly once, serials unique, integrity ok', async () => {
    const ca = initCa();
    const work = tempDir('pki-concurrent-');
    const jobs: Promise<{ code: number; stderr: string }>[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      if (i % 2 === 0) {
        const out = join(work, `c${i}.crt`);
        expected.push(out);
        jobs.push(pkiAsync(['sign', csr(work, `c${i}`), '--dir', ca, '--out', out]));
      } else {
        expected.push(join(ca, 'services', `svc${i}`, 'main', 'certs', `svc${i}.crt`), join(ca, 'services', `svc${i}`, 'main', 'certs', 'client.crt'));
        jobs.push(pkiAsync(['generate', `svc${i}`, 'main', '--dir', ca]));
      }
    }
    const results = await Promise.all(jobs);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    withDb(ca, (db) => {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      // Paths inside the CA home are stored relative to it (issue 9).
      const rows = (db.prepare("SELECT serial, certificate_path AS path FROM certificates WHERE profile NOT IN ('root', 'intermediate')").all() as { serial: string; path: string }[]).map(
        (r) => ({ ...r, path: resolve(ca, r.path) }),
      );
      expect(rows).toHaveLength(30);
      expect(new Set(rows.map((r) => r.serial)).size).toBe(30);
      expect(rows.map((r) => r.path).sort()).toEqual([...expected].sort());
      for (const { serial, path } of rows) {
        expect(existsSync(path)).toBe(true);
        expect(peer('openssl', ['x509', '-in', path, '-noout', '-serial']).trim()).toBe(`serial=${serial}`);
      }
    });
  });
});
