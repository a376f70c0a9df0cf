/**
 * `pki inspect FILE.p12` (issue 12 point 1): reads what `openssl pkcs12 -export` writes (modern and
 * -legacy, whose certificates are RC2-40) and what pki writes (modern and --legacy), with the password
 * from --password-file or PKI_P12_PASSWORD; lists the MAC, the bags, their names and algorithms, the
 * certificates as OpenSSL sees them and the key's type only. A wrong password, an altered file and a
 * missing password are refused with their codes.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer } from '../helpers/peers.js';
import { generateBundle, pemBlocks, writeP12, writePasswordFile, type Bundle } from './p12-fixtures.js';

const PASSWORD = 'inspect me, bitte';
const work = tempDir('pki-p12-inspect-');
const passFile = writePasswordFile(join(work, 'pass'), PASSWORD);
let ec: Bundle;
let rsa: Bundle;

interface Bag {
  type: string;
  friendlyName: string | null;
  localKeyId: string | null;
  encryption: { scheme: string; prf: string | null; cipher: string; iterations: number } | null;
  certificate: { subject: string; serial: string; notAfter: string } | null;
  key: { type: string; size?: number; curve?: string } | null;
}
interface Report {
  type: string;
  mac: { algorithm: string; iterations: number } | null;
  safeContents: { encryption: Bag['encryption']; bags: Bag[] }[];
}

function inspect(file: string): Report {
  const r = pki(['inspect', '--json', '--password-file', passFile, file]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

/** subject (RFC 2253) and serial of each certificate in a PEM file, as openssl prints them. */
function opensslCertificates(pemFile: string): { subject: string; serial: string }[] {
  return pemBlocks(pemFile).map((der, i) => {
    const file = join(work, `cert-${i}-${Date.now()}.der`);
    writeFileSync(file, der);
    const out = peer('openssl', ['x509', '-inform', 'DER', '-in', file, '-noout', '-subject', '-serial', '-nameopt', 'RFC2253']);
    return { subject: out.match(/^subject=(.*)$/m)![1]!, serial: out.match(/^serial=(.*)$/m)![1]!.replace(/^0+/, '') };
  });
}

function opensslExport(bundle: Bundle, out: string, legacy: boolean): string {
  const args = ['pkcs12', '-export', '-in', bundle.chainFile, '-inkey', bundle.keyFile, '-name', bundle.cn, '-passout', `file:${passFile}`, '-out', out];
  peer('openssl', legacy ? [...args, '-legacy'] : args);
  return out;
}

const bagsOf = (r: Report) => r.safeContents.flatMap((s) => s.bags);

beforeAll(() => {
  const dir = initCa();
  ec = generateBundle(dir, 'inspect-ec', 'ec');
  rsa = generateBundle(dir, 'inspect-rsa', 'rsa');
});

