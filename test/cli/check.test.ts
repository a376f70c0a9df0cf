/**
 * `pki check` (issue 11, Done-means 3 and 4): a CA home made under fixed clocks (PKI_TEST_NOW) holding
 * certificates with 60, 20, 3 and −1 days left at T0 gives OK/WARN/CRITICAL/EXPIRED in the table and in
 * --json, the exit codes of both modes, the Nagios status line and perfdata exactly, the CRL judged by its
 * own lifetime, renewal due and --fail-on-due, a replaced and a deleted bundle file, and --path folders
 * of foreign (openssl-made) certificates. The Prometheus textfile is test/cli/check-prometheus.test.ts.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer } from '../helpers/peers.js';

const DAY = 86_400_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const at = (ms: number) => ({ env: { PKI_TEST_NOW: iso(ms) } });

interface Item {
  source: string;
  type: string;
  profile: string | null;
  serial: string | null;
  subject: string;
  path: string | null;
  state: string;
  secondsLeft: number | null;
  renewalDue: boolean | null;
  file: string | null;
  notes: string[];
}
interface Doc {
  state: string;
  exitCode: number;
  counts: Record<string, number>;
  items: Item[];
  notes: { path: string; message: string; readError: boolean }[];
}

function run(args: string[], now = T0) {
  return pki(args, at(now));
}
function ok(args: string[], now = T0): void {
  const r = run(args, now);
  if (r.code !== 0) throw new Error(`pki ${args.join(' ')}: ${r.stderr}`);
}
function json(dir: string, extra: string[] = [], now = T0): { code: number; doc: Doc } {
  const r = run(['check', '--dir', dir, '--json', ...extra], now);
  return { code: r.code, doc: JSON.parse(r.stdout) as Doc };
}
const bySubject = (doc: Doc, cn: string) => doc.items.find((i) => i.subject === `CN=${cn}` && i.source === 'inventory')!;
const certPath = (dir: string, service: string) => join(dir, 'services', service, 'main', 'certs', `${service}.crt`);

/** One peer certificate per bundle (--no-client), issued at `issuedAt` (the clock), ending at `notAfter`. */
function bundle(dir: string, service: string, issuedAt: number, notAfter: number): void {
  ok(['generate', service, 'main', '--dir', dir, '--no-client', '--not-after', iso(notAfter)], issuedAt);
}

let home: string;

beforeAll(() => {
  home = join(tempDir('pki-check-'), 'ca');
  ok(['init', '--no-password', '--insecure', '--dir', home], T0 - 200 * DAY);
  bundle(home, 'sixty', T0, T0 + 60 * DAY);
  bundle(home, 'twenty', T0, T0 + 20 * DAY);
  bundle(home, 'three', T0 - 30 * DAY, T0 + 3 * DAY); // 30 of 33 days passed: renewal due
  bundle(home, 'gone', T0 - 10 * DAY, T0 - DAY); // expired a day before T0
  ok(['crl', '--dir', home], T0); // a fresh 7-day CRL at T0
});

