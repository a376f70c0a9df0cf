/**
 * Child processes for tests, waited on by events with a bounded deadline — never by a fixed sleep:
 * a log line (OutputLog.waitFor), the 'exit' event (waitForExit, stopProcess), a port accepting
 * connections and a readiness line (startServer). On a loaded machine a fixed sleep is either too short
 * (a flaky failure) or too long (a slow suite); an event is neither.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { freePort, saysAddressInUse, SERVER_READY_MS, waitForPort } from './net.js';

/** How long a log line may take to appear after what causes it (a hang guard). */
export const LOG_LINE_MS = 30_000;
/** How long a process gets to exit after SIGTERM before it is sent SIGKILL. */
export const STOP_GRACE_MS = 10_000;

/** The text a child wrote on its streams so far, with waits for a line to appear. */
export class OutputLog {
  #text = '';
  readonly #listeners = new Set<() => void>();

  constructor(...streams: (Readable | null | undefined)[]) {
    for (const stream of streams) stream?.on('data', (chunk) => this.append(String(chunk)));
  }

  get text(): string {
    return this.#text;
  }

  append(chunk: string): void {
    this.#text += chunk;
    for (const listener of [...this.#listeners]) listener();
  }

  /** The last `lines` lines, for failure messages. */
  tail(lines = 15): string {
    return this.#text.split('\n').slice(-lines).join('\n');
  }

  /**
   * Resolves with the whole log once `pattern` matches it (at once if it already does); rejects after
   * `timeoutMs` with the log's tail. The log grows only while the event loop runs, so this must be awaited,
   * not polled from synchronous code.
   */
  waitFor(pattern: RegExp, timeoutMs = LOG_LINE_MS, signal?: AbortSignal): Promise<string> {
    if (pattern.test(this.#text)) return Promise.resolve(this.#text);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cleanup();
        reject(new Error(`stopped waiting for ${pattern}: ${signal?.reason}`));
      };
      const check = () => {
        if (!pattern.test(this.#text)) return;
        cleanup();
        resolve(this.#text);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; log tail:\n${this.tail()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#listeners.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Resolves on the child's 'exit' event (at once if it has exited); rejects after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs = STOP_GRACE_MS): Promise<Exit> {
  if (exited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    child.once('exit', onExit);
  });
}

/**
 * `signal` (SIGTERM unless the server's own stop signal is another: nginx SIGQUIT, postgres SIGINT), then
 * SIGKILL if the child is still running after `graceMs`; resolves once it has exited.
 */
export async function stopProcess(child: ChildProcess | undefined, graceMs = STOP_GRACE_MS, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.pid === undefined || exited(child)) return;
  child.kill(signal);
  try {
    await waitForExit(child, graceMs);
  } catch {
    child.kill('SIGKILL');
    await waitForExit(child, graceMs); // SIGKILL cannot be ignored: a timeout here is a real hang
  }
}

export interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  readonly log: OutputLog;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Program to run (an absolute path from requirePeer). */
  readonly program: string;
  /** Its arguments for a given port: called again with a new port on each attempt. */
  readonly args: (port: number) => readonly string[];
  /** A log line the server writes once it listens: proves that *this* server bound the port. */
  readonly ready?: RegExp | ((port: number) => RegExp);
  /** Attempts with a fresh port when the port was taken between freePort and the bind. */
  readonly attempts?: number;
  readonly readyTimeoutMs?: number;
  /** Where the port comes from (tests of this helper pass a port they hold). */
  readonly pickPort?: () => Promise<number>;
  /** The child's environment and working folder (default: the test's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** What server.stop() sends first: the signal this server shuts down cleanly on (default SIGTERM). */
  readonly stopSignal?: NodeJS.Signals;
}

/**
 * Starts a server on a fresh loopback port and resolves once it accepts connections (and has logged
 * `ready`, when given). The server exiting first is a failure carrying its log, unless its log says the
 * port was taken meanwhile: then it is started again on another port, up to `attempts` times.
 */
export async function startServer(options: ServerOptions): Promise<Server> {
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.readyTimeoutMs ?? SERVER_READY_MS;
  const name = options.program.split('/').pop();
  for (let attempt = 1; ; attempt++) {
    const port = await (options.pickPort ?? freePort)();
    const child = spawn(options.program, options.args(port) as string[], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env, cwd: options.cwd });
    const log = new OutputLog(child.stdout, child.stderr);
    const server: Server = { child, port, log, stop: () => stopProcess(child, STOP_GRACE_MS, options.stopSignal) };
    const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const readyLine = typeof options.ready === 'function' ? options.ready(port) : options.ready;
    const stopWaiting = new AbortController();
    const ready = Promise.all([waitForPort(port, timeoutMs, stopWaiting.signal), readyLine ? log.waitFor(readyLine, timeoutMs, stopWaiting.signal) : undefined]);
    const outcome = await Promise.race([
      ready.then(() => ({ kind: 'ready' as const }), (error: Error) => ({ kind: 'timeout' as const, error })),
      exit.then((e) => ({ kind: 'exit' as const, ...e })),
      spawnError.then((error) => ({ kind: 'spawn-error' as const, error })),
    ]);
    stopWaiting.abort(outcome.kind);
    if (outcome.kind === 'ready') {
      // Someone else's listener can answer the connect while ours failed to bind: trust a live child only.
      if (!exited(child)) return server;
    }
    await stopProcess(child);
    if (outcome.kind === 'spawn-error') throw new Error(`${name} could not be started: ${outcome.error.message}`);
    await exit;
    if (saysAddressInUse(log.text) && attempt < attempts) continue;
    const why = outcome.kind === 'timeout' ? outcome.error.message : `it exited (${outcome.kind === 'exit' ? (outcome.code ?? outcome.signal) : 'early'}) before it was ready`;
    throw new Error(`${name} (pid ${child.pid}) on 127.0.0.1:${port} (attempt ${attempt} of ${attempts}): ${why}\n${name} log:\n${log.tail(30)}`);
  }
}

/** What redis-server logs once it listens (`--port 0 --tls-port N` included). */
export const REDIS_READY = /Ready to accept connections/;
/** What sshd -D -e logs once it has bound its ListenAddress (port given to match this server's). */
export const sshdListening = (port: number) => new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}\\b`);
