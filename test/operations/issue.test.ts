/**
 * The issuance operations called as plain functions (issue 10, "done" point 3): no child process of pki,
 * no argv, no terminal — a CaHome, a request, a clock and a passphrase source, as `pki serve` will call
 * them. The results are checked with openssl, as the CLI tests do, and against the inventory.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_SPEC } from '../../src/core/keys/keys.js';
import { PkiError } from '../../src/core/errors.js';
import { normalizeSerial } from '../../src/core/x509/serial.js';
import { CaHome, type PassphraseSource } from '../../src/store/ca-home.js';
import { openInventory } from '../../src/store/inventory/index.js';
import { initCa, type InitRequest } from '../../src/operations/init.js';
import { generateBundle, type GenerateRequest } from '../../src/operations/generate.js';
import { generateWithCa } from '../../src/operations/generate-init.js';
import { signCsrs } from '../../src/operations/sign.js';
import { tempDir } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';

const CA: InitRequest = { name: 'ops', keySpec: DEFAULT_KEY_SPEC, rootNotAfter: '10y', intermediateNotAfter: '5y' };
const BUNDLE: GenerateRequest = { service: 'redis', variant: 'main', extraSans: ['db.internal', '10.1.2.3'], clients: ['api'], keyMode: 0o600 };
const plain = { protection: async () => ({ encrypt: false as const }) };
/** For a CA with plain keys: asking for a passphrase would be a bug. */
const noPassphrase: PassphraseSource = async () => {
  throw new Error('no passphrase should be asked for a plain key');
};
const secretOf = (text: string): PassphraseSource => async () => new TextEncoder().encode(text);

function newHome(): CaHome {
  return new CaHome(join(tempDir('pki-ops-'), 'ca'));
}

/** openssl verify of `file` (leaf first) against the home's root, the intermediate as untrusted. */
function verify(home: CaHome, file: string, purpose: string): string {
  const r = runPeer('openssl', ['verify', '-purpose', purpose, '-CAfile', home.rootCertPath, '-untrusted', home.intermediateCertPath, file]);
  return `${r.stdout.trim()}${r.stderr.trim()}`;
}

function subjectAltName(file: string): string {
  return peer('openssl', ['x509', '-in', file, '-noout', '-ext', 'subjectAltName']);
}

async function recorded(home: CaHome, serial: string) {
  const inventory = await openInventory(home);
  try {
    return inventory.find('x509', normalizeSerial(serial));
  } finally {
    inventory.close();
  }
}

async function newCa(): Promise<CaHome> {
  const home = newHome();
  await initCa(home, CA, { now: new Date(), ...plain, warn: () => {} });
  return home;
}