describe('pki check: states, table and --json', () => {
  it('60, 20, 3 and −1 days left are OK, WARN, CRITICAL and EXPIRED; exit 1', () => {
    const { code, doc } = json(home);
    expect(code).toBe(1);
    expect(doc.exitCode).toBe(1);
    expect(doc.state).toBe('EXPIRED');
    expect([bySubject(doc, 'sixty').state, bySubject(doc, 'twenty').state, bySubject(doc, 'three').state, bySubject(doc, 'gone').state]).toEqual(['OK', 'WARN', 'CRITICAL', 'EXPIRED']);
    expect(bySubject(doc, 'sixty').secondsLeft).toBe(60 * 86_400);
    expect(bySubject(doc, 'gone').secondsLeft).toBe(-86_400);
    expect(doc.counts).toMatchObject({ ok: 5, warn: 1, critical: 1, expired: 1, renewalDue: 2, readErrors: 0 });
    // Sorted by time left: the expired one first.
    const left = doc.items.map((i) => i.secondsLeft ?? Infinity);
    expect(left).toEqual([...left].sort((a, b) => a - b));
    expect(doc.items[0]!.subject).toBe('CN=gone');
    // The CA certificates are covered.
    expect(doc.items.filter((i) => i.profile === 'root' || i.profile === 'intermediate').map((i) => i.state)).toEqual(['OK', 'OK']);
  });

  it('the table shows the states sorted by time left, with the renewal-due note', () => {
    const r = run(['check', '--dir', home]);
    expect(r.code).toBe(1);
    const rows = r.stdout.split('\n').filter((l) => /^(OK|WARN|CRITICAL|EXPIRED) /.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['EXPIRED', 'CRITICAL', 'OK', 'WARN', 'OK', 'OK', 'OK', 'OK']);
    expect(rows[0]).toMatch(/EXPIRED\s+-1d\s+2029-12-31T00:00:00Z\s+peer\s+CN=gone/);
    expect(rows[1]).toMatch(/CRITICAL\s+3d .*CN=three .*renewal due since 2029-12-23T23:59:40/);
    expect(rows[2]).toMatch(/OK\s+7d .*crl\s+CRL of CN=pki Intermediate CA/);
    expect(r.stdout).not.toMatch(/PRIVATE KEY/);
  });

  it('exit 0 when everything is OK (a home whose one leaf is far from expiry)', () => {
    const dir = join(tempDir('pki-check-ok-'), 'ca');
    ok(['init', '--no-password', '--insecure', '--dir', dir], T0);
    bundle(dir, 'fine', T0, T0 + 90 * DAY);
    const { code, doc } = json(dir);
    expect(code).toBe(0);
    expect(doc.state).toBe('OK');
    const r = run(['check', '--dir', dir, '--nagios']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('PKI OK - 5 checked, none expiring within 30d | expired=0;;; critical=0;;; warn=0;;; ok=5;;; renewal_due=0;;; read_errors=0;;;\n');
  });
});

describe('pki check --nagios', () => {
  it('prints one status line with perfdata, the problems as long text, and exits 2 for CRITICAL/EXPIRED', () => {
    const r = run(['check', '--dir', home, '--nagios']);
    expect(r.code).toBe(2);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'PKI CRITICAL - 1 expired, 1 expiring within 7d, 1 expiring within 30d, 2 renewal due | expired=1;;; critical=1;;; warn=1;;; ok=5;;; renewal_due=2;;; read_errors=0;;;',
    );
    expect(lines.slice(1).map((l) => l.split(':')[0])).toEqual(['EXPIRED', 'CRITICAL', 'WARN']);
    expect(r.stderr).toBe('');
  });

  it('exits 1 WARNING when the worst is WARN', () => {
    // Five days before T0 with a 70-day WARN window: every leaf is WARN, none CRITICAL.
    const w = run(['check', '--dir', home, '--nagios', '--warn', '70d', '--critical', '12h'], T0 - 5 * DAY);
    expect(w.code).toBe(1);
    expect(w.stdout.split('\n')[0]).toBe('PKI WARNING - 4 expiring within 70d, 1 renewal due | expired=0;;; critical=0;;; warn=4;;; ok=4;;; renewal_due=1;;; read_errors=0;;;');
  });

  it('usage errors and a missing CA home are UNKNOWN (3), with a PKI UNKNOWN line on stdout', () => {
    for (const args of [
      ['check', '--dir', home, '--nagios', '--warn', 'soon'],
      ['check', '--dir', home, '--nagios', '--bogus'],
      ['check', '--dir', home, '--nagios', '--warn', '7d', '--critical', '30d'],
      ['check', '--dir', join(tempDir(), 'nothing'), '--nagios'],
      ['check', '--dir', home, '--nagios', '--path', join(tempDir(), 'missing.crt')],
    ]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stdout, args.join(' ')).toMatch(/^PKI UNKNOWN - \S.*\n$/);
    }
  });
});

describe('pki check: CRLs by their own lifetime', () => {
  const crl = (doc: Doc) => doc.items.find((i) => i.type === 'crl' && i.path!.endsWith('intermediate_ca.crl'))!;
  it('a fresh 7-day CRL is OK; under a third left WARN; within a day CRITICAL; past nextUpdate EXPIRED', () => {
    const states = [0, 5 * DAY, 6 * DAY + 12 * 3_600_000, 8 * DAY].map((offset) => crl(json(home, [], T0 + offset).doc).state);
    expect(states).toEqual(['OK', 'WARN', 'CRITICAL', 'EXPIRED']);
    // Not judged against --warn: 7 days left is inside the 30-day window, still OK.
    expect(crl(json(home, ['--warn', '30d']).doc).secondsLeft).toBe(7 * 86_400);
  });
});

