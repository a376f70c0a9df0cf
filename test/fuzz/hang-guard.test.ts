/**
 * The fuzz harness's per-input hang guard counts CPU time (issue 9, Done-means 4): an input that waited
 * for a core on a loaded machine passes, an input that burns CPU past the guard still fails, and a call
 * that blocks far longer than the guard without using CPU fails on the wall-clock bound.
 */
import { describe, expect, it } from 'vitest';
import { PkiError } from '../../src/core/errors.js';
import { WALL_FACTOR } from '../helpers/cpu-time.js';
import { decodeOutcome } from './harness.js';

/** Blocks the thread without using CPU, as being descheduled does. */
function offCpu(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Burns at least `ms` of this process's CPU time. */
function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

describe('fuzz hang guard', () => {
  it('a call that spends 3× the guard off the CPU (a loaded machine) is not a hang', () => {
    const outcome = decodeOutcome('guard: off cpu', () => {
      offCpu(300);
      return 'decoded';
    }, 100);
    expect(outcome).toEqual({ ok: true, value: 'decoded' });
  });

  it('a call that burns more CPU than the guard is a hang, also when it ends in a PkiError', () => {
    expect(() => decodeOutcome('guard: busy', () => burnCpu(150), 100)).toThrow(/guard: busy took \d+ ms of CPU time \(limit 100 ms\)/);
    expect(() =>
      decodeOutcome('guard: busy refusal', () => {
        burnCpu(150);
        throw new PkiError('ERR_MALFORMED_DER', 'bad');
      }, 100),
    ).toThrow(/of CPU time/);
  });

  it(`a call blocked for more than ${WALL_FACTOR}× the guard without CPU is a hang too`, () => {
    expect(() => decodeOutcome('guard: blocked', () => offCpu(20 * WALL_FACTOR), 10)).toThrow(/guard: blocked took \d+ ms of wall time/);
  });
});
