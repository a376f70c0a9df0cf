/**
 * `pki renew --daemon [<cert> [<key>] | --all] [--ca-url URL --roots FILE] [--exec CMD] [--rekey]`: the
 * process around the scheduler (operations/renew-daemon.ts). It owns the clock, the signals (SIGTERM and
 * SIGINT stop it at once, even mid-sleep: the sleep is aborted; a renewal under way finishes its writes),
 * the log (one line per decision on stderr; JSON lines with --json) and `--exec` (through sh -c, once after
 * each switch, with pki's own variables removed from its environment as for `pki renew --exec`).
 *
 * The clock is the real one, unless a test sets PKI_TEST_NOW (the start) and/or PKI_TEST_CLOCK_RATE (test
 * only: the daemon's clock runs that many times faster than the wall clock, and its sleeps are as much
 * shorter, so a 3-minute certificate reaches two thirds of its life in 2 s at rate 60).
 */
import { spawn } from 'node:child_process';
import { PkiError } from '../core/errors.js';
import type { RenewalPolicy } from '../core/lifecycle/renewal.js';
import { runRenewDaemon, type DaemonClock, type DaemonLogEntry, type DaemonTarget } from '../operations/renew-daemon.js';
import { inventoryTargets, localTarget, remoteTarget } from '../operations/renew-daemon-targets.js';
import { readText } from '../store/fs/read-file.js';
import { childEnvironment } from './child-environment.js';
import { commandNow } from './clock.js';
import { openHome } from './home.js';
import { jsonText, type GlobalOptions } from './output.js';
import { passphraseSource, type PassphraseOptions } from './passphrase.js';

export interface DaemonCliOptions extends PassphraseOptions {
  readonly all?: boolean;
  readonly rekey?: boolean;
  readonly exec?: string;
  readonly caUrl?: string;
  readonly roots?: string;
  readonly force?: boolean;
  readonly notAfter?: string;
  readonly prune?: boolean;
  readonly san?: string[];
  readonly profile?: string;
}

/** The daemon's clock: real, or for tests started at PKI_TEST_NOW and/or running PKI_TEST_CLOCK_RATE times faster. */
export function daemonClock(env: NodeJS.ProcessEnv = process.env): DaemonClock {
  const rateText = env.PKI_TEST_CLOCK_RATE;
  const rate = rateText === undefined || rateText === '' ? 1 : Number(rateText);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 10_000) {
    throw new PkiError('ERR_USAGE', `PKI_TEST_CLOCK_RATE "${rateText}" is not a speed-up factor from 1 to 10000`, { hint: 'unset PKI_TEST_CLOCK_RATE outside tests' });
  }
  const start = commandNow(env).getTime();
  const wallStart = Date.now();
  return {
    now: () => new Date(start + (Date.now() - wallStart) * rate),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, Math.ceil(ms / rate)));
        signal.addEventListener('abort', done);
      }),
    random: Math.random,
  };
}

/** Flags that make no sense for a daemon, or without one; refused (exit 2) before anything is read. */
function checkDaemonFlags(certFile: string | undefined, options: DaemonCliOptions): void {
  const refuse = (message: string, hint?: string) => new PkiError('ERR_USAGE', message, hint ? { hint } : {});
  for (const [flag, given] of [['--force', options.force], ['--not-after', options.notAfter !== undefined], ['--prune', options.prune], ['--san', (options.san ?? []).length > 0], ['--profile', options.profile !== undefined]] as const) {
    if (given) throw refuse(`${flag} does not go with --daemon, which renews each certificate when it is due, as it is`, `run "pki renew <cert-file> ${flag} …" once instead`);
  }
  if (options.all && certFile !== undefined) throw refuse('--all watches what the inventory lists; it takes no file argument', 'drop the file, or drop --all');
  if (!options.all && certFile === undefined) throw refuse('name the certificate to watch, or pass --all', 'pki renew --daemon certs/web.crt');
  if (options.caUrl !== undefined && options.all) throw refuse('--ca-url renews one host\'s certificate over mutual TLS; it does not go with --all (which needs the CA home)', 'pki renew --daemon <cert-file> [<key-file>] --ca-url URL --roots FILE');
  if (options.caUrl !== undefined && options.roots === undefined) throw refuse('--ca-url needs --roots: the root certificate the server is verified against', 'pki renew --daemon web.crt web.key --ca-url https://ca.internal:8443 --roots root_ca.crt');
  if (options.roots !== undefined && options.caUrl === undefined) throw refuse('--roots goes with --ca-url');
}

/** One line per decision: `pki renew --daemon: 2026-12-02T14:00:00Z renewed …`, or a JSON line with --json. */
function logger(globals: GlobalOptions, clock: DaemonClock): (entry: DaemonLogEntry) => void {
  return (entry) => {
    const time = clock.now().toISOString().replace(/\.\d+Z$/, 'Z');
    process.stderr.write(globals.json ? `${jsonText({ time, ...entry })}\n` : `pki renew --daemon: ${time} ${entry.message}\n`);
  };
}

/** `--exec` after one switch: through sh -c, stdout to stderr (the daemon's stdout stays empty), without PKI_* variables. */
function runExec(command: string): Promise<{ code: number | null; signal: string | null; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 'inherit'], env: childEnvironment() });
    child.once('error', (e) => resolve({ code: null, signal: null, error: e.message }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function targetsOf(certFile: string | undefined, keyFile: string | undefined, options: DaemonCliOptions, globals: GlobalOptions, policy: RenewalPolicy): () => DaemonTarget[] | Promise<DaemonTarget[]> {
  if (options.caUrl !== undefined) {
    const rootsPem = readText(options.roots!);
    const target = remoteTarget(certFile!, keyFile, { caUrl: options.caUrl, rootsPem, rekey: options.rekey === true });
    return () => [target];
  }
  const home = openHome(globals);
  home.requireInitialized();
  const settings = { policy, rekey: options.rekey === true, passphrase: passphraseSource(options) };
  if (options.all) return () => inventoryTargets(home, settings);
  const target = localTarget(home, certFile!, keyFile, settings);
  return () => [target];
}

/** Runs until SIGTERM or SIGINT; exit 0 then. */
export async function runRenewDaemonCommand(certFile: string | undefined, keyFile: string | undefined, options: DaemonCliOptions, globals: GlobalOptions, policy: RenewalPolicy): Promise<void> {
  checkDaemonFlags(certFile, options);
  const clock = daemonClock();
  const targets = targetsOf(certFile, keyFile, options, globals, policy);
  const log = logger(globals, clock);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await runRenewDaemon({
      targets,
      policy,
      clock,
      log,
      signal: controller.signal,
      afterSwitch: async (target) => {
        if (options.exec === undefined) return;
        const r = await runExec(options.exec);
        const ok = r.code === 0;
        const how = r.error ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
        log({ event: 'exec', path: target.label, message: ok ? `ran --exec after renewing ${target.label}: ${options.exec}` : `--exec failed after renewing ${target.label} (${how}): ${options.exec}` });
      },
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