describe('pki check: renewal due', () => {
  let dir: string;
  beforeAll(() => {
    dir = join(tempDir('pki-check-due-'), 'ca');
    ok(['init', '--no-password', '--insecure', '--dir', dir], T0 - 200 * DAY);
    bundle(dir, 'late', T0 - 100 * DAY, T0 + 40 * DAY); // 100 of 140 days passed: due, 40 days left: OK
    ok(['crl', '--dir', dir], T0);
  });

  it('is a flag, not a state: exit 0 without --fail-on-due, 1 with it', () => {
    const plain = json(dir);
    expect(plain.code).toBe(0);
    expect(bySubject(plain.doc, 'late')).toMatchObject({ state: 'OK', renewalDue: true });
    expect(bySubject(plain.doc, 'late').notes.join()).toMatch(/^renewal due since /);
    expect(json(dir, ['--fail-on-due']).code).toBe(1);
    const nagios = run(['check', '--dir', dir, '--nagios']);
    expect(nagios.code).toBe(0);
    const failing = run(['check', '--dir', dir, '--nagios', '--fail-on-due']);
    expect(failing.code).toBe(1);
    expect(failing.stdout.split('\n')[0]).toBe('PKI WARNING - 1 renewal due | expired=0;;; critical=0;;; warn=0;;; ok=5;;; renewal_due=1;;; read_errors=0;;;');
  });

  it('is what renew --all renews: after it, nothing is due', () => {
    ok(['renew', '--all', '--dir', dir]);
    const after = json(dir);
    expect(after.doc.counts.renewalDue).toBe(0);
  });
});

describe('pki check: the files the inventory records', () => {
  it('notes a replaced and a deleted bundle file, and checks the certificate that replaced it', () => {
    const copy = join(tempDir('pki-check-files-'), 'ca');
    cpSync(home, copy, { recursive: true, verbatimSymlinks: true });
    const work = tempDir();
    peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k.pem'), '-subj', '/CN=intruder', '-days', '2000', '-out', join(work, 'x.pem')]);
    rmSync(certPath(copy, 'twenty'));
    writeFileSync(certPath(copy, 'twenty'), readFileSync(join(work, 'x.pem')));
    rmSync(certPath(copy, 'sixty'));
    const { doc } = json(copy);
    expect(bySubject(doc, 'twenty').file).toBe('replaced');
    expect(bySubject(doc, 'twenty').notes.join()).toMatch(/file replaced: .*twenty\.crt holds serial [0-9A-F]+ \(CN=intruder/);
    expect(bySubject(doc, 'sixty').file).toBe('missing');
    expect(bySubject(doc, 'sixty').notes.join()).toMatch(/file missing: .*sixty\.crt no longer exists/);
    expect(bySubject(doc, 'three').file).toBe('same');
    const intruder = doc.items.find((i) => i.subject === 'CN=intruder')!;
    expect(intruder).toMatchObject({ source: 'path', state: 'OK', path: certPath(copy, 'twenty') });
    const table = run(['check', '--dir', copy]).stdout;
    expect(table).toMatch(/CN=sixty .*file missing/);
  });
});

describe('pki check --path', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir('pki-check-path-');
    mkdirSync(join(folder, 'sub', 'deeper'), { recursive: true });
    const make = (cn: string, days: string, out: string, form = 'PEM') => {
      peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(folder, `${cn}.key`), '-subj', `/CN=${cn}`, '-days', days, '-outform', form, '-out', out]);
    };
    make('pem-one', '100', join(folder, 'one.pem'));
    make('der-two', '10', join(folder, 'sub', 'two.cer'), 'DER');
    make('nested-three', '3', join(folder, 'sub', 'deeper', 'three.crt'));
    writeFileSync(join(folder, 'sub', 'junk.pem'), 'not a certificate at all\n');
    writeFileSync(join(folder, 'key.pem'), readFileSync(join(folder, 'pem-one.key')));
    writeFileSync(join(folder, 'readme.txt'), 'ignored: not a certificate file name\n');
    symlinkSync(join(folder, 'nowhere.crt'), join(folder, 'dangling.crt'));
  });

  it('walks folders recursively for PEM and DER certificates, and notes the files that hold none', () => {
    const { code, doc } = json(home, ['--path', folder], Date.now());
    expect(code).toBe(1);
    const found = doc.items.filter((i) => i.source === 'path');
    expect(found.map((i) => [i.subject, i.state]).sort()).toEqual([
      ['CN=der-two', 'WARN'],
      ['CN=nested-three', 'CRITICAL'],
      ['CN=pem-one', 'OK'],
    ]);
    const notes = Object.fromEntries(doc.notes.map((n) => [n.path.slice(folder.length + 1), n.readError]));
    expect(notes).toEqual({ 'dangling.crt': true, 'key.pem': false, 'sub/junk.pem': true });
    expect(doc.counts.readErrors).toBe(2);
    expect(JSON.stringify(doc)).not.toMatch(/PRIVATE KEY|BEGIN/);
  });

  it('a --path that does not exist, or a named file that is a key, is an error (exit 1), nothing on disk changes', () => {
    const before = snapshotTree(home);
    const missing = run(['check', '--dir', home, '--json', '--path', join(folder, 'no-such-file.crt')]);
    expect(expectCliError(missing, 'ERR_FILE_NOT_FOUND')).toMatch(/no-such-file\.crt does not exist/);
    const key = run(['check', '--dir', home, '--json', '--path', join(folder, 'key.pem')]);
    expect(expectCliError(key, 'ERR_UNKNOWN_OBJECT')).toMatch(/holds a private key, not a certificate/);
    expect(key.stderr + key.stdout).not.toMatch(/BEGIN|PRIVATE KEY-----/);
    expect(snapshotTree(home)).toBe(before);
  });
});

