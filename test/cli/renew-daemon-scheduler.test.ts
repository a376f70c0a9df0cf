/**
 * The decisions of `pki renew --daemon` (operations/renew-daemon.ts) under a virtual clock: sleeping moves
 * time forward at once, so months of a daemon's life run in milliseconds. The targets are plain objects
 * standing for certificate files (the CLI tests renew-daemon*.test.ts drive the real ones): when each is
 * renewed (threshold + jitter ≤ 1/20 of the time left), the backoff (10 s doubling to 10 min, minus at most a
 * quarter), one log line per decision, and a stop mid-sleep.
 */
import { describe, expect, it } from 'vitest';
import { daemonClock } from '../../src/cli/renew-daemon.js';
import {
  BACKOFF_FIRST_MS,
  BACKOFF_MAX_MS,
  backoffDelay,
  runRenewDaemon,
  scheduledRenewal,
  type DaemonClock,
  type DaemonLogEntry,
  type DaemonTarget,
  type WatchedState,
} from '../../src/operations/renew-daemon.js';

const MIN = 60_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

/** Virtual time: sleep advances it (and yields), abort ends a sleep at once. `random` replays `randoms` (then 0.5). */
function virtualClock(randoms: number[] = []): DaemonClock & { time: number } {
  const clock = {
    time: T0,
    now: () => new Date(clock.time),
    sleep: async (ms: number, signal: AbortSignal) => {
      if (!signal.aborted) clock.time += ms;
      await new Promise((r) => setImmediate(r));
    },
    random: () => randoms.shift() ?? 0.5,
  };
  return clock;
}

/** A certificate file whose renewal makes a successor of the same lifetime (notBefore = now − 1 min, as pki does). */
function fakeTarget(lifetimeMs: number, options: { failures?: number; unreadable?: number } = {}) {
  let n = 0;
  let failures = options.failures ?? 0;
  let unreadable = options.unreadable ?? 0;
  let state: WatchedState = { serial: 'S0', notBefore: new Date(T0 - MIN), notAfter: new Date(T0 - MIN + lifetimeMs) };
  const attempts: number[] = [];
  const target: DaemonTarget = {
    label: '/srv/web.crt',
    read: () => {
      if (unreadable > 0) {
        unreadable--;
        throw new Error('EACCES');
      }
      return state;
    },
    renew: async (now) => {
      attempts.push(now.getTime());
      if (failures > 0) {
        failures--;
        throw new Error('the CA key is unavailable');
      }
      const old = state.serial;
      state = { serial: `S${++n}`, notBefore: new Date(now.getTime() - MIN), notAfter: new Date(now.getTime() - MIN + lifetimeMs) };
      return { serial: old, newSerial: state.serial, notAfter: state.notAfter, rekeyed: false };
    },
  };
  return { target, attempts, state: () => state };
}

/** Runs the daemon until `until(log)` says so (then aborts), at most `maxTurns` log lines. */
async function run(target: DaemonTarget, clock: DaemonClock, until: (log: DaemonLogEntry[]) => boolean, policy = { threshold: 2 / 3 }) {
  const log: DaemonLogEntry[] = [];
  const switches: number[] = [];
  const controller = new AbortController();
  await runRenewDaemon({
    targets: () => [target],
    policy,
    clock,
    signal: controller.signal,
    log: (e) => {
      log.push(e);
      if (until(log) || log.length > 500) controller.abort();
    },
    afterSwitch: async () => void switches.push(clock.now().getTime()),
  });
  return { log, switches };
}

