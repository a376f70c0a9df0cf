/**
 * `pki init --import-ca CERT --import-key KEY [--import-index index.txt]` against a real flat openssl CA
 * (test/helpers/flat-openssl-ca.ts): the old certificates and revocations in the inventory, the old
 * revocation in the root's CRL as openssl reads it, new bundles that chain to the OLD ca.crt, old leaves
 * that still verify, and the refusals (each with its --json code, exit 1 and nothing on disk).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { buildFlatCa, type FlatCa } from '../helpers/flat-openssl-ca.js';
import { peer, runPeer } from '../helpers/peers.js';

interface ListedRecord {
  serial: string;
  subject: string;
  profile: string;
  status: string;
  revocationReason: string | null;
}

const passwordFile = (secret: string) => {
  const path = join(tempDir(), 'pw');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
};

const listAll = (dir: string): ListedRecord[] => {
  const r = pki(['list', '--all', '--json', '--dir', dir]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ListedRecord[];
};

const verify = (args: string[]) => runPeer('openssl', ['verify', ...args]);

describe('pki init --import-ca: a flat openssl CA with an encrypted PKCS#8 key (genpkey -aes256)', () => {
  let ca: FlatCa;
  let dir: string;
  let pw: string;
  beforeAll(() => {
    ca = buildFlatCa(join(tempDir(), 'oldca'));
    dir = join(tempDir(), 'home');
    pw = passwordFile(ca.passphrase);
    const r = pki(['init', '--dir', dir, '--import-ca', ca.cert, '--import-key', ca.key, '--import-index', ca.index, '--password-file', pw, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { imported: { certificates: number; fromFiles: number; revoked: number }; intermediate: { subject: string } };
    expect(report.imported).toMatchObject({ certificates: 2, fromFiles: 2, revoked: 1 });
    expect(report.intermediate.subject).toBe('CN=Example Intermediate CA');
  });

  it('keeps the imported certificate byte for byte as the root, and its key re-encrypted (PBES2) under the same passphrase', () => {
    expect(readFileSync(join(dir, 'ca/root_ca.crt'), 'utf8')).toBe(readFileSync(ca.cert, 'utf8'));
    const key = join(dir, 'ca/root_ca.key');
    expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(peer('openssl', ['asn1parse', '-in', key])).toMatch(/hmacWithSHA256/);
    const pub = (args: string[]) => peer('openssl', [...args, '-pubout']);
    expect(pub(['pkey', '-in', key, '-passin', `file:${pw}`])).toBe(pub(['pkey', '-in', ca.key, '-passin', `pass:${ca.passphrase}`]));
    expect(verify(['-CAfile', ca.cert, join(dir, 'ca/intermediate_ca.crt')]).stdout).toMatch(/: OK/);
  });

  it('pki list shows both old certificates, the revoked one with its reason', () => {
    const records = listAll(dir);
    expect(records.find((r) => r.serial === '1000')).toMatchObject({ subject: 'CN=web.example.com', status: 'valid', profile: 'server' });
    expect(records.find((r) => r.serial === '1001')).toMatchObject({ subject: 'CN=db.example.com', status: 'revoked', revocationReason: 'keyCompromise' });
  });

  it("the root's CRL (written at import, and again by pki crl --root) lists the old revocation as openssl crl -text reads it", () => {
    const rootCrl = join(dir, 'crl/root_ca.crl');
    const atImport = peer('openssl', ['crl', '-in', rootCrl, '-noout', '-text']);
    expect(atImport).toMatch(/Serial Number: 1001\s+Revocation Date: [^\n]+\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Key Compromise/);
    const r = pki(['crl', '--root', '--dir', dir, '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    const text = peer('openssl', ['crl', '-in', rootCrl, '-noout', '-text']);
    expect(text).toMatch(/CRL Number:\s+2/);
    expect(text).toMatch(/Serial Number: 1001[\s\S]*Key Compromise/);
    // openssl's own check: the revoked old leaf fails against pki's CRL, the other one passes.
    expect(verify(['-crl_check', '-CAfile', ca.cert, '-CRLfile', rootCrl, ca.leaves.db]).stdout + verify(['-crl_check', '-CAfile', ca.cert, '-CRLfile', rootCrl, ca.leaves.db]).stderr).toMatch(/certificate revoked/);
    expect(verify(['-crl_check', '-CAfile', ca.cert, '-CRLfile', rootCrl, ca.leaves.web]).stdout).toMatch(/: OK/);
  });

  it('pki generate issues a bundle whose chain verifies with the OLD ca.crt, and an old leaf still verifies', () => {
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    const certs = join(dir, 'services/redis/main/certs');
    for (const leaf of ['redis.crt', 'client.crt']) {
      const ok = verify(['-CAfile', ca.cert, '-untrusted', join(certs, leaf), join(certs, leaf)]);
      expect(ok.stdout, ok.stderr).toMatch(/: OK/);
    }
    expect(readFileSync(join(certs, 'ca.crt'), 'utf8')).toBe(readFileSync(ca.cert, 'utf8'));
    expect(verify(['-CAfile', join(certs, 'ca.crt'), ca.leaves.web]).stdout).toMatch(/: OK/);
  });

  it('pki renew of an old certificate is refused (pki did not issue it), as docs/import.md says', () => {
    const r = pki(['renew', ca.leaves.web, '--dir', dir, '--password-file', pw, '--json']);
    expectCliError(r, 'ERR_UNTRUSTED_CERTIFICATE');
  });

  it("pki revoke of an old leaf puts it on the root's CRL (the CRL clients check for what the root signed)", () => {
    const r = pki(['revoke', '1000', '--reason', 'superseded', '--dir', dir, '--password-file', pw, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rootCrl = join(dir, 'crl/root_ca.crl');
    expect(peer('openssl', ['crl', '-in', rootCrl, '-noout', '-text'])).toMatch(/Serial Number: 1000[\s\S]*Superseded/);
    const check = verify(['-crl_check', '-CAfile', ca.cert, '-CRLfile', rootCrl, ca.leaves.web]);
    expect(check.stdout + check.stderr).toMatch(/certificate revoked/);
  });

});

describe('pki init --import-ca: other key forms and an index without newcerts/', () => {
  it('adopts a traditional encrypted key (genrsa -traditional -aes256), opened from PKI_PASSWORD', () => {
    const ca = buildFlatCa(join(tempDir(), 'oldca'), { key: 'traditional-encrypted' });
    expect(readFileSync(ca.key, 'utf8')).toMatch(/Proc-Type: 4,ENCRYPTED/);
    const dir = join(tempDir(), 'home');
    const r = pki(['init', '--dir', dir, '--import-ca', ca.cert, '--import-key', ca.key, '--json'], { env: { PKI_PASSWORD: ca.passphrase } });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ca/root_ca.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  });

  it('adopts a plain EC key with --no-password --insecure, and records the index alone when newcerts/ is gone', () => {
    const ca = buildFlatCa(join(tempDir(), 'oldca'), { key: 'plain-ec', subject: '/CN=Legacy CA' });
    rmSync(join(ca.dir, 'newcerts'), { recursive: true });
    const dir = join(tempDir(), 'home');
    const r = pki(['init', '--dir', dir, '--import-ca', ca.cert, '--import-key', ca.key, '--import-index', ca.index, '--no-password', '--insecure', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { keysEncrypted: boolean; imported: { fromIndexOnly: number }; intermediate: { subject: string } };
    expect(report).toMatchObject({ keysEncrypted: false, imported: { fromIndexOnly: 2 }, intermediate: { subject: 'CN=Legacy Intermediate CA' } });
    expect(readFileSync(join(dir, 'ca/root_ca.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(listAll(dir).find((r) => r.serial === '1001')).toMatchObject({ subject: 'CN=db.example.com', status: 'revoked', revocationReason: 'keyCompromise' });
    // What index.txt said comes back out of pki db export-index: status, expiry, revocation time and reason, serial
    // (the subject too, but export-index writes /CN=unknown for a record without its certificate).
    const exported = pki(['db', 'export-index', '--dir', dir]);
    expect(exported.code, exported.stderr).toBe(0);
    const firstFields = (line: string) => line.split('\t').slice(0, 4).join('\t');
    const exportedLines = exported.stdout.trim().split('\n').map(firstFields);
    for (const line of readFileSync(ca.index, 'utf8').trim().split('\n')) expect(exportedLines).toContain(firstFields(line));
    expect(peer('openssl', ['crl', '-in', join(dir, 'crl/root_ca.crl'), '-noout', '-text'])).toMatch(/Serial Number: 1001/);
  });
});

describe('pki init --import-ca: the intermediate, the name, an existing CA', () => {
  it('cuts the intermediate to the root\'s end with a warning, and takes --name for its subject', () => {
    const root = selfSigned('Short Lived Root', ['-addext', 'basicConstraints=critical,CA:TRUE']);
    const dir = join(tempDir(), 'home');
    const r = pki(['init', '--dir', dir, '--import-ca', root.cert, '--import-key', root.key, '--name', 'Acme', '--no-password', '--insecure', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the intermediate CA ends with the imported root on .*--intermediate-not-after 5y would outlive it/);
    const report = JSON.parse(r.stdout) as { root: { notAfter: string }; intermediate: { subject: string; notAfter: string } };
    expect(report.intermediate.subject).toBe('CN=Acme Intermediate CA');
    expect(report.intermediate.notAfter).toBe(report.root.notAfter);
    expect(JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8'))).toMatchObject({ name: 'Acme', validity: { root: '30d' } });
  });

  it('refuses a home that already has a CA (ERR_CA_EXISTS), changing nothing in it', () => {
    const root = selfSigned('Another Root', ['-addext', 'basicConstraints=critical,CA:TRUE']);
    const dir = join(tempDir(), 'home');
    expect(pki(['init', '--dir', dir, '--no-password', '--insecure']).code).toBe(0);
    const before = snapshotTree(dir);
    const r = pki(['init', '--dir', dir, '--import-ca', root.cert, '--import-key', root.key, '--no-password', '--insecure', '--json']);
    expectCliError(r, 'ERR_CA_EXISTS');
    expect(snapshotTree(dir)).toBe(before);
  });
});

/** A self-signed certificate made by openssl req -x509 with extra arguments, and its key. */
function selfSigned(name: string, args: string[], keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']): { cert: string; key: string } {
  const folder = tempDir();
  const cert = join(folder, `${name}.crt`);
  const key = join(folder, `${name}.key`);
  peer('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-subj', `/CN=${name}`, '-days', '30', '-out', cert, ...args]);
  return { cert, key };
}