describe('initCa', () => {
  it('writes root and intermediate that openssl chains, records both, and reports what it wrote', async () => {
    const home = newHome();
    const warnings: string[] = [];
    const result = await initCa(home, CA, { now: new Date(), ...plain, warn: (m) => warnings.push(m) });
    expect(result.name).toBe('ops');
    expect(result.report.root.certificate).toBe(home.rootCertPath);
    expect(result.report.intermediate.key).toBe(home.intermediateKeyPath);
    expect(result.report.keysEncrypted).toBe(false);
    expect(verify(home, home.intermediateCertPath, 'any')).toBe(`${home.intermediateCertPath}: OK`);
    expect(peer('openssl', ['x509', '-in', home.rootCertPath, '-noout', '-subject'])).toMatch(/CN\s?=\s?ops Root CA/);
    expect((statSync(home.intermediateKeyPath).mode & 0o777).toString(8)).toBe('600');
    expect(existsSync(result.report.crl.intermediate)).toBe(true);
    expect((await recorded(home, result.report.root.serial))?.profile).toBe('root');
    expect((await recorded(home, result.report.intermediate.serial))?.certificatePath).toBe(home.intermediateCertPath);
    expect(warnings).toEqual([]);
    // A second init without force is refused, naming the cause by code.
    await expect(initCa(home, CA, { now: new Date(), ...plain, warn: () => {} })).rejects.toMatchObject({ code: 'ERR_CA_EXISTS' });
  });

  it('encrypts both keys with the passphrase the protection source gives, and wipes it', async () => {
    const home = newHome();
    const passphrase = new TextEncoder().encode('operations passphrase');
    const result = await initCa(home, CA, { now: new Date(), protection: async () => ({ encrypt: true, passphrase }), warn: () => {} });
    expect(result.report.keysEncrypted).toBe(true);
    expect(readFileSync(home.rootKeyPath, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(passphrase.every((b) => b === 0)).toBe(true);
    const opened = runPeer('openssl', ['pkey', '-in', home.intermediateKeyPath, '-passin', 'pass:operations passphrase', '-noout']);
    expect(opened.status, opened.stderr).toBe(0);
  });
});

describe('generateBundle', () => {
  it('issues the bundle: files on disk as reported, chains and SANs checked by openssl, serials in the inventory', async () => {
    const home = await newCa();
    const result = await generateBundle(home, BUNDLE, { now: new Date(), passphrase: noPassphrase, warn: () => {} });
    const report = result.report;
    if (report.status !== 'issued') throw new Error(`expected issued, got ${report.status}`);
    const folder = join(home.servicesDir, 'redis', 'main', 'certs');
    expect(report.folder).toBe(folder);
    expect(report.files.map((f) => f.path)).toEqual(['ca.crt', 'redis.key', 'redis.crt', 'api.key', 'api.crt'].map((n) => join(folder, n)));
    for (const f of report.files) expect(existsSync(f.path), f.path).toBe(true);
    expect(verify(home, join(folder, 'redis.crt'), 'sslserver')).toBe(`${join(folder, 'redis.crt')}: OK`);
    expect(verify(home, join(folder, 'api.crt'), 'sslclient')).toBe(`${join(folder, 'api.crt')}: OK`);
    expect(subjectAltName(join(folder, 'redis.crt'))).toMatch(/DNS:redis, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, DNS:db\.internal, IP Address:10\.1\.2\.3/);
    expect((statSync(join(folder, 'redis.key')).mode & 0o777).toString(8)).toBe('600');
    const certificates = report.files.filter((f) => f.serial !== undefined);
    expect(certificates.map((f) => f.role)).toEqual(['service-certificate', 'client-certificate']);
    for (const f of certificates) {
      const fileSerial = peer('openssl', ['x509', '-in', f.path, '-noout', '-serial']).trim().slice('serial='.length);
      expect(normalizeSerial(f.serial!)).toBe(normalizeSerial(fileSerial));
      expect((await recorded(home, f.serial!))?.certificatePath).toBe(f.path);
    }
  });

  it('converges: the same request is up to date; a new client is added without touching the service key', async () => {
    const home = await newCa();
    const context = { now: new Date(), passphrase: noPassphrase, warn: () => {} };
    await generateBundle(home, BUNDLE, context);
    const folder = join(home.servicesDir, 'redis', 'main', 'certs');
    const serviceKey = readFileSync(join(folder, 'redis.key'), 'utf8');
    expect((await generateBundle(home, BUNDLE, context)).report).toEqual({ folder, status: 'up-to-date', files: [] });
    const updated = (await generateBundle(home, { ...BUNDLE, clients: ['api', 'web'] }, context)).report;
    if (updated.status !== 'updated') throw new Error(`expected updated, got ${updated.status}`);
    expect(updated.files.map((f) => f.path)).toEqual([join(folder, 'web.key'), join(folder, 'web.crt')]);
    expect(verify(home, join(folder, 'web.crt'), 'sslclient')).toBe(`${join(folder, 'web.crt')}: OK`);
    expect(readFileSync(join(folder, 'redis.key'), 'utf8')).toBe(serviceKey);
    expect((await recorded(home, updated.files[1]!.serial!))?.status).toBe('valid');
  });

  it('opens an encrypted intermediate through the passphrase source; a wrong secret is ERR_BAD_PASSWORD with nothing written', async () => {
    const home = newHome();
    await initCa(home, CA, { now: new Date(), protection: async () => ({ encrypt: true, passphrase: new TextEncoder().encode('right passphrase') }), warn: () => {} });
    const wrong = generateBundle(home, BUNDLE, { now: new Date(), passphrase: secretOf('wrong passphrase'), warn: () => {} });
    await expect(wrong).rejects.toMatchObject({ code: 'ERR_BAD_PASSWORD' });
    expect(existsSync(home.servicesDir)).toBe(false);
    const right = await generateBundle(home, BUNDLE, { now: new Date(), passphrase: secretOf('right passphrase'), warn: () => {} });
    expect(right.report.status).toBe('issued');
  });

  it('generateWithCa on an empty home: the CA, then the bundle from it, with the one passphrase asked once', async () => {
    const home = newHome();
    let asked = 0;
    const result = await generateWithCa(
      home,
      { init: CA, bundle: BUNDLE },
      { now: new Date(), passphrase: noPassphrase, warn: () => {}, protection: async () => (asked++, { encrypt: true, passphrase: new TextEncoder().encode('one passphrase') }) },
    );
    expect(asked).toBe(1);
    expect(result.ca?.report.dir).toBe(home.dir);
    expect(result.report.status).toBe('issued');
    const crt = join(home.servicesDir, 'redis', 'main', 'certs', 'redis.crt');
    expect(verify(home, crt, 'sslserver')).toBe(`${crt}: OK`);
    // On a home that has its CA now, the CA is used as it is.
    const again = await generateWithCa(home, { init: CA, bundle: { ...BUNDLE, service: 'nginx' } }, { now: new Date(), passphrase: secretOf('one passphrase'), warn: () => {}, protection: async () => { throw new Error('no new CA expected'); } });
    expect(again.ca).toBeNull();
  });
});

describe('signCsrs', () => {
  function csr(subject: string, extra: string[] = [], der = false): Uint8Array {
    const work = tempDir();
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'k.pem'), '-out', join(work, 'r.csr'), '-subj', subject, ...(der ? ['-outform', 'DER'] : []), ...extra]);
    return readFileSync(join(work, 'r.csr'));
  }

  it('signs CSRs handed in memory (PEM and DER): chains returned or written, SANs kept, serials recorded', async () => {
    const home = await newCa();
    const out = join(tempDir(), 'web.crt');
    const result = await signCsrs(
      home,
      {
        csrs: [
          { label: 'in-memory PEM', data: csr('/CN=web.example.com', ['-addext', 'subjectAltName=DNS:web.example.com,DNS:www.example.com']), target: null },
          { label: 'in-memory DER', data: csr('/CN=api.example.com', ['-addext', 'subjectAltName=DNS:api.example.com'], true), target: out },
        ],
        profile: 'server',
        extraSans: [],
      },
      { now: new Date(), passphrase: noPassphrase },
    );
    expect(result.certificates.map((c) => [c.request, c.path])).toEqual([['in-memory PEM', null], ['in-memory DER', out]]);
    const first = join(tempDir(), 'first.pem');
    writeFileSync(first, result.chains[0]!);
    expect(verify(home, first, 'sslserver')).toBe(`${first}: OK`);
    expect(subjectAltName(first)).toMatch(/DNS:web\.example\.com, DNS:www\.example\.com/);
    expect(readFileSync(out, 'utf8')).toBe(result.chains[1]);
    expect(verify(home, out, 'sslserver')).toBe(`${out}: OK`);
    for (const c of result.certificates) {
      const record = await recorded(home, c.serial);
      expect([record?.profile, record?.certificatePath]).toEqual(['server', c.path]);
    }
  });

  it('one bad request refuses the batch: the error names its label, nothing is written or recorded', async () => {
    const home = await newCa();
    const out = join(tempDir(), 'good.crt');
    const batch = signCsrs(
      home,
      { csrs: [{ label: 'good', data: csr('/CN=good.example.com', ['-addext', 'subjectAltName=DNS:good.example.com']), target: out }, { label: 'broken', data: Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), target: null }], profile: 'server', extraSans: [] },
      { now: new Date(), passphrase: noPassphrase },
    );
    const error = await batch.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PkiError);
    expect((error as PkiError).code).toBe('ERR_MALFORMED_CSR');
    expect((error as PkiError).message).toMatch(/^broken: /);
    expect(existsSync(out)).toBe(false);
    const inventory = await openInventory(home);
    try {
      expect(inventory.list({ kind: 'x509' }).map((r) => r.profile).sort()).toEqual(['intermediate', 'root']);
    } finally {
      inventory.close();
    }
  });
});
