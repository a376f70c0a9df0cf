/**
 * Loopback helpers for tests that start real servers. To start one, use startServer (test/helpers/process.ts):
 * it picks the port, retries when the port was taken meanwhile, and waits for readiness on events.
 */
import { createServer, connect } from 'node:net';

/**
 * How long a server may take to start listening. Generous on purpose: it is a hang guard, not a
 * benchmark, and a 2-core machine running other CPU-heavy work can take seconds to fork and exec.
 */
export const SERVER_READY_MS = 30_000;

/** A TCP port that was free on 127.0.0.1 a moment ago (it may be taken before a server binds it: retry on EADDRINUSE). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One connection attempt: true when 127.0.0.1:port accepted it, false when refused (or no answer within `timeoutMs`). */
function accepts(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves once 127.0.0.1:port accepts a connection; rejects after `timeoutMs`. A refused connect is
 * answered at once on loopback, so the attempts are spaced by a short pause; each attempt is bounded too.
 * `signal` stops the wait early (the server exited: no point in waiting for it).
 */
export async function waitForPort(port: number, timeoutMs = SERVER_READY_MS, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new Error(`stopped waiting for 127.0.0.1:${port}: ${signal.reason}`);
    if (await accepts(port, Math.max(1, Math.min(5_000, deadline - Date.now())))) return;
    if (Date.now() >= deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms (${attempt} attempts)`);
    await new Promise((r) => setTimeout(r, Math.min(50, Math.max(0, deadline - Date.now()))));
  }
}

/** True when a server's log says its port was taken (the race between freePort and the server's bind). */
export function saysAddressInUse(log: string): boolean {
  return /address already in use|EADDRINUSE|could not create server tcp listening socket|bind .*failed/i.test(log);
}