describe('renew daemon scheduling', () => {
  it('renews at two thirds of the lifetime plus a jitter of at most 1/20 of the time left; once per renewal', async () => {
    const lifetime = 4 * MIN; // generate --not-after 3m: notBefore one minute back
    const due = T0 - MIN + (lifetime * 2) / 3;
    const left = T0 - MIN + lifetime - due;
    expect(scheduledRenewal({ serial: 'x', notBefore: new Date(T0 - MIN), notAfter: new Date(T0 - MIN + lifetime) }, { threshold: 2 / 3 }, 0).getTime()).toBe(due);
    expect(scheduledRenewal({ serial: 'x', notBefore: new Date(T0 - MIN), notAfter: new Date(T0 - MIN + lifetime) }, { threshold: 2 / 3 }, 0.9999).getTime()).toBeLessThanOrEqual(due + left / 20);
    const clock = virtualClock([0.5, 0.5, 0.5, 0.5]);
    const t = fakeTarget(lifetime);
    const { log, switches } = await run(t.target, clock, (l) => l.filter((e) => e.event === 'renewed').length === 3);
    expect(t.attempts[0]).toBe(due + Math.floor(0.5 * left / 20));
    // Each successor is renewed two thirds into its own life (it starts one minute before its renewal).
    for (let i = 1; i < 3; i++) expect(t.attempts[i]! - t.attempts[i - 1]!).toBe(Math.floor((lifetime * 2) / 3) - MIN + Math.floor(0.5 * left / 20));
    expect(switches).toEqual(t.attempts); // --exec once per switch, right after it
    expect(log.map((e) => e.event)).toEqual(['watching', 'renewed', 'watching', 'renewed', 'watching', 'renewed', 'stopping']);
  });

  it('--expires-in: renews that long before notAfter', () => {
    const s = { serial: 'x', notBefore: new Date(T0), notAfter: new Date(T0 + 90 * 86_400_000) };
    expect(scheduledRenewal(s, { expiresWithinMs: 30 * 86_400_000 }, 0).getTime()).toBe(T0 + 60 * 86_400_000);
  });

  it('backs off 10 s, 20 s, 40 s … up to 10 min after failures, then succeeds and resets', async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, 0))).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000]);
    expect(backoffDelay(1, 0.9999)).toBeGreaterThanOrEqual(0.75 * BACKOFF_FIRST_MS);
    expect(backoffDelay(30, 0.9999)).toBeGreaterThanOrEqual(0.75 * BACKOFF_MAX_MS);
    const clock = virtualClock([0, ...Array(9).fill(0)]);
    const t = fakeTarget(24 * 60 * MIN, { failures: 8 });
    const { log } = await run(t.target, clock, (l) => l.some((e) => e.event === 'renewed'));
    const gaps = t.attempts.slice(1).map((a, i) => a - t.attempts[i]!);
    expect(gaps).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000]);
    const failed = log.filter((e) => e.event === 'failed');
    expect(failed).toHaveLength(8);
    expect(failed[0]!.message).toMatch(/renewing \/srv\/web\.crt failed: the CA key is unavailable; retry in 10s \(attempt 1\)/);
    expect(failed[7]!.message).toMatch(/retry in 10m \(attempt 8\)/);
  });

  it('a file it cannot read is retried with backoff, then watched', async () => {
    const clock = virtualClock([0, 0, 0]);
    const t = fakeTarget(60 * MIN, { unreadable: 2 });
    const { log } = await run(t.target, clock, (l) => l.some((e) => e.event === 'watching'));
    expect(log.map((e) => e.event)).toEqual(['failed', 'failed', 'watching', 'stopping']);
    expect(log[1]!.message).toMatch(/cannot read \/srv\/web\.crt: EACCES; retry in 20s \(attempt 2\)/);
    expect(clock.time - T0).toBe(30_000);
  });

  it('the real clock: a sleep of an hour ends as soon as the signal aborts; PKI_TEST_CLOCK_RATE speeds it up', async () => {
    const clock = daemonClock({});
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await clock.sleep(3_600_000, controller.signal);
    expect(performance.now() - started).toBeLessThan(1_000);
    const fast = daemonClock({ PKI_TEST_CLOCK_RATE: '600', PKI_TEST_NOW: '2030-01-01T00:00:00Z' });
    expect(fast.now().getTime() - T0).toBeLessThan(60_000);
    const s = performance.now();
    await fast.sleep(60_000, new AbortController().signal); // one minute of its time: 100 ms
    expect(performance.now() - s).toBeLessThan(1_000);
    expect(fast.now().getTime() - T0).toBeGreaterThanOrEqual(60_000);
    expect(() => daemonClock({ PKI_TEST_CLOCK_RATE: 'fast' })).toThrow(/PKI_TEST_CLOCK_RATE/);
  });
});
