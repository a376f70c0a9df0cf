import { statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { runPeer } from '../helpers/peers.js';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe('pki init', () => {
  it('creates root and intermediate with the documented modes, encrypted keys that openssl opens only with the passphrase', () => {
    const dir = join(tempDir(), 'ca');
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'correct horse battery\n', { mode: 0o600 });
    const r = pki(['init', '--dir', dir, '--password-file', pw, '--name', 'Acme']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/root_ca\.key belongs offline/);
    expect(mode(join(dir, 'ca/root_ca.crt'))).toBe('644');
    expect(mode(join(dir, 'ca/intermediate_ca.crt'))).toBe('644');
    expect(mode(join(dir, 'ca/root_ca.key'))).toBe('600');
    expect(mode(join(dir, 'ca/intermediate_ca.key'))).toBe('600');
    for (const key of ['root_ca.key', 'intermediate_ca.key']) {
      const path = join(dir, 'ca', key);
      expect(readFileSync(path, 'utf8')).toMatch(/BEGIN ENCRYPTED PRIVATE KEY/);
      // The trailing newline of the password file is not part of the passphrase.
      const ok = runPeer('openssl', ['pkey', '-in', path, '-passin', `file:${pw}`, '-noout']);
      expect(ok.status, ok.stderr).toBe(0);
      const noPass = runPeer('openssl', ['pkey', '-in', path, '-passin', 'pass:', '-noout']);
      expect(noPass.status).not.toBe(0);
      const wrong = runPeer('openssl', ['pkey', '-in', path, '-passin', 'pass:wrong passphrase', '-noout']);
      expect(wrong.status).not.toBe(0);
      // PBES2 with PBKDF2-HMAC-SHA256 600,000 iterations and AES-256-CBC, not legacy DES.
      const asn1 = runPeer('openssl', ['asn1parse', '-in', path]).stdout;
      expect(asn1).toMatch(/PBES2/);
      expect(asn1).toMatch(/hmacWithSHA256/);
      expect(asn1).toMatch(/aes-256-cbc/);
      expect(asn1).toMatch(/INTEGER\s+:0927C0/); // 600000
    }
    const root = runPeer('openssl', ['x509', '-in', join(dir, 'ca/root_ca.crt'), '-noout', '-text']).stdout;
    expect(root).toMatch(/Subject: CN\s?=\s?Acme Root CA/);
    expect(root).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(root).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(root).toMatch(/Subject Key Identifier/);
    const inter = runPeer('openssl', ['x509', '-in', join(dir, 'ca/intermediate_ca.crt'), '-noout', '-text']).stdout;
    expect(inter).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(inter).toMatch(/Authority Key Identifier/);
    const verify = runPeer('openssl', ['verify', '-CAfile', join(dir, 'ca/root_ca.crt'), join(dir, 'ca/intermediate_ca.crt')]);
    expect(verify.stdout).toMatch(/: OK/);
  });

  it('takes the passphrase from PKI_PASSWORD and generate uses it to open the intermediate', () => {
    const dir = join(tempDir(), 'ca');
    const env = { PKI_PASSWORD: 'environment secret' };
    expect(pki(['init', '--dir', dir], { env }).code).toBe(0);
    const g = pki(['generate', 'redis', 'main', '--dir', dir], { env });
    expect(g.code, g.stderr).toBe(0);
  });

  it('refuses a wrong passphrase with one line, exit 1, nothing written', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--dir', dir], { env: { PKI_PASSWORD: 'the right one' } }).code).toBe(0);
    const before = snapshotTree(dir);
    const r = pki(['generate', '--json', 'redis', 'main', '--dir', dir], { env: { PKI_PASSWORD: 'the wrong one' } });
    expect(expectCliError(r, 'ERR_BAD_PASSWORD')).toMatch(/wrong passphrase/);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('without a passphrase source and without a TTY it fails clearly and writes nothing', () => {
    const parent = tempDir();
    const r = pki(['init', '--json', '--dir', join(parent, 'ca')]);
    expect(expectCliError(r, 'ERR_PASSWORD_REQUIRED')).toMatch(/--password-file/);
    expect(snapshotTree(parent)).toBe('');
  });

  it('--no-password without --insecure is a usage error (exit 2)', () => {
    const parent = tempDir();
    const r = pki(['init', '--json', '--no-password', '--dir', join(parent, 'ca')]);
    expect(expectCliError(r, 'ERR_USAGE', 2)).toMatch(/--insecure/);
    expect(snapshotTree(parent)).toBe('');
  });

  it('refuses to re-initialise an existing CA without --force, and replaces it with --force', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const before = snapshotTree(dir);
    const again = pki(['init', '--json', '--no-password', '--insecure', '--dir', dir]);
    expect(expectCliError(again, 'ERR_CA_EXISTS')).toMatch(/already exists.*--force/);
    expect(snapshotTree(dir)).toBe(before);
    const forced = pki(['init', '--no-password', '--insecure', '--dir', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ca/root_ca.crt'), 'utf8')).not.toBe(before.match(/root_ca\.crt/)?.[0]);
  });

  it.each([
    [['--kty', 'RSA', '--size', '1024'], /1024 bits are too weak/, 1, 'ERR_WEAK_KEY'],
    [['--kty', 'EC', '--crv', 'P-192'], /unsupported EC curve/, 1, 'ERR_UNSUPPORTED_KEY'],
    [['--kty', 'DSA'], /unknown key type/, 1, 'ERR_UNSUPPORTED_KEY'],
    [['--root-not-after', 'tomorrow'], /neither a duration nor an RFC 3339 time/, 1, 'ERR_INVALID_TIME'],
    [['--root-not-after', '1y', '--intermediate-not-after', '2y'], /outlive the root/, 1, 'ERR_VALIDITY'],
    [['--bogus'], /unknown option/, 2, null],
  ])('refuses %j', (flags, message, code, errorCode) => {
    const parent = tempDir();
    const r = pki(['init', ...(errorCode ? ['--json'] : []), '--no-password', '--insecure', '--dir', join(parent, 'ca'), ...flags]);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    if (errorCode) expectCliError(r, errorCode, code); // commander's own usage errors have no --json document
    expect(snapshotTree(parent)).toBe('');
  });

  it('--json prints exactly one JSON document', () => {
    const dir = join(tempDir(), 'ca');
    const r = pki(['init', '--no-password', '--insecure', '--dir', dir, '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.keysEncrypted).toBe(false);
    expect(doc.root.subject).toBe('CN=pki Root CA');
    expect(doc.intermediate.subject).toBe('CN=pki Intermediate CA');
  });
});
