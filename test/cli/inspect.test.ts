import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, PKI_BIN, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, runPeer } from '../helpers/peers.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/x509');

/** What openssl says about a certificate, in the shapes pki --json uses. */
function opensslFacts(file: string, inform: 'PEM' | 'DER' = 'PEM') {
  const out = runPeer('openssl', ['x509', '-inform', inform, '-in', file, '-noout', '-subject', '-issuer', '-serial', '-startdate', '-enddate', '-nameopt', 'RFC2253', '-ext', 'subjectAltName']);
  expect(out.status, out.stderr).toBe(0);
  const line = (k: string) => out.stdout.match(new RegExp(`^${k}=(.*)$`, 'm'))![1]!;
  const sanLine = out.stdout.split('X509v3 Subject Alternative Name:')[1]?.trim() ?? '';
  const sans = { dns: [] as string[], ip: [] as string[], email: [] as string[], uri: [] as string[] };
  for (const part of sanLine.split(/,\s*/).filter(Boolean)) {
    const [kind, ...rest] = part.split(':');
    const value = rest.join(':');
    if (kind === 'DNS') sans.dns.push(value);
    else if (kind === 'IP Address') sans.ip.push(value);
    else if (kind === 'email') sans.email.push(value);
    else if (kind === 'URI') sans.uri.push(value);
  }
  return {
    subject: line('subject'),
    issuer: line('issuer'),
    serial: line('serial').replace(/^0+/, ''),
    notBefore: new Date(line('notBefore')).toISOString(),
    notAfter: new Date(line('notAfter')).toISOString(),
    sans,
  };
}

/** openssl prints IPv6 in full (0:0:…:1); pki prints RFC 5952 text. Compare as bytes. */
const expandIp = (ip: string) => (ip.includes(':') ? ip.split(':').length === 8 && !ip.includes('::') ? ip.split(':').map((g) => parseInt(g, 16)).join(':') : expandCompressed(ip) : ip);
function expandCompressed(ip: string): string {
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16)).join(':');
}

function compare(file: string, inform: 'PEM' | 'DER' = 'PEM') {
  const r = pki(['inspect', '--json', file]);
  expect(r.code, r.stderr).toBe(0);
  const parsed = JSON.parse(r.stdout);
  const report = Array.isArray(parsed) ? parsed[0] : parsed;
  const facts = opensslFacts(file, inform);
  expect(report.type).toBe('certificate');
  expect(report.subject).toBe(facts.subject);
  expect(report.issuer).toBe(facts.issuer);
  expect(report.serial).toBe(facts.serial);
  expect(report.notBefore).toBe(facts.notBefore);
  expect(report.notAfter).toBe(facts.notAfter);
  expect(report.sans.dns).toEqual(facts.sans.dns);
  expect(report.sans.email).toEqual(facts.sans.email);
  expect(report.sans.uri).toEqual(facts.sans.uri);
  expect(report.sans.ip.map(expandIp)).toEqual(facts.sans.ip.map(expandIp));
  const fp = runPeer('openssl', ['x509', '-inform', inform, '-in', file, '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1]!.replace(/:/g, '');
  expect(report.fingerprintSha256).toBe(fp);
  return report;
}

describe('pki inspect agrees with openssl x509', () => {
  it.each(['openssl-rsa.crt', 'openssl-ec384.crt'])('fixture %s', (name) => {
    compare(join(FIXTURES, name));
  });

  it('reads DER as well as PEM', () => {
    const report = compare(join(FIXTURES, 'openssl-rsa.der'), 'DER');
    expect(report.key).toEqual({ type: 'RSA', size: 2048 });
    expect(report.subject).toBe('CN=web.example.com,OU=Ops,O=Example\\, Inc.,C=DE');
    expect(report.serial).toBe('A1B2C3D4E5F60718');
  });

  it('reports key, constraints and usages of our own certificates', () => {
    const dir = initCa(['--kty', 'EC', '--crv', 'P-384']);
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'spiffe://example.org/redis', '--san', 'ops@example.org']).code).toBe(0);
    const file = join(dir, 'services/redis/main/certs/redis.crt');
    const r = pki(['inspect', '--json', file]);
    const [leaf, intermediate] = JSON.parse(r.stdout);
    expect(leaf).toMatchObject({
      type: 'certificate',
      subject: 'CN=redis',
      issuer: 'CN=pki Intermediate CA',
      key: { type: 'EC', curve: 'P-384' },
      isCA: false,
      pathLen: null,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
      signatureAlgorithm: 'ecdsa-with-SHA384',
      sans: { dns: ['redis', 'localhost'], ip: ['127.0.0.1', '::1'], email: ['ops@example.org'], uri: ['spiffe://example.org/redis'] },
    });
    expect(intermediate).toMatchObject({ isCA: true, pathLen: 0, keyUsage: ['keyCertSign', 'cRLSign'] });
    expect(leaf.authorityKeyIdentifier).toBe(intermediate.subjectKeyIdentifier);
    compare(file);
    const human = pki(['inspect', file]);
    expect(human.stdout).toMatch(/Subject\s+CN=redis/);
    expect(human.stdout).toMatch(/days left/);
    expect(human.stdout).toMatch(/SHA-256 fingerprint\s+[0-9A-F]{64}/);
  });

  it('describes a CSR and private keys without printing the secret', () => {
    const csr = pki(['inspect', '--json', join(FIXTURES, 'openssl-ec384.csr')]);
    expect(JSON.parse(csr.stdout)).toMatchObject({ type: 'csr', subject: 'CN=api.internal', sans: { dns: ['api.internal'], ip: ['10.0.0.5'] }, key: { type: 'EC', curve: 'P-384' }, signatureValid: true });
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const keyFile = join(dir, 'services/redis/main/certs/redis.key');
    const key = pki(['inspect', '--json', keyFile]);
    const report = JSON.parse(key.stdout);
    expect(report).toMatchObject({ type: 'privateKey', key: { type: 'EC', curve: 'P-256' }, encrypted: false });
    const secret = readFileSync(keyFile, 'utf8').split('\n').slice(1, -2).join('');
    expect(key.stdout).not.toContain(secret.slice(10, 40));
    const spkiHash = runPeer('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
    expect(spkiHash.status).toBe(0);
  });

  it('describes an encrypted CA key by its encryption, without a passphrase', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--dir', dir], { env: { PKI_PASSWORD: 'inspect me please' } }).code).toBe(0);
    const r = pki(['inspect', '--json', join(dir, 'ca/intermediate_ca.key')]);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'privateKey', encrypted: true, encryption: { scheme: 'PBES2', kdf: 'PBKDF2', iterations: 600000, cipher: 'aes-256-cbc' } });
  });
});

