/**
 * README.md keeps its promises (issue 9, point 20): every `sh` example runs as written, in order, the way an
 * operator follows it (a fresh folder, default ./pki home; `pki init` gets --no-password --insecure, the only
 * change, since no one is there to type a passphrase), and the install section works outside the clone.
 * Blocks fenced without `sh` (clone, npm install, development) need a network or a new checkout; the
 * install test below does what they do, offline.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PKI_BIN, tempDir } from '../helpers/cli.js';
import { requirePeer } from '../helpers/peers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The command lines of every ```sh block, comments and blank lines dropped. */
function shellExamples(markdown: string): string[] {
  const lines: string[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}

/** A folder holding a `pki` command that runs this checkout's build, as `npm install -g` would. */
function pkiOnPath(): string {
  const bin = tempDir('pki-readme-bin-');
  writeFileSync(join(bin, 'pki'), `#!/bin/sh\nexec "${process.execPath}" "${PKI_BIN}" "$@"\n`);
  chmodSync(join(bin, 'pki'), 0o755);
  return bin;
}

describe('README.md', () => {
  it('every sh example runs as written, in order, exit 0', () => {
    requirePeer('openssl'); // the sign example makes its request with openssl req
    const examples = shellExamples(README);
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const line of examples) expect(line, 'examples are pki or openssl commands').toMatch(/^(pki|openssl) /);
    const cwd = tempDir('pki-readme-');
    const env = { ...process.env, NO_COLOR: '1', PATH: `${pkiOnPath()}:${process.env.PATH}` };
    delete env.PKI_DIR;
    delete env.PKI_PASSWORD;
    for (const example of examples) {
      const line = example.replace(/^pki init\b/, 'pki init --no-password --insecure');
      const r = spawnSync('/bin/sh', ['-c', line], { cwd, env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${example}\n${r.stderr}`).toBe(0);
    }
    expect(existsSync(join(cwd, 'pki/services/redis/main/certs/redis.crt'))).toBe(true);
  });

  it('the exit-code table says what renew of a not-due certificate does: exit 0', () => {
    expect(README).toMatch(/\| 0 \| success, including "nothing to do": `renew` of a certificate that is not due/);
    expect(README).not.toMatch(/1 refused or failed \([^)]*not due/);
  });
});

describe('installing outside the clone', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('the package is not named pki (the registry has an unrelated pki) and still installs the pki command', () => {
    expect(pkg.name).toBe('pki-ca-manager');
    expect(pkg.bin).toEqual({ pki: 'bin/pki.js' });
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    expect(lock.name).toBe(pkg.name);
    expect(lock.packages[''].name).toBe(pkg.name);
    expect(README).toContain('`pki-ca-manager`');
  });

  it('npm pack ships bin/ and dist/ (the CLI bundle and the library), no sources or tests', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const needed of ['package.json', 'bin/pki.js', 'bin/package.json', 'dist/pki/main.cjs', 'dist/core/index.js', 'dist/core/index.d.ts']) expect(files).toContain(needed);
    expect(files.filter((f) => !/^(bin|dist)\//.test(f) && !/^(package\.json|README\.md|LICENSE)$/.test(f))).toEqual([]);
  });

  it('npm install -g <checkout> (into a temporary prefix, offline) gives a working pki outside the clone', () => {
    const prefix = tempDir('pki-global-');
    const install = spawnSync('npm', ['install', '-g', ROOT, '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { encoding: 'utf8', timeout: 120_000 });
    expect(install.status, install.stderr).toBe(0);
    const outside = tempDir('pki-outside-');
    const run = (args: string[]) => spawnSync(join(prefix, 'bin/pki'), args, { cwd: outside, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    const version = run(['--version']);
    expect(version.stdout.trim()).toBe(pkg.version);
    const init = run(['init', '--no-password', '--insecure', '--json', '--dir', join(outside, 'ca')]);
    expect(init.status, init.stderr).toBe(0);
    expect(run(['inspect', join(outside, 'ca/ca/root_ca.crt')]).stdout).toMatch(/^Certificate \(CA\)/);
  });
});
