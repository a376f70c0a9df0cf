/**
 * Issue 9, points 4–7: the lifecycle of what pki issued — a copied CA home acts on its own files, clients a
 * `generate --force` dropped and files deleted by hand never wedge `renew --all`, a replaced CA's
 * certificates are re-issued under the new one, and `generate` on an existing bundle converges by adding
 * clients and renewing instead of re-keying.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';

const DAY = 86_400_000;
const certs = (dir: string, service = 'redis', variant = 'main') => join(dir, 'services', service, variant, 'certs');
const pinned = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
/** A clock 70 days on: a default 90-day leaf is due (two thirds of its lifetime passed). */
const later = () => ({ PKI_TEST_NOW: pinned(Date.now() + 70 * DAY) });
const serialOf = (path: string) => peer('openssl', ['x509', '-in', path, '-noout', '-serial']).trim().replace(/^serial=/, '').replace(/^0+/, '');
const pubkeyOf = (path: string) => peer('openssl', ['x509', '-in', path, '-noout', '-pubkey']).trim();

function json<T>(r: { code: number; stdout: string; stderr: string }, code = 0): T {
  expect(r.code, r.stderr).toBe(code);
  return JSON.parse(r.stdout) as T;
}

function rows(dir: string, sql: string, ...params: unknown[]): Record<string, unknown>[] {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function verify(folder: string, name: string) {
  return runPeer('openssl', ['verify', '-CAfile', join(folder, 'ca.crt'), '-untrusted', join(folder, `${name}.crt`), join(folder, `${name}.crt`)]);
}

describe('paths relative to the CA home (issue 9, point 4)', () => {
  it('a copied CA home renews its own files: the copy changes, the original stays byte-identical', () => {
    const a = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', a]).code).toBe(0);
    const b = `${a}-copy`;
    execFileSync('cp', ['-a', a, b]);
    const before = snapshotTree(a);
    const oldSerial = serialOf(join(certs(b), 'redis.crt'));

    const r = json<{ renewed: number; failed: number; certificates: { path: string; status: string }[] }>(pki(['renew', '--all', '--dir', b, '--json'], { env: later() }));
    expect(r).toMatchObject({ renewed: 2, failed: 0 });
    for (const c of r.certificates) expect(c.path.startsWith(`${b}/`), c.path).toBe(true);
    expect(snapshotTree(a)).toBe(before);
    expect(serialOf(join(certs(b), 'redis.crt'))).not.toBe(oldSerial);
    // The database itself holds home-relative paths; `pki list --json` prints them resolved against the home.
    const stored = rows(b, `SELECT certificate_path, key_path FROM certificates WHERE status = 'valid' AND profile = 'peer'`);
    expect(stored).toEqual([{ certificate_path: 'services/redis/main/certs/redis.crt', key_path: 'services/redis/main/certs/redis.key' }]);
    const listed = json<{ certificatePath: string; profile: string }[]>(pki(['list', '--dir', b, '--json']));
    expect(listed.find((x) => x.profile === 'peer')?.certificatePath).toBe(join(certs(b), 'redis.crt'));
  });

  it('a file written outside the home (sign --out) is recorded absolute and stays that file in a copy', () => {
    const a = initCa();
    const outside = join(a, '..', 'web');
    peer('mkdir', ['-p', outside]);
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(outside, 'web.key'), '-out', join(outside, 'web.csr'), '-subj', '/CN=web.example.com']);
    expect(pki(['sign', join(outside, 'web.csr'), '--out', join(outside, 'web.crt'), '--dir', a]).code).toBe(0);
    expect(rows(a, `SELECT certificate_path FROM certificates WHERE profile = 'server'`)).toEqual([{ certificate_path: join(outside, 'web.crt') }]);
  });

  it('schema v4 → v5 migration makes absolute paths under the home relative, also those of the home a copy came from', () => {
    const a = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', a]).code).toBe(0);
    // Turn the database back into what pki wrote at schema v4: absolute paths, no previous_ca column.
    const db = new Database(join(a, 'db', 'pki.sqlite'));
    db.exec(`DROP INDEX certificates_previous_ca; ALTER TABLE certificates DROP COLUMN previous_ca;
      UPDATE certificates SET certificate_path = '${a}/' || certificate_path WHERE certificate_path NOT LIKE '/%';
      UPDATE certificates SET key_path = '${a}/' || key_path WHERE key_path NOT LIKE '/%';
      PRAGMA user_version = 4;`);
    db.close();
    const b = `${a}-copy`;
    execFileSync('cp', ['-a', a, b]); // copied before the upgrade: b's database names a's files
    const before = snapshotTree(a);
    expect(json<{ renewed: number }>(pki(['renew', '--all', '--dir', b, '--json'], { env: later() })).renewed).toBe(2);
    expect(snapshotTree(a)).toBe(before);
    expect(rows(b, 'PRAGMA user_version')).toEqual([{ user_version: 8 }]); // v4 → v5 → v6 (profile_name, issue 12) → v7 (ACME, issue 13) → v8 (issuing CA columns, issue 14)
    const paths = rows(b, `SELECT certificate_path AS p FROM certificates`).map((r) => r.p as string);
    expect(paths.filter((p) => p.startsWith('/'))).toEqual([]);
    expect(paths).toContain('ca/intermediate_ca.crt');
  });
});