describe('pki inspect refuses malformed input with one line and exit 1', () => {
  const good = readFileSync(join(FIXTURES, 'openssl-rsa.crt'), 'utf8');
  const der = readFileSync(join(FIXTURES, 'openssl-rsa.der'));
  it.each([
    ['an empty file', '', /empty/, 'ERR_EMPTY_INPUT'],
    ['garbage text', 'hello world, not a certificate\n', /no PEM block|not PEM and not DER/, 'ERR_UNKNOWN_OBJECT'],
    ['truncated PEM', good.slice(0, good.length / 2), /no matching END|truncated/, 'ERR_MALFORMED_PEM'],
    ['bad base64', good.replace(/^MII/m, 'M*I'), /not base64/, 'ERR_MALFORMED_PEM'],
    ['a binary that is not DER', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3, 4]), /not PEM and not DER/, 'ERR_UNKNOWN_OBJECT'],
    ['truncated DER', der.subarray(0, der.length - 10), /not a certificate|DER/, 'ERR_UNKNOWN_OBJECT'],
    ['a DER length past the end', Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01]), /not a certificate|DER/, 'ERR_UNKNOWN_OBJECT'],
  ])('%s', (_name, content, message, code) => {
    const file = join(tempDir(), 'input');
    writeFileSync(file, content);
    const r = pki(['inspect', file]);
    expect(expectOneLineError(r)).toMatch(message);
    expect(r.stdout).toBe('');
    const json = pki(['inspect', '--json', file]);
    expect(expectCliError(json, code)).toBe(expectOneLineError(r));
  });

  it('a missing file', () => {
    expect(expectCliError(pki(['inspect', '--json', '/nonexistent/file.crt']), 'ERR_FILE_NOT_FOUND')).toMatch(/cannot read \/nonexistent\/file\.crt: no such file/);
  });
});

