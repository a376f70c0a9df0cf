/**
 * `pki renew --daemon` with the CA home (issue 13, Done-means 5): the built CLI watching a 3-minute bundle
 * certificate under an accelerated clock (PKI_TEST_CLOCK_RATE, test only), checked with openssl: renewed
 * at two thirds of its lifetime (within the documented jitter), `--exec` run exactly once per renewal,
 * retries with backoff while the intermediate's key is moved away, and a stop within one second on
 * SIGTERM/SIGINT even mid-sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initCa, PKI_BIN, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer, requirePeer } from '../helpers/peers.js';
import { OutputLog, stopProcess, waitForExit } from '../helpers/process.js';

const RATE = 60;
const certsOf = (dir: string, service: string) => join(dir, 'services', service, 'main', 'certs');
const serialOf = (path: string) => peer('openssl', ['x509', '-in', path, '-noout', '-serial']).trim().replace(/^serial=/, '');
const dateOf = (path: string, which: 'startdate' | 'enddate') => Date.parse(peer('openssl', ['x509', '-in', path, '-noout', `-${which}`]).trim().replace(/^not(Before|After)=/, ''));
const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0);

const running: ChildProcess[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await stopProcess(c);
});

function startDaemon(args: readonly string[], env: Record<string, string> = {}): { child: ChildProcess; log: OutputLog } {
  const full: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete full.PKI_DIR;
  delete full.PKI_PASSWORD;
  const child = spawn(process.execPath, [PKI_BIN, 'renew', '--daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: full });
  running.push(child);
  return { child, log: new OutputLog(child.stdout, child.stderr) };
}

describe('pki renew --daemon (local CA home)', () => {
  it('renews a 3-minute certificate at two thirds of its life, runs --exec once per renewal, the new one verifies', async () => {
    requirePeer('openssl');
    const dir = initCa();
    expect(pki(['generate', 'web', 'main', '--dir', dir, '--insecure', '--no-client', '--not-after', '3m']).code).toBe(0);
    const crt = join(certsOf(dir, 'web'), 'web.crt');
    const first = { serial: serialOf(crt), start: dateOf(crt, 'startdate'), end: dateOf(crt, 'enddate') };
    const execLog = join(tempDir(), 'exec.log');
    const { child, log } = startDaemon([crt, '--dir', dir, '--insecure', '--exec', `echo "x$PKI_PASSWORD" >> '${execLog}'`], { PKI_TEST_CLOCK_RATE: String(RATE), PKI_PASSWORD: 'not-for-the-child' });

    // Two renewals: the certificate, then its successor 2/3 of its own life later. Everything below is read
    // from the log and the files after the stop, so a loaded machine cannot race the assertions.
    await log.waitFor(/ran --exec after renewing(.|\n)*ran --exec after renewing/);
    const exit = await stopAndMeasure(child, 'SIGTERM');
    expect(exit.code).toBe(0);
    expect(log.text).toMatch(/stopping/);
    const watching = [...log.text.matchAll(/watching .*: serial ([0-9A-F]+), valid until (\S+); renewal at (\S+)/g)].map((m) => ({ serial: m[1]!, until: Date.parse(m[2]!), at: Date.parse(m[3]!) }));
    const renewed = [...log.text.matchAll(/ renewed .*: serial ([0-9A-F]+) → ([0-9A-F]+),/g)].map((m) => ({ from: m[1]!, to: m[2]! }));
    expect(watching[0]!.serial).toBe(first.serial);
    expect(renewed[0]!.from).toBe(first.serial);
    expect(watching[1]!.serial).toBe(renewed[0]!.to);
    const lifetime = first.end - first.start;
    const due = first.start + (lifetime * 2) / 3;
    // Scheduled at the threshold plus at most 1/20 of the time left (the jitter; the log prints whole seconds)…
    expect(watching[0]!.at).toBeGreaterThanOrEqual(due - 1_000);
    expect(watching[0]!.at).toBeLessThanOrEqual(due + (first.end - due) / 20);
    // …and renewed then: the successor starts at the renewal's "now" minus the default one-minute skew and
    // keeps the lifetime. The slack (2 min of the daemon's clock, 2 s of the wall clock) absorbs a loaded machine.
    const renewedAt = watching[1]!.until - lifetime + 60_000;
    expect(renewedAt).toBeGreaterThanOrEqual(watching[0]!.at - 1_000);
    expect(renewedAt).toBeLessThanOrEqual(watching[0]!.at + 120_000);
    // The file now holds the last successor: a new serial, and it verifies (at the daemon's time, which runs ahead).
    const last = serialOf(crt);
    expect(last).toBe(renewed[renewed.length - 1]!.to);
    expect(last).not.toBe(first.serial);
    const attime = String(Math.floor((dateOf(crt, 'startdate') + 60_000) / 1000));
    expect(peer('openssl', ['verify', '-attime', attime, '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-untrusted', crt, crt])).toMatch(/: OK/);
    // Once per switch: as many --exec runs as renewals, each logged; the reload never sees pki's variables.
    const count = (re: RegExp) => log.text.split('\n').filter((l) => re.test(l)).length;
    expect(renewed.length).toBeGreaterThanOrEqual(2);
    expect(lines(execLog)).toBe(renewed.length);
    expect(count(/ran --exec after renewing/)).toBe(renewed.length);
    expect(readFileSync(execLog, 'utf8')).toBe('x\n'.repeat(renewed.length));
  }, 120_000);

  it('survives the CA key being unavailable for a while: logs, backs off, renews once it is back', async () => {
    const dir = initCa();
    expect(pki(['generate', 'web', 'main', '--dir', dir, '--insecure', '--no-client', '--not-after', '3m']).code).toBe(0);
    const crt = join(certsOf(dir, 'web'), 'web.crt');
    const before = snapshotTree(certsOf(dir, 'web'));
    const serial = serialOf(crt);
    const key = join(dir, 'ca', 'intermediate_ca.key');
    const away = `${key}.away`;
    renameSync(key, away);
    const execLog = join(tempDir(), 'exec.log');
    const { child, log } = startDaemon([crt, '--dir', dir, '--insecure', '--exec', `echo x >> '${execLog}'`], { PKI_TEST_CLOCK_RATE: String(RATE) });
    await log.waitFor(/renewing .*web\.crt failed: .*; retry in \S+.*\(attempt 2\)/);
    expect(log.text).toMatch(/retry in 1\ds \(attempt 1\)|retry in [89]s \(attempt 1\)/); // 10 s minus up to a quarter
    expect(snapshotTree(certsOf(dir, 'web'))).toBe(before); // nothing written while failing
    expect(lines(execLog)).toBe(0);
    renameSync(away, key);
    await log.waitFor(/ran --exec after renewing/);
    expect(serialOf(crt)).not.toBe(serial);
    expect(lines(execLog)).toBe(1);
    expect((await stopAndMeasure(child, 'SIGTERM')).code).toBe(0);
  }, 120_000);

  it('--all watches every certificate the inventory records at a path and renews each when due', async () => {
    const dir = initCa();
    for (const name of ['web', 'db']) expect(pki(['generate', name, 'main', '--dir', dir, '--insecure', '--no-client', '--not-after', '3m']).code).toBe(0);
    const before = ['web', 'db'].map((n) => serialOf(join(certsOf(dir, n), `${n}.crt`)));
    const execLog = join(tempDir(), 'exec.log');
    const { child, log } = startDaemon(['--all', '--dir', dir, '--insecure', '--exec', `echo x >> '${execLog}'`], { PKI_TEST_CLOCK_RATE: String(RATE) });
    await log.waitFor(/ran --exec after renewing .*web\.crt/);
    await log.waitFor(/ran --exec after renewing .*db\.crt/);
    expect(await stopAndMeasure(child, 'SIGTERM')).toMatchObject({ code: 0 });
    expect(serialOf(join(certsOf(dir, 'web'), 'web.crt'))).not.toBe(before[0]);
    expect(serialOf(join(certsOf(dir, 'db'), 'db.crt'))).not.toBe(before[1]);
    expect(lines(execLog)).toBe(log.text.split('\n').filter((l) => / renewed /.test(l)).length);
  }, 120_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops within one second on ${signal}, mid-sleep`, async () => {
      const dir = initCa();
      expect(pki(['generate', 'web', 'main', '--dir', dir, '--insecure', '--no-client']).code).toBe(0); // 90 days: sleeping
      const { child, log } = startDaemon([join(certsOf(dir, 'web'), 'web.crt'), '--dir', dir, '--insecure']);
      await log.waitFor(/watching .*renewal at /);
      const exit = await stopAndMeasure(child, signal);
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(3_000); // the issue asks for one second; generous bound for a loaded machine
    }, 60_000);
  }

  it('refuses flags that make no sense for a daemon (exit 2, nothing started)', () => {
    const dir = initCa();
    const cases: string[][] = [
      ['web.crt', '--force'],
      ['web.crt', '--ca-url', 'https://127.0.0.1:1'],
      ['--all', '--ca-url', 'https://127.0.0.1:1', '--roots', 'r.pem'],
      ['web.crt', '--roots', 'r.pem'],
      [],
    ];
    for (const args of cases) {
      const r = pki(['renew', '--daemon', ...args, '--dir', dir, '--insecure']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
    expect(pki(['renew', 'web.crt', '--ca-url', 'https://127.0.0.1:1', '--dir', dir]).code).toBe(2);
  });
});

/** Sends `signal` and measures the wall time until the process has exited. */
async function stopAndMeasure(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  child.kill(signal);
  const exit = await waitForExit(child, 10_000);
  const ms = Math.round(performance.now() - started);
  console.log(`pki renew --daemon stopped ${ms} ms after ${signal}`);
  return { code: exit.code, ms };
}
