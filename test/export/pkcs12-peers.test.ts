/**
 * Issue 12 "Done means" 1: the .p12 files pki writes (core/export/pkcs12.ts, as `pki export --p12` calls
 * it) open in OpenSSL 3 without -legacy, in GnuTLS certtool without a warning and in Java 17's keytool,
 * for RSA-2048, EC P-256 and Ed25519 keys (Java: RSA and EC), and the peers report the algorithms we
 * claim. The --legacy form opens with `openssl pkcs12 -legacy` (and, 3DES being in OpenSSL 3's default
 * provider, without it too).
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, tempDir } from '../helpers/cli.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { generateBundle, KEY_TYPES, pemBlocks, writeP12, writePasswordFile, type Bundle, type KeyTypeName } from './p12-fixtures.js';

/** Non-ASCII on purpose: the MAC key comes from a BMPString of the password, PBKDF2 from its UTF-8. */
const PASSWORD = 'Tür-zu 7 Schlüssel';
/** Java 17 reads -storepass:file in the platform charset (ASCII under LANG=C): an ASCII password for it. */
const JAVA_PASSWORD = 'changeit-but-longer';

const work = tempDir('pki-p12-peers-');
const bundles = {} as Record<KeyTypeName, Bundle>;
const modern = {} as Record<KeyTypeName, string>;
const passFile = writePasswordFile(join(work, 'p12.pass'), PASSWORD);
const javaPassFile = writePasswordFile(join(work, 'java.pass'), JAVA_PASSWORD);

beforeAll(async () => {
  for (const peer of ['openssl', 'certtool', 'keytool']) requirePeer(peer);
  const dir = initCa();
  for (const kt of Object.keys(KEY_TYPES) as KeyTypeName[]) {
    bundles[kt] = generateBundle(dir, `svc-${kt}`, kt);
    modern[kt] = join(work, `${kt}.p12`);
    await writeP12(bundles[kt], modern[kt], PASSWORD);
  }
});

describe.each(Object.keys(KEY_TYPES) as KeyTypeName[])('a modern .p12 with an %s key', (kt) => {
  it('opens in OpenSSL 3 without -legacy and reports PBES2/PBKDF2/hmacWithSHA256/AES-256-CBC and a SHA-256 MAC', () => {
    const r = runPeer('openssl', ['pkcs12', '-info', '-noout', '-in', modern[kt], '-passin', `file:${passFile}`]);
    expect(r.status, r.stderr).toBe(0);
    // openssl writes the -info lines on stderr
    const info = r.stderr;
    expect(info).toContain('MAC: sha256, Iteration 600000');
    expect(info).toContain('PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256');
    expect(info).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256');
    expect(info.match(/Certificate bag/g)).toHaveLength(2);
    expect(info).not.toMatch(/pbeWith|sha1|RC2|3DES/i);
  });

  it('holds the same key, the leaf then the intermediate, friendlyName = CN and one localKeyID on key and leaf', () => {
    const r = runPeer('openssl', ['pkcs12', '-in', modern[kt], '-passin', `file:${passFile}`, '-nodes']);
    expect(r.status, r.stderr).toBe(0);
    const keyPem = r.stdout.match(/-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/)![0];
    const original = createPrivateKey(readFileSync(bundles[kt].keyFile));
    expect(createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' })).toEqual(createPublicKey(original).export({ type: 'spki', format: 'der' }));
    const certs = [...r.stdout.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).raw);
    expect(certs).toEqual(pemBlocks(bundles[kt].chainFile));
    const attributes = r.stdout.split('Bag Attributes').slice(1);
    const withName = attributes.filter((a) => a.includes(`friendlyName: svc-${kt}\n`));
    expect(withName).toHaveLength(2); // the key and the leaf
    const ids = withName.map((a) => a.match(/localKeyID: ([0-9A-F ]+)/)![1]!.trim());
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]!.split(' ')).toHaveLength(20);
  });

  it('opens in GnuTLS certtool --p12-info with nothing on stderr and the same algorithms', () => {
    const r = runPeer('certtool', ['--p12-info', '--inder', '--password', PASSWORD, '--infile', modern[kt]]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/MAC: SHA256/);
    expect(r.stdout).toMatch(/Iteration count: 600000/);
    expect(r.stdout).toContain('Schema: PBES2-AES256-CBC');
    expect(r.stdout).toContain(`Friendly name: svc-${kt}`);
    expect(r.stdout.match(/Type: Certificate/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/Type: PKCS #8 Encrypted key/);
  });

  it('is refused by OpenSSL with a wrong password (the MAC is checked)', () => {
    const r = runPeer('openssl', ['pkcs12', '-info', '-noout', '-in', modern[kt], '-passin', 'pass:not-the-password']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mac verify error/i);
  });
});

describe.each(['rsa', 'ec'] as const)('Java 17 keytool with an %s key', (kt) => {
  it('lists one PrivateKeyEntry named after the CN with a chain of two', async () => {
    const file = join(work, `java-${kt}.p12`);
    await writeP12(bundles[kt], file, JAVA_PASSWORD);
    const r = runPeer('keytool', ['-list', '-v', '-storetype', 'PKCS12', '-keystore', file, '-storepass:file', javaPassFile]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Your keystore contains 1 entry');
    expect(r.stdout).toMatch(new RegExp(`^Alias name: svc-${kt}$`, 'm'));
    expect(r.stdout).toContain('Entry type: PrivateKeyEntry');
    expect(r.stdout).toContain('Certificate chain length: 2');
    expect(r.stdout).toContain(`Owner: CN=svc-${kt}`);
    const wrong = writePasswordFile(join(work, 'wrong.pass'), 'wrong-password');
    const refused = runPeer('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', file, '-storepass:file', wrong]);
    expect(refused.status).not.toBe(0);
  });
});

describe('a --legacy .p12 (3DES, SHA-1 MAC)', () => {
  let legacy: string;
  beforeAll(async () => {
    legacy = join(work, 'legacy.p12');
    await writeP12(bundles.rsa, legacy, PASSWORD, { legacy: true });
  });

  it('opens with openssl pkcs12 -legacy and reports pbeWithSHA1And3-KeyTripleDES-CBC for key and certificates, MAC sha1', () => {
    const r = runPeer('openssl', ['pkcs12', '-legacy', '-info', '-noout', '-in', legacy, '-passin', `file:${passFile}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('MAC: sha1, Iteration 2048');
    expect(r.stderr).toContain('PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048');
    expect(r.stderr).toContain('Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048');
    expect(r.stderr).not.toMatch(/PBES2|RC2/);
  });

  it('opens without -legacy as well: 3DES is in OpenSSL 3 default provider, only RC2/RC4 are not', () => {
    const r = runPeer('openssl', ['pkcs12', '-info', '-noout', '-in', legacy, '-passin', `file:${passFile}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('pbeWithSHA1And3-KeyTripleDES-CBC');
  });

  it('opens in certtool and Java keytool', async () => {
    const c = runPeer('certtool', ['--p12-info', '--inder', '--password', PASSWORD, '--infile', legacy]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/MAC: SHA1/);
    const file = join(work, 'legacy-java.p12');
    await writeP12(bundles.ec, file, JAVA_PASSWORD, { legacy: true });
    const k = runPeer('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', file, '-storepass:file', javaPassFile]);
    expect(k.status, k.stdout + k.stderr).toBe(0);
    expect(k.stdout).toContain('PrivateKeyEntry');
  });
});