describe('pki inspect in a pipeline and on files it does not fully read (issue 9, point 18)', () => {
  it('pki inspect … | head -1: the reader closing early ends quietly with exit 0, no EPIPE stack', async () => {
    // ~2 MB of report, far more than a 64 KiB pipe buffer: the write is still pending when the reader
    // closes after its first chunk, so the EPIPE happens on every run.
    const chain = readFileSync(join(FIXTURES, 'openssl-rsa.crt'), 'utf8').repeat(2000);
    const file = join(tempDir(), 'long-chain.pem');
    writeFileSync(file, chain);
    const child = spawn(process.execPath, [PKI_BIN, 'inspect', file], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let firstChunk = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', (d) => {
      firstChunk = String(d);
      child.stdout.destroy(); // what head -1 does after its line
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])));
    expect(firstChunk).toMatch(/^Certificate/);
    expect(stderr).toBe('');
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });

  it('a folder is one clear error (ERR_IS_DIRECTORY, exit 1), not EISDIR', () => {
    const dir = tempDir();
    const r = pki(['inspect', '--json', dir]);
    expect(expectOneLineError(r)).toMatch(/is a folder; inspect reads one file/);
    expect(JSON.parse(r.stdout).error.code).toBe('ERR_IS_DIRECTORY');
  });

  it("reads pki's own KRL (ssh/revoked_keys): version, date, revoked serials and key ids, as ssh-keygen -Q -l lists them", () => {
    const dir = initCa();
    expect(pki(['ssh', 'init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const keys = tempDir();
    peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'id')]);
    const signed = JSON.parse(pki(['ssh', 'sign', '--json', '--user', '--principal', 'alice', '--key-id', 'alice@laptop', '--dir', dir, join(keys, 'id.pub')]).stdout);
    expect(pki(['ssh', 'revoke', signed.serial, '--dir', dir]).code).toBe(0);
    const krlFile = join(dir, 'ssh/revoked_keys');
    const before = snapshotTree(dir);
    const r = pki(['inspect', '--json', krlFile]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const listing = peer('ssh-keygen', ['-Q', '-l', '-f', krlFile]);
    expect(report).toMatchObject({ type: 'sshKrl', formatVersion: 1, comment: 'pki', signed: false, revokedKeys: [] });
    expect(listing).toContain(`# KRL version ${report.version}`);
    expect(report.generatedAt.replace(/[-:]/g, '').replace('.000Z', '')).toBe(listing.match(/# Generated at (\d{8}T\d{6})/)![1]);
    expect(report.certificates).toHaveLength(1);
    expect(report.certificates[0]).toMatchObject({ serials: [signed.serial], keyIds: ['alice@laptop'], serialRanges: [] });
    expect(listing).toContain(`# CA key ${report.certificates[0].ca.keyType} ${report.certificates[0].ca.fingerprint}`);
    const human = pki(['inspect', krlFile]);
    expect(human.stdout).toMatch(new RegExp(`Revoked serials\\s+${signed.serial}`));
    expect(snapshotTree(dir)).toBe(before);
  });

  it("reads ssh-keygen's KRLs too: serial ranges, bitmaps, key ids and plain keys", () => {
    const dir = tempDir();
    peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]);
    peer('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(dir, 'user')]);
    writeFileSync(join(dir, 'spec'), 'serial: 1000-900000\nserial: 7\nserial: 9\nserial: 12\nid: bob\n');
    peer('ssh-keygen', ['-k', '-f', join(dir, 'krl'), '-s', join(dir, 'ca.pub'), join(dir, 'spec')]);
    peer('ssh-keygen', ['-k', '-u', '-f', join(dir, 'krl'), join(dir, 'user.pub')]);
    const report = JSON.parse(pki(['inspect', '--json', join(dir, 'krl')]).stdout);
    const listing = peer('ssh-keygen', ['-Q', '-l', '-f', join(dir, 'krl')]);
    const c = report.certificates[0];
    const listed = [...c.serials, ...c.serialRanges.map((x: { from: string; to: string }) => `${x.from}-${x.to}`)];
    expect(listed.sort()).toEqual([...listing.matchAll(/^serial: (\S+)/gm)].map((m) => m[1]).sort());
    expect(c.serialRanges).toContainEqual({ from: '1000', to: '900000' });
    expect(c.keyIds).toEqual(['bob']);
    expect(report.revokedKeys).toEqual([{ keyType: 'ecdsa-sha2-nistp256', fingerprint: peer('ssh-keygen', ['-l', '-f', join(dir, 'user.pub')]).split(' ')[1] }]);
  });

  it('says what a PKCS#12 file is instead of "not a certificate", and reads it with its password', () => {
    const dir = initCa();
    expect(pki(['generate', 'web', 'main', '--no-client', '--dir', dir]).code).toBe(0);
    const certs = join(dir, 'services/web/main/certs');
    const p12 = join(tempDir(), 'web.p12');
    peer('openssl', ['pkcs12', '-export', '-in', join(certs, 'web.crt'), '-inkey', join(certs, 'web.key'), '-passout', 'pass:p12-secret', '-out', p12]);
    const line = expectCliError(pki(['inspect', '--json', p12]), 'ERR_PASSWORD_REQUIRED');
    expect(line).toContain('PKCS#12');
    const r = pki(['inspect', '--json', p12], { env: { PKI_P12_PASSWORD: 'p12-secret' } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'pkcs12', bytes: readFileSync(p12).length, mac: { algorithm: 'sha256', iterations: 2048 } });
    const human = pki(['inspect', p12], { env: { PKI_P12_PASSWORD: 'p12-secret' } });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`PKCS#12 file (${readFileSync(p12).length} bytes)`);
  });
});
