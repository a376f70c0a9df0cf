/**
 * `pki renew --daemon`: the loop's decisions, kept free of the process (no timers, signals or files of its
 * own). The caller injects the clock (`now`, an abortable `sleep`, `random`), the watched certificates (each
 * reads its file and renews itself: locally with the CA home, or over mutual TLS against `pki serve`), the
 * log and what runs after a switch (`--exec`). Tests drive it with an accelerated clock.
 *
 * When: a certificate is renewed once its threshold is reached (two thirds of the lifetime, or --threshold /
 * --expires-in; core/lifecycle/renewal.ts), plus a random jitter of up to 1/20 of the time left between the
 * threshold and notAfter (many hosts with certificates of one batch do not all call at the same second).
 * A failure (the CA key unreadable, the CA down, a refusal) is retried after a backoff: 10 s, doubling to at
 * most 10 min, each delay shortened by a random quarter; the next success resets it. Every decision is one
 * log line: a certificate watched (when it will be renewed), renewed, failed (when it is retried), stopping.
 */
import { renewalDueAt, type RenewalPolicy } from '../core/lifecycle/renewal.js';

/** The daemon's time: real, pinned (PKI_TEST_NOW) or accelerated (PKI_TEST_CLOCK_RATE) — the CLI decides. */
export interface DaemonClock {
  now(): Date;
  /** Resolves once `ms` of this clock have passed, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

/** What a watched certificate's file says now. */
export interface WatchedState {
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** One switch: the old serial, the new one, the new end of validity. */
export interface DaemonRenewal {
  readonly serial: string;
  readonly newSerial: string;
  readonly notAfter: Date;
  readonly rekeyed: boolean;
}

export interface DaemonTarget {
  /** The certificate's path, as logs name it (also its identity across re-listings). */
  readonly label: string;
  /** Reads the file again; throws when it cannot be read (then retried with backoff). */
  read(): WatchedState;
  /** Renews now; 'not-due' when the file turned out not to be due (replaced meanwhile). Throws a failure. */
  renew(now: Date, signal: AbortSignal): Promise<DaemonRenewal | 'not-due'>;
}

export interface DaemonLogEntry {
  readonly event: 'watching' | 'renewed' | 'failed' | 'exec' | 'stopping';
  readonly path?: string;
  readonly message: string;
}

export interface DaemonOptions {
  /** The watched certificates, listed again at each wake (`--all` follows the inventory). */
  readonly targets: () => readonly DaemonTarget[] | Promise<readonly DaemonTarget[]>;
  readonly policy: RenewalPolicy;
  readonly clock: DaemonClock;
  readonly log: (entry: DaemonLogEntry) => void;
  /** After each switch, before anything else is decided (`--exec`); its failure is logged by the caller. */
  readonly afterSwitch: (target: DaemonTarget, renewal: DaemonRenewal) => Promise<void>;
  /** Aborted on SIGTERM/SIGINT: the loop returns at once (a renewal under way finishes its writes first). */
  readonly signal: AbortSignal;
  /** Longest sleep before the files are read again (someone else may have replaced one): default 1 h. */
  readonly recheckMs?: number;
}

export const JITTER_FRACTION = 1 / 20;
export const BACKOFF_FIRST_MS = 10_000;
export const BACKOFF_MAX_MS = 10 * 60_000;
const DEFAULT_RECHECK_MS = 60 * 60_000;

/** When to renew: the threshold plus up to 1/20 of the time from the threshold to notAfter. */
export function scheduledRenewal(state: WatchedState, policy: RenewalPolicy, random: number): Date {
  const due = renewalDueAt(state, policy).getTime();
  const left = Math.max(0, state.notAfter.getTime() - due);
  return new Date(due + Math.floor(random * left * JITTER_FRACTION));
}

/** The wait after the `failures`-th failure in a row (1, 2, …): 10 s doubling to 10 min, minus a random quarter. */
export function backoffDelay(failures: number, random: number): number {
  const base = Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
  return Math.round(base * (1 - random / 4));
}

/** `1m 30s`, `2h 5m`, `800 ms`: durations in log lines. */
export function formatDelay(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1_000);
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3_600), 'h'],
    [Math.floor((s % 3_600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const used = parts.filter(([n]) => n > 0).slice(0, 2);
  return used.map(([n, u]) => `${n}${u}`).join(' ');
}

const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Per watched certificate: the serial scheduled (null: unreadable), when to act, failures in a row. */
interface Slot {
  serial: string | null;
  at: number;
  failures: number;
}

/** Reads a target and schedules it when new or changed; a read failure is a failure with backoff. */
function refresh(options: DaemonOptions, slots: Map<string, Slot>, target: DaemonTarget, now: number): void {
  const slot = slots.get(target.label);
  if (slot && slot.failures > 0 && slot.at > now) return; // waiting out a backoff
  let state: WatchedState;
  try {
    state = target.read();
  } catch (e) {
    const failures = (slot?.failures ?? 0) + 1;
    const delay = backoffDelay(failures, options.clock.random());
    slots.set(target.label, { serial: null, at: now + delay, failures });
    options.log({ event: 'failed', path: target.label, message: `cannot read ${target.label}: ${messageOf(e)}; retry in ${formatDelay(delay)} (attempt ${failures})` });
    return;
  }
  if (slot && slot.serial === state.serial) return;
  const when = scheduledRenewal(state, options.policy, options.clock.random()).getTime();
  slots.set(target.label, { serial: state.serial, at: when, failures: 0 });
  const dueText = when <= now ? 'due now' : `renewal at ${at(when)} (in ${formatDelay(when - now)})`;
  options.log({ event: 'watching', path: target.label, message: `watching ${target.label}: serial ${state.serial}, valid until ${at(state.notAfter.getTime())}; ${dueText}` });
}

/** One renewal attempt of the target whose time has come. */
async function attempt(options: DaemonOptions, slots: Map<string, Slot>, target: DaemonTarget, now: number): Promise<void> {
  const slot = slots.get(target.label)!;
  let result: DaemonRenewal | 'not-due';
  try {
    result = await target.renew(new Date(now), options.signal);
  } catch (e) {
    if (options.signal.aborted) return;
    const failures = slot.failures + 1;
    const delay = backoffDelay(failures, options.clock.random());
    slots.set(target.label, { serial: slot.serial, at: now + delay, failures });
    options.log({ event: 'failed', path: target.label, message: `renewing ${target.label} failed: ${messageOf(e)}; retry in ${formatDelay(delay)} (attempt ${failures})` });
    return;
  }
  if (result === 'not-due') {
    // The renewal itself judged it not due (the file was replaced meanwhile, or the clock moved back): look again
    // later rather than at once, so a disagreement can never spin. A replaced file is rescheduled at the next turn.
    slots.set(target.label, { serial: slot.serial, at: now + BACKOFF_FIRST_MS, failures: 0 });
    options.log({ event: 'watching', path: target.label, message: `${target.label} is not due yet after all; looking again in ${formatDelay(BACKOFF_FIRST_MS)}` });
    return;
  }
  slots.delete(target.label); // read again at the next turn: the new certificate is scheduled from its file
  options.log({
    event: 'renewed',
    path: target.label,
    message: `renewed ${target.label}: serial ${result.serial} → ${result.newSerial}, valid until ${at(result.notAfter.getTime())}${result.rekeyed ? ', new key' : ''}`,
  });
  await options.afterSwitch(target, result);
}

/** Runs until `signal` aborts. Never throws for a certificate's failure: it is logged and retried. */
export async function runRenewDaemon(options: DaemonOptions): Promise<void> {
  const slots = new Map<string, Slot>();
  const recheck = options.recheckMs ?? DEFAULT_RECHECK_MS;
  while (!options.signal.aborted) {
    const now = options.clock.now().getTime();
    const targets = await options.targets();
    const labels = new Set(targets.map((t) => t.label));
    for (const label of [...slots.keys()]) if (!labels.has(label)) slots.delete(label);
    for (const t of targets) refresh(options, slots, t, now);
    let next: DaemonTarget | undefined;
    for (const t of targets) {
      const s = slots.get(t.label);
      if (s && (next === undefined || s.at < slots.get(next.label)!.at)) next = t;
    }
    const wait = next ? slots.get(next.label)!.at - now : recheck;
    if (wait > 0) {
      await options.clock.sleep(Math.min(wait, recheck), options.signal);
      continue;
    }
    await attempt(options, slots, next!, now);
  }
  options.log({ event: 'stopping', message: 'stopping (signal received)' });
}
