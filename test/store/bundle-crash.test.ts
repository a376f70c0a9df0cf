/**
 * Done-means 5 of issue 3 and point 4 of issue 6: a process killed between writing a certificate and its
 * key — at every step of publishing a bundle version and of recording it in the inventory — leaves a
 * matching pair readable through the public names; the next run removes what the killed one left behind
 * and leaves the inventory matching the files (the inventory journal, src/store/inventory/journal.ts).
 * Drives the built CLI with PKI_TEST_CRASH_AT (SIGKILL). First-time generates, plain files and the other
 * commands that settle a leftover journal: test/store/journal-crash.test.ts.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCerts, certsOf, expectInventoryMatches, expectMatchingPairs, leftovers, publicKeyOfCertificate, STEPS } from '../helpers/bundle-crash.js';
import { initCa, pki } from '../helpers/cli.js';

describe.each([
  [
    'generate --force',
    (dir: string, variant: string) => ['generate', 'redis', variant, '--dir', dir, '--force'],
    // the next run: a no-op generate with the same request
    (dir: string, variant: string) => ['generate', 'redis', variant, '--dir', dir],
  ],
  [
    'renew --rekey',
    (dir: string, variant: string) => ['renew', join(certsOf(dir, variant), 'redis.crt'), '--dir', dir, '--rekey', '--force'],
    // the next run: a renew that is not due
    (dir: string, variant: string) => ['renew', join(certsOf(dir, variant), 'redis.crt'), '--dir', dir],
  ],
])('a crash during %s', (_command, argv, nextRun) => {
  let dir: string;
  beforeAll(() => {
    dir = initCa();
  });

  it('passes every documented step (PKI_TEST_TRACE_STEPS)', () => {
    expect(pki(['generate', 'redis', 'trace', '--dir', dir]).code).toBe(0);
    const r = pki(argv(dir, 'trace'), { env: { PKI_TEST_TRACE_STEPS: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const steps = r.stderr.split('\n').filter((l) => l.startsWith('pki-step ')).map((l) => l.slice(9));
    for (const step of STEPS) expect(steps).toContain(step);
  });

  it.each(STEPS)('at %s leaves a matching pair, and the next run cleans up', (step) => {
    const variant = step.replace(/[^a-z]/g, '');
    expect(pki(['generate', 'redis', variant, '--dir', dir]).code).toBe(0);
    const folder = certsOf(dir, variant);
    const before = publicKeyOfCertificate(join(folder, 'redis.crt'));

    const crashed = pki(argv(dir, variant), { env: { PKI_TEST_CRASH_AT: step } });
    expect(crashed.code, `expected SIGKILL at ${step}: ${crashed.stderr}`).toBe(128);
    expectMatchingPairs(folder);
    const after = publicKeyOfCertificate(join(folder, 'redis.crt'));
    // Before the switch the old pair is live, from it on the new one: never a mix.
    const switched = STEPS.indexOf(step) >= STEPS.indexOf('version:swapped');
    expect(after === before).toBe(!switched);

    // The next run (a no-op) removes the leftovers, leaves the live pair alone, and records what the killed
    // run switched in but had not recorded: the inventory matches the files.
    const next = pki(nextRun(dir, variant));
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).not.toMatch(/^Renewed|^Issued/m);
    expect(leftovers(folder)).toEqual([]);
    expectMatchingPairs(folder);
    expect(publicKeyOfCertificate(join(folder, 'redis.crt'))).toBe(after);
    expectInventoryMatches(dir, bundleCerts(folder));
    // And the bundle keeps working: a full rekey afterwards succeeds and matches.
    const again = pki(['renew', join(folder, 'redis.crt'), '--dir', dir, '--rekey', '--force']);
    expect(again.code, again.stderr).toBe(0);
    expectMatchingPairs(folder);
    expect(leftovers(folder)).toEqual([]);
    expectInventoryMatches(dir, bundleCerts(folder));
  });
});

describe('recovery on generate', () => {
  it('a first generate killed before the switch leaves no bundle files, and the next generate completes it', () => {
    const dir = initCa();
    const crashed = pki(['generate', 'redis', 'first', '--dir', dir], { env: { PKI_TEST_CRASH_AT: 'version:link-tmp' } });
    expect(crashed.code).toBe(128);
    const again = pki(['generate', 'redis', 'first', '--dir', dir]);
    expect(again.code, again.stderr).toBe(0);
    const folder = certsOf(dir, 'first');
    expectMatchingPairs(folder);
    expect(leftovers(folder)).toEqual([]);
  });
});
