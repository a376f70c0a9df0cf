/**
 * Time limits that hold on a loaded machine. A test asserting "this input is handled in under N ms" (a
 * hang or backtracking guard) must measure the CPU time this process spent, not the wall-clock time:
 * beside other CPU-heavy work the scheduler can leave a test off the CPU for seconds, which says nothing
 * about the code. The wall time is kept with a much larger bound, for a wait that uses no CPU.
 */

/** How much larger than a CPU limit the wall-clock bound of the same call is. */
export const WALL_FACTOR = 10;

export interface Timing {
  /** User + system CPU time of this process during the call, in ms (includes GC on helper threads). */
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** Runs `fn` and reports its CPU and wall time; whatever `fn` throws is rethrown after measuring. */
export function timeCall<T>(fn: () => T): Timing & { result: T } {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const result = fn();
  const cpu = process.cpuUsage(cpuStart);
  return { result, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wallStart };
}

/**
 * Null when a call stayed within `limitMs` of CPU time and `limitMs × WALL_FACTOR` of wall time;
 * otherwise what was exceeded, for the failure message.
 */
export function overLimit(timing: Timing, limitMs: number): string | null {
  if (timing.cpuMs > limitMs) return `${timing.cpuMs.toFixed(0)} ms of CPU time (limit ${limitMs} ms)`;
  if (timing.wallMs > limitMs * WALL_FACTOR) return `${timing.wallMs.toFixed(0)} ms of wall time (limit ${limitMs * WALL_FACTOR} ms, ${WALL_FACTOR}× the CPU limit)`;
  return null;
}
