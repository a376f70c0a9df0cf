/**
 * `pki generate <service> <variant> --init` (issue 10, point 7): one command from nothing, as mkcert's
 * first run — the CA is created on an empty home and the bundle issued from it in the same process.
 */
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pki, snapshotTree, tempDir, initCa } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

const certs = (dir: string, service = 'redis', variant = 'main') => join(dir, 'services', service, variant, 'certs');
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

/** openssl verify of a bundle certificate (leaf + intermediate) against the CA home's root. */
function verifyAgainstRoot(dir: string, file: string, purpose: string) {
  const leaf = join(certs(dir), file);
  return runPeer('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-untrusted', leaf, leaf]);
}

function passwordFile(secret: string): string {
  const path = join(tempDir(), 'pass');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
}

describe('pki generate --init on a home without a CA', () => {
  it('creates root + intermediate and the bundle in one run; both certificates chain to the new root; keys 0600', () => {
    const dir = join(tempDir(), 'ca');
    const r = pki(['generate', 'redis', 'main', '--init', '--no-password', '--insecure', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const server = verifyAgainstRoot(dir, 'redis.crt', 'sslserver');
    expect(server.stdout.trim(), server.stderr).toBe(`${join(certs(dir), 'redis.crt')}: OK`);
    const client = verifyAgainstRoot(dir, 'client.crt', 'sslclient');
    expect(client.stdout.trim(), client.stderr).toBe(`${join(certs(dir), 'client.crt')}: OK`);
    // ca.crt in the bundle is the new root itself.
    expect(readFileSync(join(certs(dir), 'ca.crt'), 'utf8')).toBe(readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8'));
    for (const key of [join(dir, 'ca', 'root_ca.key'), join(dir, 'ca', 'intermediate_ca.key'), join(certs(dir), 'redis.key'), join(certs(dir), 'client.key')]) {
      expect(mode(key), key).toBe('600');
    }
    // The home is a complete CA afterwards: a plain generate works without --init.
    const next = pki(['generate', 'nginx', 'web', '--dir', dir]);
    expect(next.code, next.stderr).toBe(0);
  });

  it('--json: the generate document plus "ca", the init document (null when the existing CA was used)', () => {
    const dir = join(tempDir(), 'ca');
    const r = pki(['generate', 'redis', 'main', '--init', '--no-password', '--insecure', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r.stdout);
    expect(Object.keys(doc)).toEqual(['folder', 'status', 'key', 'notAfter', 'sans', 'clients', 'files', 'ca']);
    expect(doc.status).toBe('issued');
    expect(doc.files.map((f: { role: string }) => f.role)).toEqual(['trust-anchor', 'service-key', 'service-certificate', 'client-key', 'client-certificate']);
    expect(Object.keys(doc.ca)).toEqual(['dir', 'key', 'keysEncrypted', 'root', 'intermediate', 'crl']);
    expect(doc.ca.dir).toBe(dir);
    expect(doc.ca.keysEncrypted).toBe(false);
    expect(doc.ca.root.certificate).toBe(join(dir, 'ca', 'root_ca.crt'));
    // The serials reported are the ones in the files.
    const serial = runPeer('openssl', ['x509', '-in', join(certs(dir), 'redis.crt'), '-noout', '-serial']).stdout.trim().slice('serial='.length);
    expect(doc.files[2].serial.replace(/:/g, '').toUpperCase()).toBe(serial.toUpperCase());
    const root = runPeer('openssl', ['x509', '-in', join(dir, 'ca', 'root_ca.crt'), '-noout', '-serial']).stdout.trim().slice('serial='.length);
    expect(doc.ca.root.serial.replace(/:/g, '').toUpperCase()).toBe(root.toUpperCase());

    const again = pki(['generate', 'redis', 'main', '--init', '--dir', dir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout)).toEqual({ folder: certs(dir), status: 'up-to-date', files: [], ca: null });
  });

  it('the key flags make the CA keys too (Ed25519 root, intermediate and leaves)', () => {
    const dir = join(tempDir(), 'ca');
    const r = pki(['generate', 'redis', 'main', '--init', '--kty', 'OKP', '--crv', 'Ed25519', '--no-password', '--insecure', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).ca.key).toBe(json(r.stdout).key);
    for (const file of [join(dir, 'ca', 'root_ca.crt'), join(dir, 'ca', 'intermediate_ca.crt'), join(certs(dir), 'redis.crt')]) {
      expect(runPeer('openssl', ['x509', '-in', file, '-noout', '-text']).stdout, file).toMatch(/Public Key Algorithm: ED25519/);
    }
  });

  it('--password-file encrypts the CA keys; later runs need that passphrase', () => {
    const dir = join(tempDir(), 'ca');
    const pass = passwordFile('correct horse battery');
    const r = pki(['generate', 'redis', 'main', '--init', '--password-file', pass, '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).ca.keysEncrypted).toBe(true);
    for (const key of ['root_ca.key', 'intermediate_ca.key']) expect(readFileSync(join(dir, 'ca', key), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(verifyAgainstRoot(dir, 'redis.crt', 'sslserver').status).toBe(0);
    // The same secret opens the intermediate afterwards; none (no terminal) or another one is refused.
    const none = pki(['generate', 'nginx', 'web', '--dir', dir, '--json']);
    expect([none.code, json(none.stdout).error.code]).toEqual([1, 'ERR_PASSWORD_REQUIRED']);
    const wrong = pki(['generate', 'nginx', 'web', '--dir', dir, '--json', '--password-file', passwordFile('another passphrase')]);
    expect([wrong.code, json(wrong.stdout).error.code]).toEqual([1, 'ERR_BAD_PASSWORD']);
    const right = pki(['generate', 'nginx', 'web', '--dir', dir, '--password-file', pass]);
    expect(right.code, right.stderr).toBe(0);
    // PKI_PASSWORD works as for init.
    const env = join(tempDir(), 'ca');
    const viaEnv = pki(['generate', 'redis', 'main', '--init', '--dir', env, '--json'], { env: { PKI_PASSWORD: 'from the environment' } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(json(viaEnv.stdout).ca.keysEncrypted).toBe(true);
  });
});

describe('pki generate --init: refusals leave the disk as it was', () => {
  it('without --init a home with no CA is refused, the hint naming --init', () => {
    const parent = tempDir();
    const r = pki(['generate', 'redis', 'main', '--dir', join(parent, 'ca'), '--json']);
    expect(r.code).toBe(1);
    const error = json(r.stdout).error;
    expect(error.code).toBe('ERR_CA_MISSING');
    expect(error.hint).toMatch(/--init/); // the hint is the contract here
    expect(snapshotTree(parent)).toBe('');
  });

  it('--no-password without --init is a usage error; --no-password without --insecure is refused before anything is written', () => {
    const dir = initCa();
    const before = snapshotTree(dir);
    const r = pki(['generate', 'redis', 'main', '--no-password', '--dir', dir, '--json']);
    expect([r.code, json(r.stdout).error.code]).toEqual([2, 'ERR_USAGE']);
    expect(snapshotTree(dir)).toBe(before);
    const parent = tempDir();
    const insecureMissing = pki(['generate', 'redis', 'main', '--init', '--no-password', '--dir', join(parent, 'ca'), '--json']);
    expect([insecureMissing.code, json(insecureMissing.stdout).error.code]).toEqual([2, 'ERR_USAGE']);
    expect(snapshotTree(parent)).toBe('');
  });

  it('no passphrase source (no terminal, no file, no PKI_PASSWORD): refused, nothing written', () => {
    const parent = tempDir();
    const r = pki(['generate', 'redis', 'main', '--init', '--dir', join(parent, 'ca'), '--json']);
    expect([r.code, json(r.stdout).error.code]).toEqual([1, 'ERR_PASSWORD_REQUIRED']);
    expect(snapshotTree(parent)).toBe('');
  });

  it('a half-made CA (CA files without pki.json) is refused, pointing at pki init --force', () => {
    const parent = tempDir();
    const dir = join(parent, 'ca');
    mkdirSync(join(dir, 'ca'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'ca', 'root_ca.key'), 'left over\n', { mode: 0o600 });
    const before = snapshotTree(parent);
    const r = pki(['generate', 'redis', 'main', '--init', '--no-password', '--insecure', '--dir', dir, '--json']);
    expect(r.code).toBe(1);
    const error = json(r.stdout).error;
    expect(error.code).toBe('ERR_CA_EXISTS');
    expect(error.hint).toMatch(/pki init --force/);
    expect(snapshotTree(parent)).toBe(before);
  });
});

describe('pki generate --init on a home that has a CA', () => {
  it('uses the existing CA unchanged (as step and mkcert do) and asks no new passphrase', () => {
    const dir = initCa();
    const ca = snapshotTree(join(dir, 'ca'));
    const r = pki(['generate', 'redis', 'main', '--init', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).ca).toBeNull();
    expect(json(r.stdout).status).toBe('issued');
    expect(snapshotTree(join(dir, 'ca'))).toBe(ca);
    expect(verifyAgainstRoot(dir, 'redis.crt', 'sslserver').status).toBe(0);
  });
});
