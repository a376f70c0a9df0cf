/**
 * docs/systemd/pki-serve.service (issue 13): `systemd-analyze verify` accepts it, and the command line it
 * runs works as written against a CA home with the passphrase from its credential file — it starts and
 * says where it listens, `ExecReload=`'s SIGHUP reloads pki.json, and `KillSignal=`'s SIGTERM stops it with
 * exit 0 — with the unit's listen addresses swapped for free ports.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PKI_BIN, pki, tempDir } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { waitForExit } from '../helpers/process.js';
import { startPkiServe } from '../helpers/serve.js';

const UNIT = resolve(import.meta.dirname, '../../docs/systemd/pki-serve.service');
const text = () => readFileSync(UNIT, 'utf8');
const directive = (name: string) => text().split('\n').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);

describe('docs/systemd/pki-serve.service', () => {
  it('is accepted by systemd-analyze verify, reloads with SIGHUP and stops with SIGTERM', () => {
    const dir = tempDir('pki-unit-serve-');
    writeFileSync(join(dir, 'pki-serve.service'), text().replaceAll('/usr/local/bin/pki', PKI_BIN));
    const r = runPeer('systemd-analyze', ['verify', join(dir, 'pki-serve.service')], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(directive('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(directive('KillSignal')).toBe('SIGTERM');
    expect(directive('Environment')).toBe('PKI_DIR=/var/lib/pki');
    expect(directive('ExecStart')!.split(' ').slice(0, 2)).toEqual(['/usr/local/bin/pki', 'serve']);
  });

  it("its command serves with the passphrase from the credential; SIGHUP reloads, SIGTERM exits 0", async () => {
    const work = tempDir('pki-unit-serve-run-');
    const home = join(work, 'ca');
    writeFileSync(join(work, 'pass'), 'correct horse battery staple\n', { mode: 0o600 });
    expect(pki(['init', '--dir', home, '--password-file', join(work, 'pass')]).code).toBe(0);
    const credentials = join(work, 'credentials');
    mkdirSync(credentials);
    copyFileSync(join(work, 'pass'), join(credentials, 'pki-password'));
    const words = directive('ExecStart')!
      .split(' ')
      .slice(2)
      .map((w) => w.replace('${CREDENTIALS_DIRECTORY}', credentials).replace(/^127\.0\.0\.1:\d+$/, '127.0.0.1:0'));
    expect(words).toContain('--password-file');
    // The helper never passes PKI_DIR on: --dir stands in for Environment=.
    const server = await startPkiServe(home, { args: words });
    try {
      expect(server.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      process.kill(server.pid, 'SIGHUP');
      await server.stderr.waitFor(/"message":"reloaded pki.json"/);
      process.kill(server.pid, 'SIGTERM');
      expect(await waitForExit(server.child, 15_000)).toEqual({ code: 0, signal: null });
      expect(server.stdout.text + server.stderr.text).not.toMatch(/correct horse/);
    } finally {
      await server.stop();
    }
  });
});
