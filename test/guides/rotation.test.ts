/**
 * docs/guides/rotation.md, run as written (issue 12, point 5): `pki renew --all --exec …` renews nothing
 * today and renews the bundle 61 days on (PKI_TEST_NOW, in the test's environment only), `pki crl --if-due`
 * re-signs an expired CRL, `pki check --nagios` goes CRITICAL and back to OK, every crontab line of the guide
 * runs as cron would run it, and `systemd-analyze verify` accepts the units of docs/systemd/ as installed.
 *
 * The reload command the guide names (`systemctl reload nginx`) is a recording stand-in on PATH: there is no
 * systemd manager in CI, and what is proved is that pki runs the hook once after a renewal, never otherwise.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideFile, guideWorkdir, loadGuide, pkiShimDir, runGuideBlock } from '../helpers/guides.js';
import { requirePeer, runPeer } from '../helpers/peers.js';

const guide = loadGuide('rotation.md');
const work = guideWorkdir('rotation');
const UNITS = resolve(import.meta.dirname, '../../docs/systemd');
const DAY = 86_400_000;
const clock = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d+Z$/, 'Z');

/** A `systemctl` that records its arguments, first on PATH. */
const fakeBin = join(work, 'bin');
const systemctlLog = join(work, 'systemctl.log');
mkdirSync(fakeBin);
writeFileSync(join(fakeBin, 'systemctl'), `#!/bin/sh\necho "$*" >> "${systemctlLog}"\n`);
chmodSync(join(fakeBin, 'systemctl'), 0o755);
const reloads = () => (existsSync(systemctlLog) ? readFileSync(systemctlLog, 'utf8') : '');

const env = (days: number): NodeJS.ProcessEnv => ({ PATH: `${fakeBin}:${process.env.PATH}`, ...(days ? { PKI_TEST_NOW: clock(days) } : {}) });
const certs = join(work, 'pki/services/web/main/certs');
const serial = (name: string) => runPeer('openssl', ['x509', '-noout', '-serial', '-in', join(certs, name)]).stdout.trim();

/**
 * The guide's crontab as cron runs it: `NAME=value` lines set the environment, each entry's command runs
 * through /bin/sh in the account's home (here the guide's folder). The crontab's PATH gets the test's `pki`
 * and `systemctl` in front (they stand for /usr/local/bin/pki and the real systemctl).
 */
function runCrontab(days: number): { command: string; code: number | null; stdout: string; stderr: string }[] {
  const text = guideFile(guide, 'pki.crontab', { PKI_DIR: join(work, 'pki'), PASSWORD_FILE: join(work, 'ca.pass') });
  const cronEnv: NodeJS.ProcessEnv = { HOME: work, SHELL: '/bin/sh', LOGNAME: 'root', PKI_TEST_NOW: clock(days) };
  const runs = [];
  for (const line of text.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'))) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (assignment) {
      cronEnv[assignment[1]!] = assignment[2]!;
      continue;
    }
    const entry = /^((?:[\d*/,-]+\s+){5})(.+)$/.exec(line);
    expect(entry, `not a crontab entry: ${line}`).not.toBeNull();
    const r = spawnSync('/bin/sh', ['-c', entry![2]!], { cwd: work, encoding: 'utf8', timeout: 120_000, env: { ...cronEnv, PATH: `${pkiShimDir()}:${fakeBin}:${cronEnv.PATH}` } });
    runs.push({ command: entry![2]!, code: r.status, stdout: r.stdout, stderr: r.stderr });
  }
  return runs;
}

