/**
 * Issue 6 point 4: a full disk, permission denied and a read-only CA home. Each failing command exits 1
 * with one line saying what happened; afterwards the CA home is unchanged (no half-written file in place
 * of a good one, the inventory as before) and the next successful run leaves no temp file behind.
 *
 * Two ways in: PKI_TEST_FAIL_WRITE=<ERRNO>:<step> (src/store/fs/fault-injection.ts) fails one exact write
 * step, on any machine; as root, real faults: a full tmpfs, a tmpfs remounted read-only, and the CLI run
 * as `nobody` against a folder it may not write.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, PKI_BIN, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

const WHY = {
  ENOSPC: 'no space left on the device',
  EACCES: 'permission denied',
  EROFS: 'the file system is read-only',
} as const;

/** Every leftover of an interrupted write under `dir`: temp files and version folders no link names. */
function orphans(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (name.startsWith('.pki-tmp-') || name === '..data_tmp') out.push(path);
      if (statSync(path, { throwIfNoEntry: false })?.isDirectory() && !name.startsWith('..')) walk(path);
    }
  };
  walk(dir);
  return out;
}

/** snapshotTree without folder lines: a failed first write may leave the empty folders it created. */
const filesOf = (dir: string) =>
  snapshotTree(dir)
    .split('\n')
    .filter((l) => !/\/ \d+$/.test(l) && !/pki\.sqlite-(wal|shm) /.test(l)) // SQLite's own sidecars, which it recovers on the next open
    .join('\n');

function inventoryRows(dir: string): string[] {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { fileMustExist: true });
  try {
    return (db.prepare('SELECT serial, status, certificate_path FROM certificates ORDER BY serial').all() as object[]).map((r) => JSON.stringify(r));
  } finally {
    db.close();
  }
}

/** Serials of the certificate files the inventory names as valid leaves, against the files on disk. */
function expectInventoryMatchesFiles(dir: string): void {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true });
  try {
    const rows = db.prepare("SELECT serial, certificate_path AS path FROM certificates WHERE status = 'valid' AND profile NOT IN ('root', 'intermediate') AND certificate_path IS NOT NULL").all() as { serial: string; path: string }[];
    for (const { serial, path: stored } of rows) {
      const path = resolve(dir, stored); // paths inside the CA home are stored relative to it (issue 9)
      expect(peer('openssl', ['x509', '-in', path, '-noout', '-serial']).trim(), path).toBe(`serial=${serial}`);
    }
  } finally {
    db.close();
  }
}

describe('an injected write failure at every write step (PKI_TEST_FAIL_WRITE)', () => {
  let ca: string;
  let work: string;
  beforeAll(() => {
    ca = initCa();
    work = tempDir('pki-faults-');
    expect(pki(['generate', 'redis', 'main', '--dir', ca]).code).toBe(0);
    const csr = join(work, 'web.csr');
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'web.key'), '-out', csr, '-subj', '/CN=web.example.com']);
    expect(pki(['sign', csr, '--dir', ca, '--out', join(work, 'web.crt')]).code).toBe(0);
    expect(pki(['crl', '--der', '--dir', ca]).code).toBe(0);
  });
  const certs = () => join(ca, 'services', 'redis', 'main', 'certs');
  const serialOf = (path: string) => peer('openssl', ['x509', '-in', path, '-noout', '-serial']).trim().replace('serial=', '');

  const cases: [string, () => string[], string, keyof typeof WHY][] = [
    ['generate (new bundle)', () => ['generate', 'fresh', 'main'], 'version:created', 'EACCES'],
    ['generate (new bundle)', () => ['generate', 'fresh', 'main'], 'version:wrote:fresh.key', 'ENOSPC'],
    ['generate (new bundle)', () => ['generate', 'fresh', 'main'], 'version:wrote:client.crt', 'EROFS'],
    ['generate --force', () => ['generate', 'redis', 'main', '--force'], 'version:wrote:redis.crt', 'ENOSPC'],
    ['generate --force', () => ['generate', 'redis', 'main', '--force'], 'version:wrote:client.key', 'EACCES'],
    ['renew --rekey (bundle)', () => ['renew', join(certs(), 'redis.crt'), '--force', '--rekey'], 'version:wrote:redis.key', 'ENOSPC'],
    ['renew (plain file)', () => ['renew', join(work, 'web.crt'), '--force'], 'write:web.crt', 'EROFS'],
    ['revoke', () => ['revoke', serialOf(join(work, 'web.crt'))], 'write:intermediate_ca.crl.der', 'ENOSPC'],
    ['revoke', () => ['revoke', serialOf(join(work, 'web.crt'))], 'write:intermediate_ca.crl', 'EACCES'],
    ['crl', () => ['crl'], 'write:intermediate_ca.crl', 'EROFS'],
  ];

  it.each(cases)('%s failing with %s at %s: one line, nothing changed, the next run succeeds cleanly', (_name, argv, step, errno) => {
    const before = filesOf(ca);
    const beforeWork = snapshotTree(work);
    const rows = inventoryRows(ca);
    const r = pki([...argv(), '--dir', ca], { env: { PKI_TEST_FAIL_WRITE: `${errno}:${step}` } });
    const line = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('  ')).join('\n');
    expect(r.code, r.stderr).toBe(1);
    expect(line).toMatch(new RegExp(`cannot write .*: ${WHY[errno]}`));
    if (!argv()[0]!.startsWith('renew')) expectOneLineError(r);
    expect(filesOf(ca)).toBe(before);
    expect(snapshotTree(work)).toBe(beforeWork);
    expect(inventoryRows(ca)).toEqual(rows);
    expect(orphans(ca)).toEqual([]);
  });

  it('after all of them the same commands succeed and the inventory matches the files', () => {
    for (const args of [['generate', 'fresh', 'main'], ['generate', 'redis', 'main', '--force'], ['renew', join(certs(), 'redis.crt'), '--force', '--rekey'], ['crl']]) {
      const r = pki([...args, '--dir', ca]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(orphans(ca)).toEqual([]);
    expectInventoryMatchesFiles(ca);
  });
});

