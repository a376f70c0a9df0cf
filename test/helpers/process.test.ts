/**
 * The waiting helpers the server tests rely on (issue 9, Done-means 4): readiness on events with a
 * bounded deadline, a retry when the port picked free was taken before the server bound it, and a stop
 * that waits for the 'exit' event. The "server" is a few lines of node, so the races are forced, not hoped for.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server as NetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitForPort } from './net.js';
import { OutputLog, startServer, stopProcess, waitForExit, type Server } from './process.js';

/** A server that binds the port given as argv[1] and says so, or prints the bind error and exits 1. */
const TINY_SERVER = `
const server = require('node:net').createServer((s) => s.end());
server.on('error', (e) => { console.error('listen failed: ' + e.code + ' (address already in use)'); process.exit(1); });
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('tiny server listening on ' + process.argv[1]));
`;

const node = (script: string, ...args: string[]) => spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

/** Holds a port as "someone else" would: another program that took it between freePort and the bind. */
async function occupiedPort(): Promise<{ port: number; holder: NetServer }> {
  const holder = createServer((s) => s.end());
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return { port: (holder.address() as { port: number }).port, holder };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('startServer', () => {
  it('a port taken before the server bound it: the readiness line is missing, the server exits, and it is started again on another port', async () => {
    const { port: taken, holder } = await occupiedPort();
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    // waitForPort alone would be fooled: the holder accepts connections on the taken port.
    await waitForPort(taken, 1_000);
    const picked: number[] = [];
    const server: Server = await startServer({
      program: process.execPath,
      args: (port) => ['-e', TINY_SERVER, String(port)],
      ready: (port) => new RegExp(`tiny server listening on ${port}\\b`),
      pickPort: async () => {
        const port = picked.length === 0 ? taken : await freePort();
        picked.push(port);
        return port;
      },
    });
    cleanups.push(() => server.stop());
    expect(picked).toHaveLength(2);
    expect(server.port).toBe(picked[1]);
    expect(server.port).not.toBe(taken);
    expect(server.child.exitCode).toBeNull();
    await waitForPort(server.port, 5_000);
  });

  it('gives up after the last attempt, with the server log in the error', async () => {
    const { port: taken, holder } = await occupiedPort();
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    await expect(
      startServer({ program: process.execPath, args: (port) => ['-e', TINY_SERVER, String(port)], ready: /tiny server listening/, attempts: 2, pickPort: async () => taken }),
    ).rejects.toThrow(/\(attempt 2 of 2\): it exited \(1\) before it was ready\n[\s\S]*listen failed: EADDRINUSE/);
  });

  it('a server that exits for another reason fails at once, without retrying', async () => {
    let picks = 0;
    await expect(
      startServer({
        program: process.execPath,
        args: () => ['-e', 'console.error("bad config line 3"); process.exit(2)'],
        pickPort: async () => (picks++, freePort()),
      }),
    ).rejects.toThrow(/attempt 1 of 3\): it exited \(2\) before it was ready\n[\s\S]*bad config line 3/);
    expect(picks).toBe(1);
  });

  it('a server that never listens fails after the ready deadline, and is stopped', async () => {
    const started = startServer({ program: process.execPath, args: () => ['-e', 'setInterval(() => {}, 1000)'], readyTimeoutMs: 500 });
    const error = await started.then(() => new Error('started'), (e: Error) => e);
    expect(error.message).toMatch(/^node \(pid \d+\) on 127\.0\.0\.1:\d+ \(attempt 1 of 3\): nothing listens on 127\.0\.0\.1:\d+ after 500 ms/);
    const pid = Number(/pid (\d+)/.exec(error.message)![1]);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

describe('OutputLog.waitFor', () => {
  it('resolves on a line written after the wait began, and at once for a line already there', async () => {
    const child = node('console.log("booting"); setTimeout(() => console.log("ready: 42"), 200); setTimeout(() => {}, 600)');
    cleanups.push(() => stopProcess(child));
    const log = new OutputLog(child.stdout, child.stderr);
    expect(await log.waitFor(/ready: \d+/, 10_000)).toMatch(/booting\nready: 42/);
    expect(await log.waitFor(/booting/, 1)).toMatch(/booting/);
  });

  it('rejects after its deadline with the tail of the log', async () => {
    const log = new OutputLog();
    log.append('line one\nline two\n');
    await expect(log.waitFor(/line three/, 100)).rejects.toThrow(/no log line matching \/line three\/ within 100 ms; log tail:\nline one\nline two/);
  });
});

describe('stopProcess and waitForExit', () => {
  it('waits for the exit event after SIGTERM', async () => {
    const child = node('setInterval(() => {}, 1000)');
    await stopProcess(child);
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('sends the signal it is given instead (postgres stops fast on SIGINT, nginx on SIGQUIT)', async () => {
    const child = node('setInterval(() => {}, 1000)');
    await stopProcess(child, 10_000, 'SIGINT');
    expect(child.signalCode).toBe('SIGINT');
  });

  it('sends SIGKILL to a child that ignores SIGTERM, once the grace period is over', async () => {
    const child = node('process.on("SIGTERM", () => {}); console.log("armed"); setInterval(() => {}, 1000)');
    const log = new OutputLog(child.stdout);
    await log.waitFor(/armed/, 10_000);
    await stopProcess(child, 300);
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('waitForExit rejects after its deadline while the process runs on', async () => {
    const child = node('setInterval(() => {}, 1000)');
    cleanups.push(() => stopProcess(child));
    await expect(waitForExit(child, 100)).rejects.toThrow(/did not exit within 100 ms/);
    expect(child.exitCode).toBeNull();
  });
});
