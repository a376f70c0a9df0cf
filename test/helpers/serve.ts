/**
 * `pki serve` started by a test: the built CLI on 127.0.0.1 port 0 (the kernel picks a free port, so no
 * retry is needed), ready once the start-up line names the URLs; stopped by PID with SIGTERM (SIGKILL after
 * the grace). `--insecure` because test CA homes live under /tmp.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PKI_BIN } from './cli.js';
import { OutputLog, stopProcess } from './process.js';

export interface PkiServe {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `https://127.0.0.1:PORT` */
  readonly httpsUrl: string;
  /** `http://127.0.0.1:PORT` with `http: true`, else null. */
  readonly httpUrl: string | null;
  readonly directoryUrl: string;
  readonly ocspUrl: string;
  /** stdout: the access log (JSON lines). */
  readonly stdout: OutputLog;
  /** stderr: the start-up line, warnings, events (JSON lines). */
  readonly stderr: OutputLog;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface PkiServeOptions {
  /** Also a plain HTTP listener (OCSP, CRL). */
  readonly http?: boolean;
  /** More flags (`--acme-allow`, `--acme-resolve`, …). */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Ready within this (ms); default 30 s. */
  readonly readyMs?: number;
}

const START_LINE = /pki serve: listening on (https:\/\/\S+?)(?: and (http:\/\/\S+))? \(acme: (\S+), ocsp: (\S+)\)/;

export async function startPkiServe(dir: string, options: PkiServeOptions = {}): Promise<PkiServe> {
  const args = [PKI_BIN, 'serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0', ...(options.http ? ['--http-listen', '127.0.0.1:0'] : []), ...(options.args ?? [])];
  const env: Record<string, string | undefined> = { ...process.env, ...(options.env ?? {}) };
  delete env.PKI_DIR;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const stdout = new OutputLog(child.stdout);
  const stderr = new OutputLog(child.stderr);
  let match: RegExpExecArray | null = null;
  try {
    const exitedEarly = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`pki serve exited (${code ?? signal}) before listening:\n${stderr.tail()}`))));
    match = START_LINE.exec(await Promise.race([stderr.waitFor(START_LINE, options.readyMs ?? 30_000), exitedEarly]));
  } catch (e) {
    await stopProcess(child, 2_000, 'SIGKILL');
    throw e;
  }
  return {
    child,
    pid: child.pid!,
    httpsUrl: match![1]!,
    httpUrl: match![2] ?? null,
    directoryUrl: match![3]!,
    ocspUrl: match![4]!,
    stdout,
    stderr,
    stop: (signal = 'SIGTERM') => stopProcess(child, undefined, signal),
  };
}