interface RenewJson {
  renewed: number;
  skipped: number;
  failed: number;
  missing: number;
  certificates: { path: string; status: string; serial: string; pruned?: boolean }[];
}

describe('records of files that are gone (issue 9, point 5)', () => {
  it('generate --force with fewer clients supersedes the dropped client; renew --all then renews the rest and exits 0', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a', '--client', 'b']).code).toBe(0);
    const b = serialOf(join(certs(dir), 'b.crt'));
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a', '--force']).code).toBe(0);
    expect(existsSync(join(certs(dir), 'b.crt'))).toBe(false);
    expect(rows(dir, 'SELECT status FROM certificates WHERE serial = ?', b)).toEqual([{ status: 'superseded' }]);
    const r = json<RenewJson>(pki(['renew', '--all', '--dir', dir, '--json'], { env: later() }));
    expect(r).toMatchObject({ renewed: 2, failed: 0, missing: 0 });
    expect(r.certificates.map((c) => c.path).sort()).toEqual([join(certs(dir), 'a.crt'), join(certs(dir), 'redis.crt')]);
  });

  it('a recorded file deleted by hand is reported as missing (exit 0) on every run until --prune marks it superseded', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const client = join(certs(dir), 'client.crt');
    const serial = serialOf(client);
    rmSync(join(certs(dir), '..data', 'client.crt')); // the file itself, then its public link
    rmSync(client);
    for (let run = 0; run < 2; run++) {
      const r = json<RenewJson>(pki(['renew', '--all', '--dir', dir, '--json'], { env: later() }));
      expect(r).toMatchObject({ renewed: run === 0 ? 1 : 0, failed: 0, missing: 1 });
      expect(r.certificates.find((c) => c.status === 'missing')).toEqual({ path: client, status: 'missing', serial, pruned: false });
    }
    const human = pki(['renew', '--all', '--dir', dir], { env: later() });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/0 renewed, 1 not due, 0 failed, 1 missing\./);
    // --prune (here on a run where the file is not even due) stops tracking it.
    const pruned = json<RenewJson>(pki(['renew', '--all', '--prune', '--dir', dir, '--json']));
    expect(pruned).toMatchObject({ failed: 0, missing: 1 });
    expect(pruned.certificates.find((c) => c.status === 'missing')?.pruned).toBe(true);
    expect(rows(dir, 'SELECT status FROM certificates WHERE serial = ?', serial)).toEqual([{ status: 'superseded' }]);
    const after = json<RenewJson>(pki(['renew', '--all', '--dir', dir, '--json'], { env: later() }));
    expect(after).toMatchObject({ missing: 0, failed: 0 });
    expect(after.certificates.map((c) => c.serial)).not.toContain(serial);
  });

  it('--prune without --all is a usage error', () => {
    const dir = initCa();
    const r = pki(['renew', join(certs(dir), 'redis.crt'), '--prune', '--dir', dir, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('ERR_USAGE');
  });
});

