/**
 * Issue 6 point 4, the inventory side: a bundle's first generate and a plain file's renew killed at every
 * step leave, after the next run, the inventory matching the files; and a journal left by a kill right
 * after the switch is settled by `pki renew --all`, `pki db rebuild` and `pki revoke <file>`
 * (src/store/inventory/journal.ts). Drives the built CLI with PKI_TEST_CRASH_AT (SIGKILL).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCerts, certsOf, expectInventoryMatches, expectMatchingPairs, leftovers, serialOf, STEPS } from '../helpers/bundle-crash.js';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';
import { bundleJournalPath, fileJournalPath } from '../../src/store/inventory/journal.js';

/** Where pki keeps a folder's or a file's inventory journal: the CA home's db/journal/ (issue 9 point 3). */
const inventoryOf = (dir: string) => ({ path: join(dir, 'db', 'pki.sqlite') });
const bundleJournal = (dir: string, folder: string) => bundleJournalPath(folder, inventoryOf(dir));
const fileJournal = (dir: string, crt: string) => fileJournalPath(crt, inventoryOf(dir));

describe('a first generate killed at every step', () => {
  let dir: string;
  beforeAll(() => {
    dir = initCa();
  });
  // A first version has no old one to remove.
  it.each(STEPS.filter((s) => s !== 'version:removing-old'))('at %s: the next generate completes the bundle and the inventory matches', (step) => {
    const variant = `first${step.replace(/[^a-z]/g, '')}`;
    const crashed = pki(['generate', 'redis', variant, '--dir', dir], { env: { PKI_TEST_CRASH_AT: step } });
    expect(crashed.code, `expected SIGKILL at ${step}: ${crashed.stderr}`).toBe(128);
    const folder = certsOf(dir, variant);
    const switched = STEPS.indexOf(step) >= STEPS.indexOf('version:swapped');
    expect(existsSync(join(folder, 'redis.crt'))).toBe(switched);
    const again = pki(['generate', 'redis', variant, '--dir', dir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    // Switched already: the next run only records it; otherwise it issues the bundle.
    expect(JSON.parse(again.stdout).status).toBe(switched ? 'up-to-date' : 'issued');
    expectMatchingPairs(folder);
    expect(leftovers(folder)).toEqual([]);
    expectInventoryMatches(dir, bundleCerts(folder));
  });
});

describe('a leftover journal is settled by', () => {
  /** A bundle whose generate --force was killed right after the switch: new files, inventory naming the old serials. */
  function killedAfterSwitch(dir: string, variant: string): string {
    expect(pki(['generate', 'redis', variant, '--dir', dir]).code).toBe(0);
    expect(pki(['generate', 'redis', variant, '--dir', dir, '--force'], { env: { PKI_TEST_CRASH_AT: 'version:swapped' } }).code).toBe(128);
    const folder = certsOf(dir, variant);
    expect(existsSync(bundleJournal(dir, folder))).toBe(true);
    return folder;
  }

  it('pki renew --all, for a certificate it renews, before renewing it', () => {
    const dir = initCa();
    const folder = killedAfterSwitch(dir, 'all');
    const r = pki(['renew', '--all', '--expires-in', '400d', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recorded serials .* in the inventory/);
    expect(existsSync(bundleJournal(dir, folder))).toBe(false);
    // The stale records named the same two paths: each path renewed once, from the live (journaled) serial.
    const report = JSON.parse(r.stdout) as { renewed: number; certificates: { path: string; serial: string }[] };
    expect(report.renewed).toBe(2);
    expectInventoryMatches(dir, bundleCerts(folder));
  });

  it('pki db rebuild', () => {
    const dir = initCa();
    const folder = killedAfterSwitch(dir, 'rebuild');
    const r = pki(['db', 'rebuild', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recorded serials .* in the inventory/);
    expect(existsSync(bundleJournal(dir, folder))).toBe(false);
    expectInventoryMatches(dir, bundleCerts(folder));
  });

  it('pki revoke of the switched-in certificate file', () => {
    const dir = initCa();
    const folder = killedAfterSwitch(dir, 'revoke');
    const r = pki(['revoke', join(folder, 'client.crt'), '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(bundleJournal(dir, folder))).toBe(false);
    expectInventoryMatches(dir, [join(folder, 'redis.crt')]);
  });
});

describe('a crash during renew of a plain file (pki sign --out)', () => {
  // The journal's write step is named after its file, db/journal/file-<hash of the path>.json: 'write:journal' stands for it.
  const PLAIN_STEPS = ['write:journal', 'journal:written', 'write:web.crt', 'journal:recorded', 'journal:removed'] as const;
  const stepName = (step: string, crt: string) => (step === 'write:journal' ? `write:${basename(fileJournal(dir, crt))}` : step);
  let dir: string;
  let work: string;
  beforeAll(() => {
    dir = initCa();
    work = tempDir('pki-plain-crash-');
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'web.key'), '-out', join(work, 'web.csr'), '-subj', '/CN=web.example.com']);
  });

  it('passes every step (PKI_TEST_TRACE_STEPS)', () => {
    const crt = join(work, 'trace', 'web.crt');
    mkdirSync(join(work, 'trace'));
    expect(pki(['sign', join(work, 'web.csr'), '--dir', dir, '--out', crt]).code).toBe(0);
    const r = pki(['renew', crt, '--dir', dir, '--force'], { env: { PKI_TEST_TRACE_STEPS: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const steps = r.stderr.split('\n').filter((l) => l.startsWith('pki-step ')).map((l) => l.slice(9));
    expect(steps).toEqual(PLAIN_STEPS.map((s) => stepName(s, crt)));
  });

  it.each(PLAIN_STEPS)('at %s: the file holds the old or the new certificate, and after the next run the inventory matches it', (step) => {
    const sub = join(work, step.replace(/[^a-z]/g, ''));
    mkdirSync(sub);
    const crt = join(sub, 'web.crt');
    expect(pki(['sign', join(work, 'web.csr'), '--dir', dir, '--out', crt]).code).toBe(0);
    const before = serialOf(crt);
    const crashed = pki(['renew', crt, '--dir', dir, '--force'], { env: { PKI_TEST_CRASH_AT: stepName(step, crt) } });
    expect(crashed.code, `expected SIGKILL at ${step}: ${crashed.stderr}`).toBe(128);
    const replaced = PLAIN_STEPS.indexOf(step) > PLAIN_STEPS.indexOf('write:web.crt');
    expect(serialOf(crt) !== before).toBe(replaced);

    const next = pki(['renew', crt, '--dir', dir]); // not due: settles the journal, changes no file
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^Not due/);
    expect(existsSync(fileJournal(dir, crt))).toBe(false);
    expectInventoryMatches(dir, [crt]);
    const again = pki(['renew', crt, '--dir', dir, '--force']);
    expect(again.code, again.stderr).toBe(0);
    expectInventoryMatches(dir, [crt]);
  });
});
