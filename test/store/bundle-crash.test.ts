/**
 * Done-means 5 of issue 3: a process killed between writing a certificate and its key — at every step of
 * publishing a bundle version — leaves a matching pair readable through the public names, and the next
 * run removes what the killed one left behind. Drives the built CLI with PKI_TEST_CRASH_AT (SIGKILL).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

const STEPS = [
  'version:created',
  'version:wrote:redis.crt',
  'version:wrote:redis.key',
  'version:complete',
  'version:linked-new',
  'version:link-tmp',
  'version:swapped',
  'version:unlinked-old',
  'version:removing-old',
] as const;

const certsOf = (dir: string, variant: string) => join(dir, 'services', 'redis', variant, 'certs');

function publicKeyOfCertificate(path: string): string {
  return peer('openssl', ['x509', '-in', path, '-noout', '-pubkey']);
}
function publicKeyOfKey(path: string): string {
  return peer('openssl', ['pkey', '-in', path, '-pubout']);
}

/** Every cert/key pair of the bundle matches, read through the public names as a service would. */
function expectMatchingPairs(folder: string): void {
  for (const name of ['redis', 'client']) {
    expect(publicKeyOfCertificate(join(folder, `${name}.crt`)), `${name} pair`).toBe(publicKeyOfKey(join(folder, `${name}.key`)));
  }
  const v = peer('openssl', ['verify', '-CAfile', join(folder, 'ca.crt'), '-untrusted', join(folder, 'redis.crt'), join(folder, 'redis.crt')]);
  expect(v.trim()).toMatch(/: OK$/);
}

/** Names a killed run may leave: temp links/files, version folders `..data` does not name, a lock. */
function leftovers(folder: string): string[] {
  const live = readlinkSync(join(folder, '..data'));
  return readdirSync(folder).filter((n) => (n.startsWith('..') && n !== '..data' && n !== live) || n.startsWith('.pki-tmp-'));
}

describe.each([
  ['generate --force', (dir: string, variant: string) => ['generate', 'redis', variant, '--dir', dir, '--force']],
  ['renew --rekey', (dir: string, variant: string) => ['renew', join(certsOf(dir, variant), 'redis.crt'), '--dir', dir, '--rekey', '--force']],
])('a crash during %s', (_command, argv) => {
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

    // The next run (a no-op renew) removes the leftovers and leaves the live pair alone.
    const next = pki(['renew', join(folder, 'redis.crt'), '--dir', dir]);
    expect(next.code, next.stderr).toBe(0);
    expect(leftovers(folder)).toEqual([]);
    expectMatchingPairs(folder);
    expect(publicKeyOfCertificate(join(folder, 'redis.crt'))).toBe(after);
    // And the bundle keeps working: a full rekey afterwards succeeds and matches.
    const again = pki(['renew', join(folder, 'redis.crt'), '--dir', dir, '--rekey', '--force']);
    expect(again.code, again.stderr).toBe(0);
    expectMatchingPairs(folder);
    expect(leftovers(folder)).toEqual([]);
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
