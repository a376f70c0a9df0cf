/**
 * writeFileAtomic from pieces (issue 11, W7: `pki check --prometheus` writes its ~100 MB textfile as
 * 400,000 pieces with writev, never concatenated): the file holds the pieces in order across writev
 * batches (IOV_MAX, 1024), with its mode; a write that fails midway — a real full tmpfs (root), and the
 * injected ENOSPC at the write step through the CLI — leaves the old file as it was and no temp file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/store/fs/atomic-write.js';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { expectCliError, expectPkiError } from '../helpers/errors.js';

/** 5,000 pieces of 0 to 99 bytes (five writev batches, some pieces empty), and what they make together. */
function pieces(): { parts: Uint8Array[]; whole: Buffer } {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 5000; i++) parts.push(Buffer.from(`${i}:`.padEnd(i % 100, 'x').slice(0, i % 100)));
  return { parts, whole: Buffer.concat(parts) };
}

describe('writeFileAtomic from pieces', () => {
  it('writes every piece in order across writev batches, with the mode asked for, and no temp file', () => {
    const dir = tempDir('pki-pieces-');
    const file = join(dir, 'pki.prom');
    const { parts, whole } = pieces();
    expect(parts.length).toBeGreaterThan(4 * 1024);
    writeFileAtomic(file, parts, { mode: 0o644, overwrite: true });
    expect(readFileSync(file).equals(whole)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['pki.prom']);
  });
});

const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('pki-mount-probe-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

describe.skipIf(!canMount)('writeFileAtomic from pieces on a full tmpfs (root)', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
  });

  it('a write that runs out of space midway: ERR_IO naming the file, the old file intact, no temp file', () => {
    const dir = tempDir('pki-pieces-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir]);
    mounts.push(dir);
    const file = join(dir, 'pki.prom');
    writeFileSync(file, 'old textfile\n');
    // 200 KB in 2,000 pieces of 100 bytes: the tmpfs fills up in the second or third writev batch.
    const parts = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(100, 48 + (i % 10)));
    const e = expectPkiError(() => writeFileAtomic(file, parts, { mode: 0o644, overwrite: true }), 'ERR_IO');
    expect(e.message).toBe(`cannot write ${file}: no space left on the device`);
    expect(readFileSync(file, 'utf8')).toBe('old textfile\n');
    expect(readdirSync(dir)).toEqual(['pki.prom']);
  });
});

describe('pki check --prometheus when the textfile write fails (PKI_TEST_FAIL_WRITE)', () => {
  it('exits 1 with ERR_IO, keeps the previous textfile as it was and leaves no temp file', () => {
    const ca = initCa();
    const dir = join(tempDir('pki-prom-fail-'), 'textfile');
    mkdirSync(dir);
    const file = join(dir, 'pki.prom');
    expect(pki(['check', '--dir', ca, '--quiet', '--prometheus', file]).code).toBe(0);
    const before = readFileSync(file);
    const r = pki(['check', '--dir', ca, '--json', '--prometheus', file], { env: { PKI_TEST_FAIL_WRITE: 'ENOSPC:write:pki.prom' } });
    expect(expectCliError(r, 'ERR_IO')).toMatch(/no space left on the device/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['pki.prom']);
  });
});