describe('pki inspect reads PKCS#12 files', () => {
  it('written by openssl pkcs12 -export (OpenSSL 3 defaults): PBES2/AES-256-CBC, SHA-256 MAC, 2048 iterations', () => {
    const r = inspect(opensslExport(ec, join(work, 'openssl.p12'), false));
    expect(r.mac).toEqual({ algorithm: 'sha256', iterations: 2048, saltBytes: 8 });
    expect(r.safeContents.map((s) => s.encryption?.cipher ?? null)).toEqual(['AES-256-CBC', null]);
    const bags = bagsOf(r);
    expect(bags.filter((b) => b.type === 'certificate').map((b) => ({ subject: b.certificate!.subject, serial: b.certificate!.serial }))).toEqual(opensslCertificates(ec.chainFile));
    const key = bags.find((b) => b.type === 'shroudedKey')!;
    expect(key.key).toMatchObject({ type: 'EC', curve: 'P-256' });
    expect(key.encryption).toMatchObject({ scheme: 'PBES2', prf: 'hmacWithSHA256', cipher: 'AES-256-CBC', iterations: 2048 });
    expect(key.friendlyName).toBe('inspect-ec');
    expect(key.localKeyId).toBe(bags[0]!.localKeyId);
  });

  it('written by openssl pkcs12 -export -legacy: RC2-40 certificates, 3DES key, SHA-1 MAC', () => {
    const r = inspect(opensslExport(rsa, join(work, 'openssl-legacy.p12'), true));
    expect(r.mac).toMatchObject({ algorithm: 'sha1', iterations: 2048 });
    expect(r.safeContents[0]!.encryption).toMatchObject({ scheme: 'pbeWithSHA1And40BitRC2-CBC', iterations: 2048 });
    const bags = bagsOf(r);
    expect(bags.filter((b) => b.type === 'certificate').map((b) => ({ subject: b.certificate!.subject, serial: b.certificate!.serial }))).toEqual(opensslCertificates(rsa.chainFile));
    expect(bags.find((b) => b.type === 'shroudedKey')).toMatchObject({ key: { type: 'RSA', size: 2048 }, encryption: { scheme: 'pbeWithSHA1And3-KeyTripleDES-CBC' } });
  });

  it('written by pki (modern and legacy), in --json and in text, without a byte of the key', async () => {
    const modern = join(work, 'pki.p12');
    const legacy = join(work, 'pki-legacy.p12');
    await writeP12(ec, modern, PASSWORD);
    await writeP12(ec, legacy, PASSWORD, { legacy: true });
    const m = inspect(modern);
    expect(m.mac).toEqual({ algorithm: 'sha256', iterations: 600000, saltBytes: 16 });
    expect(m.safeContents.map((s) => s.encryption && `${s.encryption.scheme} ${s.encryption.prf} ${s.encryption.cipher} ${s.encryption.iterations}`)).toEqual(['PBES2 hmacWithSHA256 AES-256-CBC 600000', null]);
    expect(bagsOf(m).map((b) => [b.type, b.friendlyName])).toEqual([['certificate', 'inspect-ec'], ['certificate', null], ['shroudedKey', 'inspect-ec']]);
    const l = inspect(legacy);
    expect(l.mac).toMatchObject({ algorithm: 'sha1', iterations: 2048 });
    expect(bagsOf(l).find((b) => b.type === 'shroudedKey')!.encryption).toMatchObject({ scheme: 'pbeWithSHA1And3-KeyTripleDES-CBC', iterations: 2048 });

    const text = pki(['inspect', modern], { env: { PKI_P12_PASSWORD: PASSWORD } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('MAC                   sha256, 600000 iterations (verified)');
    expect(text.stdout).toContain('encrypted: PBES2, PBKDF2, hmacWithSHA256, AES-256-CBC, 600000 iterations');
    expect(text.stdout).toMatch(/Shrouded key bag +EC P-256/);
    expect(text.stdout).toMatch(/Certificate bag +CN=inspect-ec/);
    const d = createPrivateKey(readFileSync(ec.keyFile)).export({ format: 'jwk' }).d!;
    for (const out of [text.stdout, JSON.stringify(m)]) {
      expect(out).not.toContain(d);
      expect(out).not.toContain(Buffer.from(d, 'base64url').toString('hex').toUpperCase());
      expect(out).not.toContain(Buffer.from(d, 'base64url').toString('hex'));
    }
  });
});

describe('pki inspect refuses', () => {
  let file: string;
  beforeAll(() => {
    file = opensslExport(ec, join(work, 'refusals.p12'), false);
  });

  it('a wrong password (file or environment): ERR_BAD_PASSWORD with a hint', () => {
    const wrong = writePasswordFile(join(work, 'wrong'), 'not it');
    const line = expectCliError(pki(['inspect', '--json', '--password-file', wrong, file]), 'ERR_BAD_PASSWORD');
    expect(line).toMatch(/MAC does not match.*\(check the password/);
    expectCliError(pki(['inspect', '--json', file], { env: { PKI_P12_PASSWORD: 'not it either' } }), 'ERR_BAD_PASSWORD');
  });

  it('an altered file (one byte of the encrypted certificates flipped): ERR_BAD_PASSWORD, the MAC catches it', () => {
    const bytes = readFileSync(file);
    bytes[200] ^= 0x01;
    const altered = join(work, 'altered.p12');
    writeFileSync(altered, bytes);
    expectCliError(pki(['inspect', '--json', '--password-file', passFile, altered]), 'ERR_BAD_PASSWORD');
  });

  it('a file without a MAC and a wrong password: the bags do not decrypt (ERR_BAD_PASSWORD)', () => {
    const noMac = join(work, 'nomac.p12');
    peer('openssl', ['pkcs12', '-export', '-nomac', '-in', ec.chainFile, '-inkey', ec.keyFile, '-passout', `file:${passFile}`, '-out', noMac]);
    expect(inspect(noMac).mac).toBeNull();
    expectCliError(pki(['inspect', '--json', noMac], { env: { PKI_P12_PASSWORD: 'wrong' } }), 'ERR_BAD_PASSWORD');
  });

  it('no password and no terminal: ERR_PASSWORD_REQUIRED naming the two ways to give one', () => {
    const line = expectCliError(pki(['inspect', '--json', file]), 'ERR_PASSWORD_REQUIRED');
    expect(line).toContain('--password-file');
    expect(line).toContain('PKI_P12_PASSWORD');
  });
});