const isRoot = process.getuid?.() === 0;
function canMount(): boolean {
  if (!isRoot) return false;
  const probe = tempDir('pki-mount-probe-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
}
const mountable = canMount();

describe.skipIf(!mountable)('real faults on a tmpfs (root)', () => {
  const mounts: string[] = [];
  function tmpfs(size: string): string {
    const dir = tempDir('pki-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  }
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
  });

  it('a full disk: generate says so in one line, leaves nothing behind, and works once space is freed', () => {
    const mount = tmpfs('1m');
    const ca = join(mount, 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', ca]).code).toBe(0);
    expect(pki(['generate', 'redis', 'main', '--dir', ca]).code).toBe(0);
    const rows = inventoryRows(ca);
    // Fill the file system to the last block.
    const filler = join(mount, 'filler');
    spawnSync('sh', ['-c', `dd if=/dev/zero of=${filler} bs=4k 2>/dev/null; sync`]);
    const before = filesOf(ca);
    const r = pki(['generate', 'big', 'main', '--client', 'a', '--client', 'b', '--dir', ca]);
    expect(expectOneLineError(r)).toMatch(/no space left on the device/);
    expect(filesOf(ca)).toBe(before);
    const force = pki(['generate', 'redis', 'main', '--force', '--dir', ca]);
    expect(expectOneLineError(force)).toMatch(/no space left on the device/);
    expect(filesOf(ca)).toBe(before);
    rmSync(filler);
    expect(inventoryRows(ca)).toEqual(rows);
    expect(pki(['generate', 'big', 'main', '--client', 'a', '--client', 'b', '--dir', ca]).code).toBe(0);
    expect(pki(['generate', 'redis', 'main', '--force', '--dir', ca]).code).toBe(0);
    expect(orphans(ca)).toEqual([]);
    expectInventoryMatchesFiles(ca);
  });

  it('a read-only CA home: every writing command refuses in one line and nothing changes', () => {
    const mount = tmpfs('4m');
    const ca = join(mount, 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', ca]).code).toBe(0);
    expect(pki(['generate', 'redis', 'main', '--dir', ca]).code).toBe(0);
    const crt = join(ca, 'services', 'redis', 'main', 'certs', 'redis.crt');
    const serial = peer('openssl', ['x509', '-in', crt, '-noout', '-serial']).trim().replace('serial=', '');
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    try {
      const before = snapshotTree(ca);
      for (const args of [['generate', 'other', 'main'], ['generate', 'redis', 'main', '--force'], ['revoke', serial], ['crl']]) {
        const r = pki([...args, '--dir', ca]);
        expect(expectOneLineError(r), args.join(' ')).toMatch(/read-only/);
      }
      const renew = pki(['renew', crt, '--force', '--dir', ca]);
      expect(renew.code).toBe(1);
      expect(renew.stderr).toMatch(/read-only/);
      // The inventory is in WAL mode: SQLite needs to write its -shm file even to read, so list says why too.
      expect(expectOneLineError(pki(['list', '--dir', ca]))).toMatch(/inventory .*pki\.sqlite: the file system is read-only/);
      expect(snapshotTree(ca)).toBe(before);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mount]);
    }
    expect(pki(['generate', 'other', 'main', '--dir', ca]).code).toBe(0);
    expect(orphans(ca)).toEqual([]);
  });
});

const hasSetpriv = isRoot && spawnSync('setpriv', ['--version']).status === 0;

describe.skipIf(!hasSetpriv)('permission denied (the CLI run as nobody)', () => {
  it('an output folder the user may not write: one line naming it, nothing written', () => {
    const base = tempDir('pki-nobody-');
    chmodSync(base, 0o755);
    const ca = join(base, 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', ca]).code).toBe(0);
    execFileSync('chown', ['-R', 'nobody:nogroup', ca]);
    const out = join(base, 'root-only');
    mkdirSync(out, { mode: 0o755 }); // owned by root: nobody may not create files in it
    const nobody = (args: string[]) =>
      spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, PKI_BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, NO_COLOR: '1' } });
    const before = snapshotTree(base);
    const r = nobody(['generate', 'redis', 'main', '--dir', ca, '--out', out]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`cannot .*${out}.*: permission denied`));
    expect(snapshotTree(base)).toBe(before);
    // The same user writing into the CA home works.
    const ok = nobody(['generate', 'redis', 'main', '--dir', ca]);
    expect(ok.status, ok.stderr).toBe(0);
    void chownSync;
    void writeFileSync;
  });
});