describe('pki init --import-ca refusals: --json code, exit code, nothing on disk', () => {
  let ca: FlatCa;
  beforeAll(() => {
    ca = buildFlatCa(join(tempDir(), 'oldca'), { key: 'plain-ec' });
  });

  const refusals: [string, () => { args: string[]; env?: NodeJS.ProcessEnv }, string, RegExp, number?][] = [
    ['a key that is not the certificate\'s', () => ({ args: ['--import-ca', ca.cert, '--import-key', selfSigned('other', []).key] }), 'ERR_KEY_MISMATCH', /does not belong to the certificate to import/],
    ['a certificate that is not a CA', () => { const c = selfSigned('leaf', ['-addext', 'basicConstraints=critical,CA:FALSE']); return { args: ['--import-ca', c.cert, '--import-key', c.key] }; }, 'ERR_POLICY', /not a CA certificate/],
    ['a CA whose keyUsage lacks keyCertSign', () => { const c = selfSigned('nosign', ['-addext', 'keyUsage=critical,digitalSignature,cRLSign']); return { args: ['--import-ca', c.cert, '--import-key', c.key] }; }, 'ERR_POLICY', /lacks keyCertSign or cRLSign/],
    ['a CA with pathlen:0 (no intermediate may follow)', () => { const c = selfSigned('pathlen', ['-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0']); return { args: ['--import-ca', c.cert, '--import-key', c.key] }; }, 'ERR_POLICY', /pathlen:0/],
    ['an expired CA', () => { const c = selfSigned('expired', []); return { args: ['--import-ca', c.cert, '--import-key', c.key], env: { PKI_TEST_NOW: new Date(Date.now() + 40 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z') } }; }, 'ERR_ISSUER_EXPIRED', /expired on/],
    ['an RSA-1024 CA', () => { const c = selfSigned('rsa1024', [], ['-newkey', 'rsa:1024']); return { args: ['--import-ca', c.cert, '--import-key', c.key] }; }, 'ERR_WEAK_KEY', /1024 bits is too weak/],
    ['a CA signed with SHA-1', () => { const c = selfSigned('sha1', ['-sha1'], ['-newkey', 'rsa:2048']); return { args: ['--import-ca', c.cert, '--import-key', c.key] }; }, 'ERR_POLICY', /SHA-1/],
    ['a CA that is not self-signed (a sub-CA of another CA)', () => { const c = subCa(); return { args: ['--import-ca', c.cert, '--import-key', c.key] }; }, 'ERR_POLICY', /not self-signed/],
    ['a missing certificate file', () => ({ args: ['--import-ca', join(tempDir(), 'none.crt'), '--import-key', ca.key] }), 'ERR_FILE_NOT_FOUND', /none\.crt/],
    ['a missing key file', () => ({ args: ['--import-ca', ca.cert, '--import-key', join(tempDir(), 'none.key')] }), 'ERR_FILE_NOT_FOUND', /none\.key/],
    ['a missing index file', () => ({ args: ['--import-ca', ca.cert, '--import-key', ca.key, '--import-index', join(tempDir(), 'index.txt')] }), 'ERR_FILE_NOT_FOUND', /index\.txt/],
    ['an index.txt with a bad line', () => { const f = join(tempDir(), 'index.txt'); writeFileSync(f, `${readFileSync(ca.index, 'utf8')}V\tnot-a-time\t\t1002\tunknown\t/CN=x\n`); return { args: ['--import-ca', ca.cert, '--import-key', ca.key, '--import-index', f] }; }, 'ERR_MALFORMED_INDEX', /index\.txt line 3: expiry "not-a-time"/],
    ['an index.txt of another CA (its newcerts/ not signed by this one)', () => ({ args: ['--import-ca', selfSignedCa().cert, '--import-key', selfSignedCa().key, '--import-index', ca.index] }), 'ERR_MALFORMED_INDEX', /index\.txt line 1 \(serial 1000\): .*not signed by the CA given with --import-ca/],
    ['a wrong passphrase for an encrypted key', () => { const enc = buildFlatCa(join(tempDir(), 'enc')); return { args: ['--import-ca', enc.cert, '--import-key', enc.key, '--password-file', passwordFile('not the passphrase')] }; }, 'ERR_BAD_PASSWORD', /wrong passphrase/],
    ['--import-ca without --import-key', () => ({ args: ['--import-ca', ca.cert] }), 'ERR_USAGE', /--import-ca needs --import-key/, 2],
    ['--import-index without --import-ca', () => ({ args: ['--import-index', ca.index] }), 'ERR_USAGE', /--import-index needs --import-ca/, 2],
    ['--root-not-after with --import-ca', () => ({ args: ['--import-ca', ca.cert, '--import-key', ca.key, '--root-not-after', '20y'] }), 'ERR_USAGE', /imported root keeps its own dates/, 2],
  ];

  /** A CA certificate (CA:TRUE, no pathlen) signed by another CA, with its key. */
  function subCa(): { cert: string; key: string } {
    const folder = tempDir();
    const parent = selfSignedCa();
    const key = join(folder, 'sub.key');
    const csr = join(folder, 'sub.csr');
    const cert = join(folder, 'sub.crt');
    const ext = join(folder, 'ext.cnf');
    writeFileSync(ext, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=Sub CA', '-out', csr]);
    peer('openssl', ['x509', '-req', '-in', csr, '-CA', parent.cert, '-CAkey', parent.key, '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', cert]);
    return { cert, key };
  }
  let anotherCa: { cert: string; key: string } | undefined;
  function selfSignedCa() {
    return (anotherCa ??= selfSigned('Another CA', ['-addext', 'basicConstraints=critical,CA:TRUE']));
  }

  it.each(refusals)('refuses %s', (_name, make, code, message, exit = 1) => {
    const { args, env } = make();
    const dir = join(tempDir(), 'home');
    const insecure = args.includes('--password-file') ? [] : ['--no-password', '--insecure'];
    const r = pki(['init', '--dir', dir, ...args, ...insecure, '--json'], env ? { env } : {});
    const line = expectCliError(r, code, exit);
    expect(line).toMatch(message);
    expect(existsSync(dir), `${dir} was left behind`).toBe(false);
  });
});
