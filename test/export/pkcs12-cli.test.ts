/**
 * `pki export --p12` end to end (issue 12 "Done means" 1, through the command): the files the CLI writes for
 * RSA-2048, EC P-256 and Ed25519 bundles open in OpenSSL 3 without -legacy with the algorithms we claim,
 * in certtool without a warning and in Java 17 keytool (RSA, EC); mode 0600; `--with-root` adds the root;
 * `--legacy` opens with `openssl pkcs12 -legacy` and warns; `pki inspect` reads each file back.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { KEY_TYPES, writePasswordFile, type KeyTypeName } from './p12-fixtures.js';

const PASSWORD = 'cli-p12-password';
const work = tempDir('pki-p12-cli-');
const passFile = writePasswordFile(join(work, 'pass'), PASSWORD);
let dir: string;

function exportP12(service: string, out: string, extra: readonly string[] = []) {
  const r = pki(['export', service, 'main', '--p12', out, '--password-file', passFile, '--dir', dir, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

beforeAll(() => {
  dir = initCa();
  for (const kt of Object.keys(KEY_TYPES) as KeyTypeName[]) {
    const g = pki(['generate', `cli-${kt}`, 'main', '--no-client', '--dir', dir, ...KEY_TYPES[kt]]);
    expect(g.code, g.stderr).toBe(0);
  }
});

describe.each(Object.keys(KEY_TYPES) as KeyTypeName[])('pki export --p12 of an %s bundle', (kt) => {
  it('is 0600 and opens in OpenSSL 3 (no -legacy), certtool (no warning) and, for RSA and EC, Java keytool', () => {
    const out = join(work, `${kt}.p12`);
    exportP12(`cli-${kt}`, out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const o = runPeer('openssl', ['pkcs12', '-info', '-noout', '-in', out, '-passin', `file:${passFile}`]);
    expect(o.status, o.stderr).toBe(0);
    expect(o.stderr).toContain('MAC: sha256, Iteration 600000');
    expect(o.stderr).toContain('PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256');
    expect(o.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256');
    const c = runPeer('certtool', ['--p12-info', '--inder', '--password', PASSWORD, '--infile', out]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toBe('');
    expect(c.stdout).toContain(`Friendly name: cli-${kt}`);
    if (kt !== 'ed25519') {
      const k = runPeer('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', out, '-storepass:file', passFile]);
      expect(k.status, k.stdout + k.stderr).toBe(0);
      expect(k.stdout).toMatch(new RegExp(`^cli-${kt}, .*PrivateKeyEntry,`, 'm'));
    }
    const i = pki(['inspect', '--json', '--password-file', passFile, out]);
    expect(i.code, i.stderr).toBe(0);
    const bags = (JSON.parse(i.stdout) as { safeContents: { bags: { type: string; friendlyName: string | null }[] }[] }).safeContents.flatMap((s) => s.bags);
    expect(bags.map((b) => [b.type, b.friendlyName])).toEqual([['certificate', `cli-${kt}`], ['certificate', null], ['shroudedKey', `cli-${kt}`]]);
  });
});

describe('pki export --p12 options', () => {
  it('--with-root adds the root as a third certificate', () => {
    const out = join(work, 'with-root.p12');
    exportP12('cli-ec', out, ['--with-root']);
    const o = runPeer('openssl', ['pkcs12', '-in', out, '-passin', `file:${passFile}`, '-nokeys']);
    expect(o.status, o.stderr).toBe(0);
    expect(o.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    expect(o.stdout).toContain('subject=CN = pki Root CA');
  });

  it('--legacy: 3DES and a SHA-1 MAC that openssl -legacy opens, with the warning on stderr', () => {
    const out = join(work, 'legacy.p12');
    const r = exportP12('cli-rsa', out, ['--legacy']);
    expect(r.stderr).toMatch(/3DES and SHA-1/);
    const o = runPeer('openssl', ['pkcs12', '-legacy', '-info', '-noout', '-in', out, '-passin', `file:${passFile}`]);
    expect(o.status, o.stderr).toBe(0);
    expect(o.stderr).toContain('MAC: sha1, Iteration 2048');
    expect(o.stderr).toContain('Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048');
    const k = runPeer('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', out, '-storepass:file', passFile]);
    expect(k.status, k.stdout + k.stderr).toBe(0);
  });
});