describe('generate on an existing bundle converges without re-keying (issue 9, point 7)', () => {
  const bytes = (folder: string, names: string[]) => names.map((n) => readFileSync(join(folder, n), 'latin1'));
  const sanOf = (path: string) => peer('openssl', ['x509', '-in', path, '-noout', '-ext', 'subjectAltName']);
  const lifetimeDays = (path: string) => {
    const text = peer('openssl', ['x509', '-in', path, '-noout', '-startdate', '-enddate']);
    const [start, end] = [/notBefore=(.*)/, /notAfter=(.*)/].map((re) => Date.parse(re.exec(text)![1]!));
    return Math.round((end! - start!) / DAY);
  };

  it('a new --client is added; the service and the other clients keep their keys and certificates', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a']).code).toBe(0);
    const folder = certs(dir);
    const kept = bytes(folder, ['redis.crt', 'redis.key', 'a.crt', 'a.key', 'ca.crt']);
    const r = json<{ status: string; files: { path: string; role: string }[] }>(pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a', '--client', 'b', '--json']));
    expect(r.status).toBe('updated');
    expect(r.files.map((f) => f.role).sort()).toEqual(['client-certificate', 'client-key']);
    expect(bytes(folder, ['redis.crt', 'redis.key', 'a.crt', 'a.key', 'ca.crt'])).toEqual(kept);
    expect(verify(folder, 'b').status).toBe(0);
    expect(rows(dir, `SELECT status FROM certificates WHERE serial = ?`, serialOf(join(folder, 'b.crt')))).toEqual([{ status: 'valid' }]);
    // The same request again is up to date: nothing changes.
    const before = snapshotTree(dir);
    expect(json<{ status: string }>(pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a', '--client', 'b', '--json'])).status).toBe('up-to-date');
    expect(snapshotTree(dir)).toBe(before);
  });

  it('a changed --san renews the service certificate over the same key; clients are untouched', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'a.internal']).code).toBe(0);
    const folder = certs(dir);
    const old = { serial: serialOf(join(folder, 'redis.crt')), key: pubkeyOf(join(folder, 'redis.crt')) };
    const kept = bytes(folder, ['redis.key', 'client.crt', 'client.key', 'ca.crt']);
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'a.internal', '--san', 'b.internal']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Updated redis\/main .*SANs to add: b\.internal/);
    expect(sanOf(join(folder, 'redis.crt'))).toMatch(/DNS:a\.internal, DNS:b\.internal/);
    expect(pubkeyOf(join(folder, 'redis.crt'))).toBe(old.key);
    expect(bytes(folder, ['redis.key', 'client.crt', 'client.key', 'ca.crt'])).toEqual(kept);
    expect(verify(folder, 'redis').status).toBe(0);
    expect(rows(dir, 'SELECT status, superseded_by FROM certificates WHERE serial = ?', old.serial)).toEqual([{ status: 'superseded', superseded_by: serialOf(join(folder, 'redis.crt')) }]);
  });

  it('a changed --not-after renews every certificate over its key; the same --not-after again is up to date', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const folder = certs(dir);
    const keys = bytes(folder, ['redis.key', 'client.key']);
    const serials = ['redis.crt', 'client.crt'].map((n) => serialOf(join(folder, n)));
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--not-after', '30d']).code).toBe(0);
    expect(['redis.crt', 'client.crt'].map((n) => lifetimeDays(join(folder, n)))).toEqual([30, 30]);
    expect(['redis.crt', 'client.crt'].map((n) => serialOf(join(folder, n)))).not.toContain(serials[0]);
    expect(bytes(folder, ['redis.key', 'client.key'])).toEqual(keys);
    const before = snapshotTree(dir);
    expect(json<{ status: string }>(pki(['generate', 'redis', 'main', '--dir', dir, '--not-after', '30d', '--json'])).status).toBe('up-to-date');
    expect(snapshotTree(dir)).toBe(before);
  });

  it('a client on disk the request leaves out still needs --force (it would delete files); nothing changes', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a', '--client', 'b']).code).toBe(0);
    const before = snapshotTree(dir);
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--client', 'a', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('ERR_BUNDLE_MISMATCH');
    expect(snapshotTree(dir)).toBe(before);
  });

  it('renew --san adds a name over the same key, even when not due', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const crt = join(certs(dir), 'redis.crt');
    const key = pubkeyOf(crt);
    const r = json<{ renewed: number }>(pki(['renew', crt, '--san', 'cache.internal', '--san', '10.0.0.7', '--dir', dir, '--json']));
    expect(r.renewed).toBe(1);
    expect(sanOf(crt)).toMatch(/DNS:redis, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, DNS:cache\.internal, IP Address:10\.0\.0\.7/);
    expect(pubkeyOf(crt)).toBe(key);
    expect(verify(certs(dir), 'redis').status).toBe(0);
    // Names it already has: not due, nothing changes.
    const before = snapshotTree(dir);
    expect(json<{ renewed: number }>(pki(['renew', crt, '--san', 'cache.internal', '--dir', dir, '--json'])).renewed).toBe(0);
    expect(snapshotTree(dir)).toBe(before);
    const bad = pki(['renew', '--all', '--san', 'x.internal', '--dir', dir, '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('ERR_USAGE');
  });
});

