/**
 * `pki renew` (issue 3, Done-means 3): the built CLI in a temp CA home, checked with openssl and a live
 * redis-server that reloads its TLS files after renewal.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';
import { REDIS_READY, startServer, type Server } from '../helpers/process.js';

const DAY = 86_400_000;
const certs = (dir: string, service = 'redis', variant = 'main') => join(dir, 'services', service, variant, 'certs');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** A bundle 80 days into a 90-day lifetime: due under the default two-thirds threshold. */
function generateDue(dir: string, service = 'redis', extra: string[] = []): string {
  const now = Date.now();
  const r = pki(['generate', service, 'main', '--dir', dir, '--not-before', iso(now - 80 * DAY), '--not-after', iso(now + 10 * DAY), ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return certs(dir, service);
}

function x509(path: string, ...flags: string[]): string {
  return peer('openssl', ['x509', '-in', path, '-noout', ...flags]).trim();
}
const serialOf = (path: string) => x509(path, '-serial').replace(/^serial=/, '').replace(/^0+/, '');
const keyOf = (path: string) => peer('openssl', ['pkey', '-in', path, '-pubout']).trim();

function inventoryRow(dir: string, serial: string): { status: string; superseded_by: string | null; certificate_path: string | null } | undefined {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT status, superseded_by, certificate_path FROM certificates WHERE serial = ?').get(serial) as never;
  } finally {
    db.close();
  }
}

describe('pki renew <cert-file>', () => {
  it('a not-due certificate is untouched: same bytes, same mtime, exit 0', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const before = snapshotTree(certs(dir));
    const r = pki(['renew', join(certs(dir), 'redis.crt'), '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Not due: .*redis\.crt .* nothing changed/);
    expect(snapshotTree(certs(dir))).toBe(before);
    // --quiet says nothing when nothing changed.
    const quiet = pki(['renew', join(certs(dir), 'redis.crt'), '--dir', dir, '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout + quiet.stderr).toBe('');
  });

  it('a due certificate gets a new serial and validity, keeps subject, SANs and public key; the old one is superseded', () => {
    const dir = initCa();
    const folder = generateDue(dir, 'redis', ['--san', 'cache.internal']);
    const crt = join(folder, 'redis.crt');
    const old = { serial: serialOf(crt), end: x509(crt, '-enddate'), san: x509(crt, '-ext', 'subjectAltName'), subject: x509(crt, '-subject'), key: keyOf(join(folder, 'redis.key')) };
    const keyBytes = readFileSync(join(folder, 'redis.key'));
    const r = pki(['renew', crt, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Renewed .*redis\.crt: serial/);
    expect(serialOf(crt)).not.toBe(old.serial);
    expect(x509(crt, '-enddate')).not.toBe(old.end);
    // Same lifetime as before (90 days), starting now.
    const end = Date.parse(x509(crt, '-enddate').replace('notAfter=', ''));
    expect(Math.abs(end - (Date.now() + 90 * DAY))).toBeLessThan(5 * 60_000);
    expect(x509(crt, '-ext', 'subjectAltName')).toBe(old.san);
    expect(x509(crt, '-subject')).toBe(old.subject);
    expect(x509(crt, '-pubkey')).toBe(old.key);
    expect(readFileSync(join(folder, 'redis.key')).equals(keyBytes)).toBe(true);
    expect(x509(crt, '-ext', 'extendedKeyUsage')).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    const v = runPeer('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(folder, 'ca.crt'), '-untrusted', crt, crt]);
    expect(v.stdout.trim(), v.stderr).toBe(`${crt}: OK`);
    expect((statSync(crt).mode & 0o777).toString(8)).toBe('644');
    expect(inventoryRow(dir, old.serial)).toMatchObject({ status: 'superseded', superseded_by: serialOf(crt) });
    expect(inventoryRow(dir, serialOf(crt))).toMatchObject({ status: 'valid', certificate_path: relative(dir, crt) }); // stored relative to the home (issue 9)
  });

  it('--threshold and --expires-in decide when a certificate is due; --force always renews', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0); // fresh, 90 days
    const crt = join(certs(dir), 'redis.crt');
    const serial = serialOf(crt);
    expect(pki(['renew', crt, '--dir', dir, '--expires-in', '30d']).stdout).toMatch(/Not due/);
    expect(serialOf(crt)).toBe(serial);
    expect(pki(['renew', crt, '--dir', dir, '--expires-in', '91d']).stdout).toMatch(/Renewed/);
    const second = serialOf(crt);
    expect(second).not.toBe(serial);
    expect(pki(['renew', crt, '--dir', dir, '--threshold', '0']).stdout).toMatch(/Renewed/);
    expect(serialOf(crt)).not.toBe(second);
    const third = serialOf(crt);
    expect(pki(['renew', crt, '--dir', dir, '--force', '--not-after', '30d']).code).toBe(0);
    expect(serialOf(crt)).not.toBe(third);
    const end = Date.parse(x509(crt, '-enddate').replace('notAfter=', ''));
    expect(Math.abs(end - (Date.now() + 30 * DAY))).toBeLessThan(5 * 60_000);
  });

  it('--rekey changes the public key and the key file; modes and group are preserved; the pair matches', () => {
    const dir = initCa();
    const gid = statSync(tempDir()).gid;
    const folder = generateDue(dir, 'redis', ['--key-mode', '0640', '--group', String(gid)]);
    const crt = join(folder, 'redis.crt');
    const key = join(folder, 'redis.key');
    const oldKey = keyOf(key);
    const clientBefore = readFileSync(join(folder, 'client.crt'));
    const r = pki(['renew', crt, key, '--dir', dir, '--rekey']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/new key/);
    expect(keyOf(key)).not.toBe(oldKey);
    expect(x509(crt, '-pubkey')).toBe(keyOf(key));
    expect(x509(crt, '-text')).toMatch(/P-256|prime256v1/);
    expect((statSync(key).mode & 0o777).toString(8)).toBe('640');
    expect(statSync(key).gid).toBe(gid);
    expect((statSync(crt).mode & 0o777).toString(8)).toBe('644');
    // The rest of the bundle is carried over unchanged.
    expect(readFileSync(join(folder, 'client.crt')).equals(clientBefore)).toBe(true);
  });

  it('a plain certificate file (not in a bundle) is renewed in place with one rename, mode kept', () => {
    // A `pki sign --out` file: renewal needs the inventory to record that certificate at that path (issue 9
    // point 1), so a copy of a bundle's certificate elsewhere is no longer renewed (test/cli/renew-trust.test.ts).
    const dir = initCa();
    const work = tempDir();
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'service.key'), '-out', join(work, 'service.csr'), '-subj', '/CN=service.example']);
    const plain = join(work, 'service.pem');
    expect(pki(['sign', join(work, 'service.csr'), '--dir', dir, '--out', plain, '--not-before', iso(Date.now() - 80 * DAY), '--not-after', iso(Date.now() + 10 * DAY)]).code).toBe(0);
    chmodSync(plain, 0o640);
    const serial = serialOf(plain);
    const r = pki(['renew', plain, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(serialOf(plain)).not.toBe(serial);
    expect((statSync(plain).mode & 0o777).toString(8)).toBe('640');
    // The file holds the leaf and the current intermediate.
    expect(readFileSync(plain, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });
});

describe('pki renew --all', () => {
  it('--exec runs exactly once after several renewals, and not at all when nothing is due', () => {
    const dir = initCa();
    generateDue(dir, 'redis');
    generateDue(dir, 'postgres');
    const counter = join(tempDir(), 'counter');
    const exec = `echo "reload 'quoted'" >> '${counter}'`;
    const r = pki(['renew', '--all', '--dir', dir, '--exec', exec, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    // --quiet still reports what changed.
    expect(r.stdout).toMatch(/4 renewed, 0 not due, 0 failed/);
    expect(r.stdout.match(/^Renewed /gm)).toHaveLength(4);
    expect(readFileSync(counter, 'utf8')).toBe("reload 'quoted'\n");
    const again = pki(['renew', '--all', '--dir', dir, '--exec', exec, '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toBe(''); // cron: silent when nothing changed
    expect(readFileSync(counter, 'utf8')).toBe("reload 'quoted'\n");
  });

  it('a failing --exec is reported and exits 1', () => {
    const dir = initCa();
    generateDue(dir, 'redis', ['--no-client']);
    const r = pki(['renew', '--all', '--dir', dir, '--exec', 'exit 7']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--exec command failed \(exit 7\): exit 7/);
  });

  it('--json says per certificate renewed, skipped or failed; one failure does not stop the others', () => {
    const dir = initCa();
    const due = generateDue(dir, 'redis');
    expect(pki(['generate', 'web', 'main', '--dir', dir, '--no-client']).code).toBe(0); // not due
    generateDue(dir, 'broken', ['--no-client']);
    // A damaged file fails (a file that is gone is 'missing', not a failure, since issue 9: see below).
    writeFileSync(join(certs(dir, 'broken'), 'broken.crt'), 'garbage\n');
    const r = pki(['renew', '--all', '--dir', dir, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { renewed: number; skipped: number; failed: number; missing: number; certificates: { path: string; status: string; reason?: string; error?: { code: string } }[]; exec: null };
    expect(report).toMatchObject({ renewed: 2, skipped: 1, failed: 1, exec: null });
    const byPath = Object.fromEntries(report.certificates.map((c) => [c.path, c]));
    expect(byPath[join(due, 'redis.crt')]!.status).toBe('renewed');
    expect(byPath[join(due, 'client.crt')]!.status).toBe('renewed');
    expect(byPath[join(certs(dir, 'web'), 'web.crt')]).toMatchObject({ status: 'skipped', reason: 'not due' });
    expect(byPath[join(certs(dir, 'broken'), 'broken.crt')]).toMatchObject({ status: 'failed', error: { code: 'ERR_MALFORMED_CERTIFICATE' } });
    expect(r.stderr).toMatch(/1 of 4 certificates failed to renew: .*broken\.crt/);
    // With --force the not-due one is renewed too; the bundle removed meanwhile is reported missing, exit 0.
    rmSync(join(dir, 'services', 'broken'), { recursive: true });
    const web = serialOf(join(certs(dir, 'web'), 'web.crt'));
    const forced = pki(['renew', '--all', '--dir', dir, '--json', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const forcedReport = JSON.parse(forced.stdout) as typeof report;
    expect(forcedReport).toMatchObject({ renewed: 3, skipped: 0, failed: 0, missing: 1 });
    expect(serialOf(join(certs(dir, 'web'), 'web.crt'))).not.toBe(web);
  });

  it('the human summary counts what --json lists, also when two valid records share a path', () => {
    const dir = initCa();
    generateDue(dir, 'redis', ['--no-client']);
    expect(pki(['generate', 'web', 'main', '--dir', dir]).code).toBe(0); // web + client, not due
    const json = (extra: string[]) => JSON.parse(pki(['renew', '--all', '--dir', dir, '--json', ...extra]).stdout) as { renewed: number; skipped: number; failed: number };
    const summary = (extra: string[]) => /(\d+) renewed, (\d+) not due, (\d+) failed/.exec(pki(['renew', '--all', '--dir', dir, ...extra]).stdout)!.slice(1).map(Number);
    expect(summary(['--expires-in', '1d'])).toEqual([0, 3, 0]);
    expect(json(['--expires-in', '1d'])).toMatchObject({ renewed: 0, skipped: 3, failed: 0 });
    // A second valid record on web.crt's path (as an import could leave): the path is still one certificate.
    const web = join(certs(dir, 'web'), 'web.crt');
    const db = new Database(join(dir, 'db', 'pki.sqlite'));
    db.prepare(`INSERT INTO certificates (kind, serial, subject, sans, profile, issuer, not_before, not_after, fingerprint_sha256, status, issued_at, certificate_path, pem)
      SELECT kind, serial || 'AA', subject, sans, profile, issuer, not_before, not_after, fingerprint_sha256, status, issued_at, certificate_path, pem FROM certificates WHERE certificate_path = ?`).run(relative(dir, web));
    db.close();
    expect(summary(['--expires-in', '1d'])).toEqual([0, 3, 0]);
    expect(json(['--expires-in', '1d'])).toMatchObject({ renewed: 0, skipped: 3, failed: 0 });
    expect(summary([])).toEqual([1, 2, 0]); // redis is due under the default threshold
    expect(summary([])).toEqual([0, 3, 0]);
  });

  it('no prompt without a terminal: an encrypted intermediate and no passphrase source is a clear error', () => {
    const dir = join(tempDir(), 'ca');
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'correct horse battery\n', { mode: 0o600 });
    expect(pki(['init', '--dir', dir, '--password-file', pw]).code).toBe(0);
    const now = Date.now();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--password-file', pw, '--no-client', '--not-before', iso(now - 80 * DAY), '--not-after', iso(now + 10 * DAY)]).code).toBe(0);
    const r = pki(['renew', '--all', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/passphrase is needed and there is no terminal/);
    const ok = pki(['renew', '--all', '--dir', dir], { env: { PKI_PASSWORD: 'correct horse battery' } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/1 renewed/);
  });
});

describe('pki renew: bad input is one line, exit 1, nothing changed', () => {
  const dir = initCa();
  expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
  const folder = certs(dir);
  const garbage = join(tempDir(), 'garbage.crt');
  writeFileSync(garbage, 'not a certificate\n');
  const plain = join(tempDir(), 'plain.crt');
  copyFileSync(join(folder, 'redis.crt'), plain);

  it.each([
    ['nonexistent file', [join(folder, 'nope.crt')], /cannot read .*nope\.crt: no such file/, 'ERR_FILE_NOT_FOUND'],
    ['not a certificate', [garbage], /garbage\.crt is not a certificate/, 'ERR_MALFORMED_CERTIFICATE'],
    ['a key that is not the certificate\'s', [join(folder, 'redis.crt'), join(folder, 'client.key'), '--force'], /client\.key is not the key of .*redis\.crt/, 'ERR_KEY_MISMATCH'],
    ['--rekey on a plain file', [plain, '--rekey', '--force'], /--rekey needs the bundle layout/, 'ERR_POLICY'],
    ['the CA certificate', [join(dir, 'ca', 'intermediate_ca.crt'), '--force'], /CA certificate/, 'ERR_POLICY'],
    ['a bad threshold', [join(folder, 'redis.crt'), '--threshold', '2'], /threshold 2 is not a fraction/, 'ERR_INVALID_OPTION'],
  ])('%s', (_name, args, pattern, code) => {
    const before = snapshotTree(folder);
    const plainBefore = readFileSync(plain);
    const r = pki(['renew', '--json', '--dir', dir, ...args]);
    expect(expectCliError(r, code)).toMatch(pattern);
    expect(snapshotTree(folder)).toBe(before);
    expect(readFileSync(plain).equals(plainBefore)).toBe(true);
  });

  it.each([
    ['no file and no --all', []],
    ['a file with --all', [join(folder, 'redis.crt'), '--all']],
    ['--threshold with --expires-in', [join(folder, 'redis.crt'), '--threshold', '0.5', '--expires-in', '30d']],
  ])('%s is a usage error (exit 2)', (_name, args) => {
    expectCliError(pki(['renew', '--json', '--dir', dir, ...args]), 'ERR_USAGE', 2);
  });
});

describe('pki renew with a live redis-server', () => {
  let server: Server | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  function redisCli(port: number, folder: string, ...command: string[]) {
    return runPeer('redis-cli', ['--tls', '--cacert', join(folder, 'ca.crt'), '--cert', join(folder, 'client.crt'), '--key', join(folder, 'client.key'), '-h', '127.0.0.1', '-p', String(port), ...command]);
  }

  /** The serial of the certificate the server presents, as openssl s_client receives it. */
  function servedSerial(port: number, folder: string): string {
    const r = runPeer('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', join(folder, 'ca.crt'), '-cert', join(folder, 'client.crt'), '-key', join(folder, 'client.key'), '-showcerts'], { input: '' });
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(r.stdout)?.[0];
    if (!pem) throw new Error(`no certificate from s_client: ${r.stderr}`);
    return peer('openssl', ['x509', '-noout', '-serial'], { input: pem }).trim().replace(/^serial=/, '').replace(/^0+/, '');
  }

  it('accepts the client before, and the new chain after renew --all --force --rekey and a TLS reload', async () => {
    requirePeer('redis-server');
    requirePeer('redis-cli');
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const folder = certs(dir);
    const work = tempDir();
    server = await startServer({
      program: requirePeer('redis-server'),
      args: (tlsPort) => [
        '--port', '0', '--bind', '127.0.0.1', '--tls-port', String(tlsPort), '--dir', work, '--save', '', '--appendonly', 'no',
        '--tls-cert-file', join(folder, 'redis.crt'), '--tls-key-file', join(folder, 'redis.key'), '--tls-ca-cert-file', join(folder, 'ca.crt'),
        '--tls-auth-clients', 'yes',
      ],
      ready: REDIS_READY,
    });
    const port = server.port;
    expect(redisCli(port, folder, 'PING').stdout.trim()).toBe('PONG');
    const before = servedSerial(port, folder);
    expect(before).toBe(serialOf(join(folder, 'redis.crt')));

    const r = pki(['renew', '--all', '--force', '--rekey', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 renewed/);
    // Re-setting the same paths makes Redis re-read them (through the links, so the new version).
    const reload = redisCli(port, folder, 'CONFIG', 'SET', 'tls-cert-file', join(folder, 'redis.crt'), 'tls-key-file', join(folder, 'redis.key'));
    expect(reload.stdout.trim(), reload.stderr).toBe('OK');
    expect(redisCli(port, folder, 'PING').stdout.trim()).toBe('PONG');
    const after = servedSerial(port, folder);
    expect(after).not.toBe(before);
    expect(after).toBe(serialOf(join(folder, 'redis.crt')));
    expect(existsSync(join(folder, '..data'))).toBe(true);
  });
});
