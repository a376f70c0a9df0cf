/**
 * `npm run fuzz`: the fuzz and property suites of test/fuzz with many more runs than `npm test`.
 * FUZZ_RUNS multiplies every property's run count (default here 50; `npm test` runs them once, ×1),
 * FUZZ_SEED pins fast-check's seed, FUZZ_OPENSSL the number of generated inputs checked with openssl per
 * property (default 8), FUZZ_HANG_MS the per-input hang guard (default 2000 ms of CPU time; wall time may be 10× that).
 * The counts of inputs tried per decoder are printed at the end of each file.
 */
import { defineConfig } from 'vitest/config';

process.env.FUZZ_RUNS ??= '50';

export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.test.ts'],
    // Property timeouts scale with FUZZ_RUNS (harness.ts); this is the ceiling for the rest.
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