describe('docs/guides/rotation.md', () => {
  let web = '';

  it('today: renew --all renews nothing and reloads nothing, crl --if-due is not due, check --nagios is OK', () => {
    runGuideBlock(guide, 'setup', { cwd: work });
    web = serial('web.crt');

    expect(runGuideBlock(guide, 'renew', { cwd: work, env: env(0) }).stdout).toBe('0 renewed, 2 not due, 0 failed.\n');
    expect(reloads()).toBe('');
    expect(runGuideBlock(guide, 'crl', { cwd: work, env: env(0) }).stdout).toMatch(/^CRL not due: .*nothing changed\.\n$/);
    expect(runGuideBlock(guide, 'check', { cwd: work, env: env(0) }).stdout).toMatch(/^PKI OK - \d+ checked, none expiring within 30d \|/);
  });

  it('61 days on: check --nagios is CRITICAL, crl --if-due re-signs, renew --all renews the bundle and reloads once, check is OK', () => {

    const late = runGuideBlock(guide, 'check', { cwd: work, env: env(61), expectFailure: true });
    expect(late.code).toBe(2);
    expect(late.stdout).toMatch(/^PKI CRITICAL - 1 expired, 2 expiring within 30d, 2 renewal due \|/);
    expect(late.stdout).toMatch(/^EXPIRED: CRL .*intermediate_ca\.crl/m);

    expect(runGuideBlock(guide, 'crl', { cwd: work, env: env(61) }).stdout).toMatch(/^Published CRL #2 .*\(it was expired\)\n$/);
    const renewed = runGuideBlock(guide, 'renew', { cwd: work, env: env(61) }).stdout;
    expect(renewed).toMatch(/^Renewed .*web\.crt: serial [\s\S]*^2 renewed, 0 not due, 0 failed\.\n/m);
    expect(serial('web.crt')).not.toBe(web);
    expect(reloads()).toBe('reload nginx\n');
    expect(runGuideBlock(guide, 'check', { cwd: work, env: env(61) }).stdout).toMatch(/^PKI OK - /);
  });

  it('every crontab line of the guide runs as cron runs it: 122 days on it renews again and reloads once more, the next day it is silent', () => {
    const web = serial('web.crt');
    const runs = runCrontab(122);
    expect(runs.map((r) => r.command.split(' ').slice(0, 3).join(' '))).toEqual(['pki renew --all', 'pki crl --if-due']);
    for (const r of runs) expect(r.code, `${r.command}\n${r.stderr}`).toBe(0);
    // --quiet: a renewal is worth a mail, a CRL re-signed on schedule is not.
    expect(runs[0]!.stdout).toMatch(/^Renewed [\s\S]*^2 renewed, 0 not due, 0 failed\.\nRan: systemctl reload nginx\n/m);
    expect(runs[1]!.stdout).toBe('');
    expect(serial('web.crt')).not.toBe(web);
    expect(reloads()).toBe('reload nginx\nreload nginx\n');
    // The next run, with nothing due: nothing for cron to mail, nothing reloaded.
    const again = runCrontab(123);
    expect(again.map((r) => [r.code, r.stdout, r.stderr])).toEqual([[0, '', ''], [0, '', '']]);
    expect(reloads()).toBe('reload nginx\nreload nginx\n');
  });

  it('systemd-analyze verify accepts the units of docs/systemd/ installed as the guide says', () => {
    requirePeer('systemd-analyze');
    const unitDir = join(work, 'systemd-system');
    mkdirSync(unitDir);
    // The operator's copies: pki where this checkout's build is (the units name /usr/local/bin/pki).
    for (const unit of ['pki-renew.service', 'pki-renew.timer']) {
      writeFileSync(join(work, unit), readFileSync(join(UNITS, unit), 'utf8').replaceAll('/usr/local/bin/pki', join(pkiShimDir(), 'pki')));
    }
    const r = runGuideBlock(guide, 'units', { cwd: work, env: { UNIT_DIR: unitDir } });
    expect(r.stderr).toBe('');
    expect(readFileSync(join(unitDir, 'pki-renew.service'), 'utf8')).toMatch(/^ExecStart=\S+ renew --all /m);
    expectEveryBlockRun(guide);
  });
});
