/**
 * The systemd units of docs/systemd/ (issue 11, point 5): `systemd-analyze verify` accepts them, and the
 * pki command line each service runs works as written against a CA home — pki-check.service writes the
 * textfile, pki-renew.service renews a due certificate with the passphrase from its credential file.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PKI_BIN, pki, tempDir } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

const UNITS = resolve(import.meta.dirname, '../../docs/systemd');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** The ExecStart= words of a unit, split as systemd does for this simple case (double quotes group). */
function execStart(unit: string): string[] {
  const line = readFileSync(join(UNITS, unit), 'utf8').split('\n').find((l) => l.startsWith('ExecStart='))!;
  return [...line.slice('ExecStart='.length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

const environment = (unit: string) =>
  Object.fromEntries(
    readFileSync(join(UNITS, unit), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Environment='))
      .map((l) => l.slice('Environment='.length).split('=') as [string, string]),
  );

describe('docs/systemd', () => {
  it('holds a service + timer pair for pki check and for pki renew --all, which systemd-analyze verify accepts', () => {
    // pki-serve.service has its own test (test/cli/systemd-serve.test.ts)
    const units = readdirSync(UNITS).filter((n) => /^pki-(check|renew)\./.test(n));
    expect(units.sort()).toEqual(['pki-check.service', 'pki-check.timer', 'pki-renew.service', 'pki-renew.timer']);
    const dir = tempDir('pki-units-');
    for (const name of units) {
      writeFileSync(join(dir, name), readFileSync(join(UNITS, name), 'utf8').replaceAll('/usr/local/bin/pki', PKI_BIN));
    }
    const r = runPeer('systemd-analyze', ['verify', ...readdirSync(dir).map((n) => join(dir, n))], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(execStart('pki-check.service').slice(1, 2)).toEqual(['check']);
    expect(execStart('pki-renew.service').slice(1, 3)).toEqual(['renew', '--all']);
  });

  it("pki-check.service's command writes the textfile into node_exporter's folder", () => {
    const home = join(tempDir('pki-unit-check-'), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', home]).code).toBe(0);
    const textDir = tempDir('pki-unit-textfile-');
    const words = execStart('pki-check.service').map((w) => w.replace('/var/lib/prometheus/node-exporter', textDir));
    expect(environment('pki-check.service')).toEqual({ PKI_DIR: '/var/lib/pki' });
    // The helper never passes PKI_DIR on (a test must not act on another home): --dir stands in for Environment=.
    const r = pki([...words.slice(1), '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(''); // --quiet: nothing for the journal
    expect(readFileSync(join(textDir, 'pki.prom'), 'utf8')).toMatch(/^x509_cert_not_after\{filename="root_ca\.crt",/m);
  });

  it("pki-renew.service's command renews a due certificate with the passphrase from the credential", () => {
    const work = tempDir('pki-unit-renew-');
    const credentials = join(work, 'credentials');
    const home = join(work, 'ca');
    writeFileSync(join(work, 'pass'), 'correct horse battery staple\n', { mode: 0o600 });
    expect(pki(['init', '--dir', home, '--password-file', join(work, 'pass')]).code).toBe(0);
    const now = Date.now();
    const g = pki(['generate', 'web', 'main', '--dir', home, '--no-client', '--password-file', join(work, 'pass'), '--not-before', iso(now - 80 * DAY), '--not-after', iso(now + 10 * DAY)]);
    expect(g.code, g.stderr).toBe(0);
    const before = readFileSync(join(home, 'services/web/main/certs/web.crt'), 'utf8');
    // systemd's LoadCredential= puts the file in $CREDENTIALS_DIRECTORY under the credential's name.
    mkdirSync(credentials);
    copyFileSync(join(work, 'pass'), join(credentials, 'pki-password'));
    const marker = join(work, 'reloaded');
    const words = execStart('pki-renew.service').map((w) => w.replace('${CREDENTIALS_DIRECTORY}', credentials));
    const exec = words.indexOf('--exec');
    expect(words[exec + 1]).toMatch(/systemctl reload/);
    words[exec + 1] = `touch ${marker}`; // what the unit reloads is the operator's; the hook must run
    const r = pki([...words.slice(1), '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(home, 'services/web/main/certs/web.crt'), 'utf8')).not.toBe(before);
    expect(existsSync(marker)).toBe(true);
    expect(r.stdout + r.stderr).not.toMatch(/correct horse/);
  });
});
