/**
 * The contract at the process boundary: `pki inspect` on a mutated real input either describes it (exit 0)
 * or refuses with exactly one line on stderr and exit 1 — never a stack trace, an "internal error", a
 * signal or a hang. Each input costs a process, so the count is small here and scales with FUZZ_RUNS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pki, tempDir } from '../helpers/cli.js';
import { countInput, mutate, mutationsArb, PROPERTY_TIMEOUT_MS, runs } from './harness.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures');
const SEEDS = ['x509/openssl-rsa.crt', 'x509/openssl-rsa.der', 'x509/openssl-ec384.csr', 'crl/openssl-ca.crl'].map((f) => readFileSync(join(FIXTURES, f)));

describe('pki inspect (the built CLI) on mutated real files', () => {
  it(
    'exits 0 with a report, or 1 with one "pki: error:" line; never a crash',
    () => {
      const dir = tempDir('pki-cli-fuzz-');
      let n = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: SEEDS.length - 1 }), mutationsArb, (which, mutations) => {
          const file = join(dir, `input-${n++}`);
          writeFileSync(file, mutate(SEEDS[which]!, mutations));
          countInput('pki inspect (process)');
          const r = pki(['inspect', '--json', file]);
          if (r.code === 0) {
            JSON.parse(r.stdout); // one JSON document
            return;
          }
          expect(r.code).toBe(1);
          const lines = r.stderr.trimEnd().split('\n');
          expect(lines, r.stderr).toHaveLength(1);
          expect(lines[0]).toMatch(/^pki: error: /);
          expect(JSON.parse(r.stdout).error.code).toMatch(/^ERR_/);
        }),
        runs(12),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
