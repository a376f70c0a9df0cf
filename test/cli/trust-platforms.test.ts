/**
 * Issue 12, point 2: the plans `pki trust` prints for the platforms this host is not (RHEL/Fedora, Alpine,
 * Arch, macOS) — exact commands, since an operator copies them — and the flag refusals. Nothing here runs a
 * store command or reads the system store's state, so it may run beside test/cli/trust.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer } from '../helpers/peers.js';

describe('pki trust --platform: other platforms are printed, never run', () => {
  let ca: string;
  let root: string;
  let label: string;
  let sha1: string;

  beforeAll(() => {
    ca = initCa(['--name', 'platforms']);
    root = join(ca, 'ca/root_ca.crt');
    const status = pki(['trust', 'status', '--dir', ca, '--json']);
    label = (JSON.parse(status.stdout) as { root: { label: string } }).root.label;
    sha1 = peer('openssl', ['x509', '-in', root, '-noout', '-fingerprint', '-sha1']).trim().replace(/^.*=/, '').replace(/:/g, '');
  });

  /** The commands of a printed plan: its lines without the # comments. */
  const commands = (stdout: string) => stdout.split('\n').filter((l) => l && !l.startsWith('#'));

  it.each([
    ['rhel', 'install', () => [`install -m 0644 ${root} /etc/pki/ca-trust/source/anchors/${label}.crt`, 'update-ca-trust extract']],
    ['rhel', 'uninstall', () => [`rm -f /etc/pki/ca-trust/source/anchors/${label}.crt`, 'update-ca-trust extract']],
    ['alpine', 'install', () => [`install -m 0644 ${root} /usr/local/share/ca-certificates/${label}.crt`, 'update-ca-certificates']],
    ['alpine', 'uninstall', () => [`rm -f /usr/local/share/ca-certificates/${label}.crt`, 'update-ca-certificates']],
    ['arch', 'install', () => [`trust anchor --store ${root}`]],
    ['arch', 'uninstall', () => [`trust anchor --remove ${root}`]],
    ['macos', 'install', () => [`security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${root}`]],
    ['macos', 'uninstall', () => [`security remove-trusted-cert -d ${root}`, `security delete-certificate -Z ${sha1} /Library/Keychains/System.keychain`]],
  ])('%s %s: the exact commands, exit 0, reason other-platform', (platform, action, expected) => {
    const r = pki(['trust', action, '--dir', ca, '--platform', platform]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`# pki trust ${action} (${platform}): another platform than this host, nothing was changed; run these there as root`);
    expect(commands(r.stdout)).toEqual(expected());
    const json = JSON.parse(pki(['trust', action, '--dir', ca, '--platform', platform, '--json']).stdout) as { executed: boolean; reason: string; stores: { installed: unknown }[] };
    expect(json).toMatchObject({ executed: false, reason: 'other-platform', stores: [{ installed: null }] });
  });

  it('status of another platform cannot be known here: exit 1, state unknown', () => {
    const r = pki(['trust', 'status', '--dir', ca, '--platform', 'rhel', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ installed: false, stores: [{ store: 'system', state: 'unknown', installed: null }] });
  });

  it('a DER root is spelt out as PEM in a here-document, and the printed plan is valid sh', () => {
    const dir = tempDir('pki-trust-der-');
    const der = join(dir, 'root.der');
    peer('openssl', ['x509', '-in', root, '-outform', 'DER', '-out', der]);
    const r = pki(['trust', 'install', '--root', der, '--platform', 'rhel']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`cat > /etc/pki/ca-trust/source/anchors/${label}.crt <<'PKI_EOF'\n${readFileSync(root, 'utf8').trimEnd()}\nPKI_EOF`);
    const syntax = spawnSync('sh', ['-n'], { input: r.stdout, encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
  });

  it('an expired root is refused by install, but uninstall and status still take it (it must be able to come out)', () => {
    const later = { PKI_TEST_NOW: '2040-01-01T00:00:00Z' };
    expectCliError(pki(['trust', 'install', '--dir', ca, '--platform', 'rhel', '--dry-run', '--json'], { env: later }), 'ERR_ISSUER_EXPIRED');
    const r = pki(['trust', 'uninstall', '--dir', ca, '--platform', 'rhel'], { env: later });
    expect(r.code, r.stderr).toBe(0);
    expect(commands(r.stdout)).toEqual([`rm -f /etc/pki/ca-trust/source/anchors/${label}.crt`, 'update-ca-trust extract']);
    expect(pki(['trust', 'status', '--dir', ca, '--platform', 'rhel'], { env: later }).code).toBe(1);
  });

  it.each([
    [['--platform', 'windows'], 'ERR_USAGE', 2],
    [['--java-keystore', '/nonexistent/cacerts'], 'ERR_USAGE', 2],
    [['--java', '--java-keystore', '/nonexistent/cacerts', '--dry-run'], 'ERR_FILE_NOT_FOUND', 1],
  ])('refuses %j with %s', (flags, code, exit) => {
    expectCliError(pki(['trust', 'install', '--dir', ca, ...flags, '--json']), code, exit);
  });
});
