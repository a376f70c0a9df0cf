import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PkiError } from '../../src/core/errors.js';
import { isVersionedFolder, publishVersion, recoverVersionedFolder, versionedEntry, withFolderLock } from '../../src/store/fs/versioned-folder.js';
import { tempDir } from '../helpers/cli.js';

const files = (tag: string) => [
  { name: 'svc.crt', content: `cert ${tag}\n`, mode: 0o644 },
  { name: 'svc.key', content: `key ${tag}\n`, mode: 0o600 },
];
const hidden = (folder: string) => readdirSync(folder).filter((n) => n.startsWith('.')).sort();

/** The pid of a process that has exited (and is confirmed gone: on a busy machine a pid can be reused). */
function deadPid(): number {
  for (let attempt = 0; attempt < 10; attempt++) {
    const pid = spawnSync('true').pid!;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
  throw new Error('every pid of an exited `true` was reused at once');
}

describe('publishVersion', () => {
  it('ok writes a version behind ..data with public links and exact modes', () => {
    const folder = tempDir();
    publishVersion(folder, files('1'), { noClobber: true, keepOthers: false });
    expect(isVersionedFolder(folder)).toBe(true);
    expect(readlinkSync(join(folder, 'svc.crt'))).toBe('..data/svc.crt');
    expect(readFileSync(join(folder, 'svc.key'), 'utf8')).toBe('key 1\n');
    expect(statSync(join(folder, 'svc.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(folder, 'svc.crt')).mode & 0o777).toBe(0o644);
    expect(hidden(folder)).toHaveLength(2); // ..data and one version
    expect(versionedEntry(join(folder, 'svc.crt'))).toEqual({ folder, name: 'svc.crt' });
    expect(versionedEntry(join(folder, '..data', 'svc.crt'))).toEqual({ folder, name: 'svc.crt' });
  });

  it('ok keepOthers carries the other files over as the same inode; the old version is gone', () => {
    const folder = tempDir();
    publishVersion(folder, [...files('1'), { name: 'ca.crt', content: 'ca\n', mode: 0o644 }], { noClobber: true, keepOthers: false });
    const caInode = statSync(join(folder, 'ca.crt')).ino;
    publishVersion(folder, [files('2')[0]!], { noClobber: false, keepOthers: true });
    expect(readFileSync(join(folder, 'svc.crt'), 'utf8')).toBe('cert 2\n');
    expect(readFileSync(join(folder, 'svc.key'), 'utf8')).toBe('key 1\n');
    expect(statSync(join(folder, 'ca.crt')).ino).toBe(caInode);
    expect(hidden(folder)).toHaveLength(2);
  });

  it('ok without keepOthers, names the new version lacks lose their links', () => {
    const folder = tempDir();
    publishVersion(folder, [...files('1'), { name: 'old.crt', content: 'x', mode: 0o644 }], { noClobber: true, keepOthers: false });
    publishVersion(folder, files('2'), { noClobber: false, keepOthers: false });
    expect(readdirSync(folder).filter((n) => !n.startsWith('.')).sort()).toEqual(['svc.crt', 'svc.key']);
  });

  it('fail noClobber refuses before writing anything (ERR_FILE_EXISTS)', () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'svc.key'), 'mine');
    let code = 'no error';
    try {
      publishVersion(folder, files('1'), { noClobber: true, keepOthers: false });
    } catch (e) {
      code = (e as PkiError).code;
    }
    expect(code).toBe('ERR_FILE_EXISTS');
    expect(readdirSync(folder)).toEqual(['svc.key']);
  });

  it('ok migrates a flat folder: plain files become links to the new version', () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'svc.crt'), 'flat cert');
    writeFileSync(join(folder, 'svc.key'), 'flat key');
    publishVersion(folder, files('1'), { noClobber: false, keepOthers: false });
    expect(lstatSync(join(folder, 'svc.crt')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(folder, 'svc.key'), 'utf8')).toBe('key 1\n');
  });
});

describe('recoverVersionedFolder and the lock', () => {
  it('ok removes orphans, temp links, dangling links and finishes a half-done migration; a clean folder is untouched', () => {
    const folder = tempDir();
    publishVersion(folder, files('1'), { noClobber: true, keepOthers: false });
    expect(recoverVersionedFolder(folder)).toBe(false);
    mkdirSync(join(folder, '..2020_01_01_00_00_00.0123456789ab'));
    writeFileSync(join(folder, '..2020_01_01_00_00_00.0123456789ab', 'svc.crt'), 'orphan');
    writeFileSync(join(folder, '.pki-tmp-svc.crt.abcdef'), 'temp');
    spawnSync('ln', ['-s', '..2020_01_01_00_00_00.0123456789ab', join(folder, '..data_tmp')]);
    spawnSync('ln', ['-s', '..data/gone.crt', join(folder, 'gone.crt')]);
    const live = readlinkSync(join(folder, '..data'));
    writeFileSync(join(folder, 'svc.key.plain'), ''); // foreign file: left alone
    expect(recoverVersionedFolder(folder)).toBe(true);
    expect(readdirSync(folder).sort()).toEqual([live, '..data', 'svc.crt', 'svc.key', 'svc.key.plain'].sort());
  });

  it('ok a lock left by a dead process is taken over; a live holder makes the writer wait', () => {
    const folder = tempDir();
    const dead = deadPid();
    writeFileSync(join(folder, '..lock'), `${dead}\n`);
    expect(recoverVersionedFolder(folder)).toBe(true); // the stale lock alone is a leftover
    expect(readdirSync(folder)).toEqual([]);
    writeFileSync(join(folder, '..lock'), `${process.pid}\n`); // held by a live process (us)
    let code = 'no error';
    try {
      withFolderLock(folder, () => undefined, 200);
    } catch (e) {
      code = (e as PkiError).code;
    }
    expect(code).toBe('ERR_LOCKED');
  });

  it('the lock is re-entrant within a process (publish + inventory record under one lock), and released after', () => {
    const folder = tempDir();
    const versions: string[] = [];
    withFolderLock(folder, () => {
      publishVersion(folder, files('1'), { noClobber: true, keepOthers: false, beforeSwitch: (v) => versions.push(v) });
      expect(readFileSync(join(folder, '..lock'), 'utf8')).toBe(`${process.pid}\n`);
    });
    expect(versions).toEqual([readlinkSync(join(folder, '..data'))]);
    expect(hidden(folder)).toEqual([versions[0], '..data'].sort());
  });
});