describe('pki check: bad flags', () => {
  it('a bad --warn is ERR_INVALID_DURATION (exit 1); --critical longer than --warn is a usage error (exit 2), as --nagios with --json is (UNKNOWN 3 in that mode)', () => {
    expectCliError(run(['check', '--dir', home, '--json', '--warn', 'soon']), 'ERR_INVALID_DURATION');
    expectCliError(run(['check', '--dir', home, '--json', '--critical', '40d']), 'ERR_USAGE', 2);
    // With --nagios every usage error is UNKNOWN.
    expectOneLineError(run(['check', '--dir', home, '--json', '--nagios']), 3);
    const nowhere = run(['check', '--dir', home, '--json', '--prometheus', join(tempDir(), 'no', 'such', 'x.prom')]);
    expectCliError(nowhere, 'ERR_IO');
  });
});

describe('pki check: the SSH CAs\' certificates', () => {
  it('lists the valid, unexpired SSH certificates with decimal serials (as ssh-keygen -L), drops the expired ones, and writes pki_ssh_cert_not_after', () => {
    const dir = join(tempDir('pki-check-ssh-'), 'ca');
    ok(['init', '--no-password', '--insecure', '--dir', dir], T0 - DAY);
    ok(['ssh', 'init', '--no-password', '--insecure', '--dir', dir], T0 - DAY);
    const keys = tempDir('pki-check-ssh-keys-');
    peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', join(keys, 'host')]);
    peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'old', '-f', join(keys, 'old')]);
    ok(['ssh', 'sign', join(keys, 'host.pub'), '--host', '--principal', 'db.internal', '--not-after', '20d', '--dir', dir], T0);
    ok(['ssh', 'sign', join(keys, 'old.pub'), '--host', '--principal', 'old.internal', '--not-after', iso(T0 - 3_600_000), '--dir', dir], T0 - DAY / 2); // expired an hour before T0
    const { doc } = json(dir);
    const ssh = doc.items.filter((i) => i.type === 'ssh');
    expect(ssh.map((i) => [i.subject, i.profile, i.state])).toEqual([['db.internal', 'ssh-host', 'WARN']]);
    const serial = peer('ssh-keygen', ['-L', '-f', join(keys, 'host-cert.pub')]).match(/Serial: (\d+)/)![1];
    expect(ssh[0]!.serial).toBe(serial);
    const prom = join(tempDir(), 'ssh.prom');
    run(['check', '--dir', dir, '--quiet', '--prometheus', prom]);
    expect(readFileSync(prom, 'utf8')).toMatch(new RegExp(`^pki_ssh_cert_not_after\\{cert_type="host",filename="host-cert\\.pub",.*principals="db\\.internal",serial_number="${serial}"\\} ${(T0 + 20 * DAY) / 1000}$`, 'm'));
  });
});
