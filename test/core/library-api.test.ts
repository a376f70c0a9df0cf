/** A library user issues and verifies a certificate through the package's public entry point, no CLI. */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

describe('the package entry point', () => {
  it('exports what a program needs to issue a certificate that openssl accepts', () => {
    const root = resolve(import.meta.dirname, '../..');
    const work = tempDir();
    // Inside the package folder, `import … from 'pki-ca-manager'` resolves through package.json "exports" (self-reference),
    // exactly as it would from a project that depends on pki-ca-manager (the npm name; the command is pki).
    const script = join(root, `.library-api-test-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { generateKeyPair, issueCertificate, PROFILES, generateSerial, parseSans, encodePem, inspectCertificate, validateCertificatePath } from 'pki-ca-manager';
const keys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
const der = issueCertificate({ serial: generateSerial(), subject: { commonName: 'library' }, sans: parseSans(['localhost']),
  profile: PROFILES.root, publicKey: keys.publicKey, notBefore: new Date(), notAfter: new Date(Date.now() + 864e5),
  issuer: 'self', selfSigningKey: keys.privateKey });
const verdict = validateCertificatePath({ leaf: der, untrusted: [], roots: [der], purpose: 'any', time: new Date(), crls: [], crlCheck: 'none' });
process.stdout.write(JSON.stringify({ pem: encodePem('CERTIFICATE', der), report: inspectCertificate(der), verdict }));
`,
    );
    let out;
    try {
      out = JSON.parse(execFileSync(process.execPath, [script], { cwd: root, encoding: 'utf8' }));
    } finally {
      rmSync(script, { force: true });
    }
    expect(out.report.subject).toBe('CN=library');
    expect(out.verdict).toMatchObject({ valid: true, error: null, chain: [{ subject: 'CN=library' }] });
    const pem = join(work, 'c.pem');
    writeFileSync(pem, out.pem);
    expect(runPeer('openssl', ['verify', '-CAfile', pem, pem]).stdout).toMatch(/: OK/);
  });
  it('exports the operations: a program does what `pki generate --init` does and openssl chains the result', () => {
    const root = resolve(import.meta.dirname, '../..');
    const home = join(tempDir(), 'ca');
    const script = join(root, `.library-ops-test-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { CaHome, DEFAULT_CA, DEFAULT_KEY_SPEC, generateWithCa, listCertificates } from 'pki-ca-manager/operations';
const home = new CaHome(${JSON.stringify(home)});
const result = await generateWithCa(home,
  { init: { ...DEFAULT_CA, keySpec: DEFAULT_KEY_SPEC }, bundle: { service: 'redis', variant: 'main', extraSans: [], clients: ['app'], keyMode: 0o600 } },
  { now: new Date(), warn: () => {}, passphrase: async () => { throw new Error('plain keys need no passphrase'); }, protection: async () => ({ encrypt: false }) });
process.stdout.write(JSON.stringify({ status: result.report.status, ca: result.ca !== null }));
`,
    );
    let out;
    try {
      out = JSON.parse(execFileSync(process.execPath, [script], { cwd: root, encoding: 'utf8' }));
    } finally {
      rmSync(script, { force: true });
    }
    expect(out).toEqual({ status: 'issued', ca: true });
    const certs = join(home, 'services/redis/main/certs');
    const r = runPeer('openssl', ['verify', '-CAfile', join(home, 'ca/root_ca.crt'), '-untrusted', join(home, 'ca/intermediate_ca.crt'), join(certs, 'redis.crt'), join(certs, 'app.crt')]);
    expect(r.stdout).toBe(`${join(certs, 'redis.crt')}: OK\n${join(certs, 'app.crt')}: OK\n`);
  });
});