describe("after init --force, the old CA's certificates are re-issued under the new one (issue 9, point 6)", () => {
  const verifyRoot = (root: string, intermediate: string, file: string) => runPeer('openssl', ['verify', '-CAfile', root, '-untrusted', intermediate, file]);

  it.each([
    ['the same CA name, human output (the SQL candidate path)', [] as string[], false],
    ['another CA name, --json (the whole-list path)', ['--name', 'Other'], true],
  ])('%s: init --force lists what stops chaining; renew --all re-issues it and gives the bundle the new ca.crt', (_name, initFlags, asJson) => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const folder = certs(dir);
    const oldSerials = ['redis.crt', 'client.crt'].map((n) => serialOf(join(folder, n)));
    const oldIntermediate = readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8');

    const init = pki(['init', '--no-password', '--insecure', '--force', '--dir', dir, '--json', ...initFlags]);
    const report = json<{ stopsChaining: { path: string; serial: string }[]; previousCa: string }>(init);
    expect(report.stopsChaining.map((c) => c.path).sort()).toEqual([join(folder, 'client.crt'), join(folder, 'redis.crt')]);
    expect(report.stopsChaining.map((c) => c.serial).sort()).toEqual([...oldSerials].sort());
    expect(init.stderr).toMatch(/2 certificates of the CA being replaced will stop chaining.*redis\.crt.*pki renew --all/);
    expect(readFileSync(join(dir, 'ca', 'previous', report.previousCa, 'intermediate_ca.crt'), 'utf8')).toBe(oldIntermediate);
    const root = join(dir, 'ca', 'root_ca.crt');
    const intermediate = join(dir, 'ca', 'intermediate_ca.crt');
    expect(verifyRoot(root, intermediate, join(folder, 'redis.crt')).status).not.toBe(0); // broken until renewed

    // Nothing is due by date; the old CA's certificates are due anyway.
    const renew = pki(['renew', '--all', '--dir', dir, ...(asJson ? ['--json'] : [])]);
    expect(renew.code, renew.stderr).toBe(0);
    if (asJson) expect(JSON.parse(renew.stdout)).toMatchObject({ renewed: 2, failed: 0 });
    else expect(renew.stdout).toMatch(/re-issued under the new CA, new ca\.crt[\s\S]*2 renewed, 0 not due, 0 failed\./);
    expect(readFileSync(join(folder, 'ca.crt'), 'utf8')).toBe(readFileSync(root, 'utf8'));
    for (const name of ['redis', 'client']) {
      expect(verify(folder, name).stdout.trim(), name).toBe(`${join(folder, `${name}.crt`)}: OK`);
      expect(verifyRoot(root, intermediate, join(folder, `${name}.crt`)).status, name).toBe(0);
    }
    for (const serial of oldSerials) expect(rows(dir, 'SELECT status FROM certificates WHERE serial = ?', serial)).toEqual([{ status: 'superseded' }]);
    // Converged: the next run has nothing to do.
    expect(json<RenewJson>(pki(['renew', '--all', '--dir', dir, '--json']))).toMatchObject({ renewed: 0, failed: 0 });
  });

  it("a certificate no archived intermediate signed is not taken for an old CA's: still refused", () => {
    const dir = initCa();
    const other = initCa(['--name', 'Stranger']);
    expect(pki(['generate', 'web', 'main', '--dir', other]).code).toBe(0);
    const r = pki(['renew', join(certs(other, 'web'), 'web.crt'), '--force', '--dir', dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('ERR_UNTRUSTED_CERTIFICATE'); // its signature verifies with no intermediate, current or archived (point 1)
  });
});
