/**
 * Issue 12, point 1: `pki export` formats, read back by openssl and a real YAML parser, and its refusals
 * (exit code, --json error.code, nothing on disk changed). The servers that take the files (nginx, HAProxy)
 * are in export-peers.test.ts; the PKCS#12 encoding's peers are the PKCS#12 tests'.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';

let ca: string;
let certs: string;
let work: string;
let out: (name: string) => string;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g;
const blocks = (text: string) => text.match(PEM_CERT) ?? [];
const modeOf = (path: string) => statSync(path).mode & 0o777;
/** The public key openssl derives from a certificate or a private key (PEM text), to compare pairs. */
const opensslPublicKey = (args: readonly string[], input?: string) => peer('openssl', args, input === undefined ? {} : { input });

beforeAll(() => {
  ca = initCa();
  const g = pki(['generate', 'web', 'main', '--client', 'app', '--dir', ca]);
  expect(g.code, g.stderr).toBe(0);
  certs = join(ca, 'services/web/main/certs');
  work = tempDir('pki-export-');
  out = (name) => join(work, name);
});

const intermediatePem = () => readFileSync(join(ca, 'ca/intermediate_ca.crt'), 'utf8');

describe('pki export file formats', () => {
  it('--fullchain: leaf then intermediate, 0644, the bundle certificate as it is', () => {
    const r = pki(['export', 'web', 'main', '--fullchain', out('full.pem'), '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Wrote ${out('full.pem')} (fullchain:`);
    expect(modeOf(out('full.pem'))).toBe(0o644);
    const pems = blocks(readFileSync(out('full.pem'), 'utf8'));
    expect(pems).toHaveLength(2);
    expect(new X509Certificate(pems[0]!).subject).toContain('CN=web');
    expect(pems[1]).toBe(blocks(intermediatePem())[0]);
    const v = runPeer('openssl', ['verify', '-CAfile', join(certs, 'ca.crt'), '-untrusted', out('full.pem'), out('full.pem')]);
    expect(v.status, v.stderr).toBe(0);
  });

  it('--chain: exactly the intermediate', () => {
    const r = pki(['export', 'web', 'main', '--chain', out('chain.pem'), '--dir', ca, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'chain', path: out('chain.pem'), mode: 0o644, chain: [expect.stringContaining('Intermediate')] });
    expect(readFileSync(out('chain.pem'), 'utf8')).toBe(blocks(intermediatePem())[0]);
  });

  it('--der: the leaf as DER, read by openssl x509 -inform DER', () => {
    const r = pki(['export', 'web', 'main', '--client', 'app', '--der', out('app.der'), '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    const text = peer('openssl', ['x509', '-inform', 'DER', '-in', out('app.der'), '-noout', '-subject', '-fingerprint', '-sha256']);
    expect(text).toMatch(/subject=CN = app/);
    const expected = new X509Certificate(blocks(readFileSync(join(certs, 'app.crt'), 'utf8'))[0]!).fingerprint256;
    expect(text).toContain(expected);
    expect(readFileSync(out('app.der'))[0]).toBe(0x30);
  });

  it('--haproxy: leaf + intermediate + the matching key in one file, 0600', () => {
    const r = pki(['export', 'web', 'main', '--haproxy', out('web.pem'), '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    expect(modeOf(out('web.pem'))).toBe(0o600);
    const text = readFileSync(out('web.pem'), 'utf8');
    expect(blocks(text)).toHaveLength(2);
    expect(text).toMatch(/-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n[^-]+-----END PRIVATE KEY-----\n$/);
    const fromKey = opensslPublicKey(['pkey', '-in', out('web.pem'), '-pubout']);
    const fromCert = opensslPublicKey(['x509', '-in', out('web.pem'), '-noout', '-pubkey']);
    expect(fromKey).toBe(fromCert);
  });

  it('an existing file is replaced only with --force', () => {
    writeFileSync(out('forced.pem'), 'old\n');
    const refused = pki(['export', 'web', 'main', '--fullchain', out('forced.pem'), '--dir', ca, '--json']);
    expectCliError(refused, 'ERR_FILE_EXISTS');
    expect(readFileSync(out('forced.pem'), 'utf8')).toBe('old\n');
    const r = pki(['export', 'web', 'main', '--fullchain', out('forced.pem'), '--force', '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    expect(blocks(readFileSync(out('forced.pem'), 'utf8'))).toHaveLength(2);
  });

  it('a --cert/--key pair: the chain from the CA home that issued it, or from the rest of the --cert file', () => {
    const leafOnly = out('leaf-only.crt');
    writeFileSync(leafOnly, blocks(readFileSync(join(certs, 'web.crt'), 'utf8'))[0]!);
    const key = join(certs, 'web.key');
    const r = pki(['export', '--cert', leafOnly, '--key', key, '--fullchain', out('pair-full.pem'), '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out('pair-full.pem'), 'utf8')).toBe(readFileSync(join(certs, 'web.crt'), 'utf8'));
    // Another home did not issue it: the leaf alone, with a warning; --chain has nothing to write.
    const other = initCa();
    const alone = pki(['export', '--cert', leafOnly, '--key', key, '--fullchain', out('pair-alone.pem'), '--dir', other]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).toMatch(/^pki: warning: no intermediate CA certificate found/);
    expect(blocks(readFileSync(out('pair-alone.pem'), 'utf8'))).toHaveLength(1);
    expectCliError(pki(['export', '--cert', leafOnly, '--key', key, '--chain', out('pair-chain.pem'), '--dir', other, '--json']), 'ERR_UNTRUSTED_CERTIFICATE');
    // The bundle file holds the intermediate itself: no home needed.
    const fromFile = pki(['export', '--cert', join(certs, 'web.crt'), '--key', key, '--chain', out('pair-chain.pem'), '--dir', other]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(readFileSync(out('pair-chain.pem'), 'utf8')).toBe(blocks(intermediatePem())[0]);
  });
});

/** Parses YAML with PyYAML's safe loader (a real parser, not the renderer's own shape). */
function parseYaml(text: string): unknown {
  const r = spawnSync(requirePeer('python3'), ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`PyYAML could not parse the Secret (apt-get install python3-yaml if it is missing): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

interface Secret {
  apiVersion: string;
  kind: string;
  type: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  data: Record<'tls.crt' | 'tls.key' | 'ca.crt', string>;
}

describe('pki export --k8s-secret', () => {
  it('YAML a real parser reads: kubernetes.io/tls, default name, no namespace, data openssl reads and that matches', () => {
    const r = pki(['export', 'web', 'main', '--k8s-secret', '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    const secret = parseYaml(r.stdout) as Secret;
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'web-main-tls' } });
    expect(secret.metadata).not.toHaveProperty('namespace');
    const decoded = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) as Secret['data'];
    expect(decoded['tls.crt']).toBe(readFileSync(join(certs, 'web.crt'), 'utf8'));
    expect(decoded['ca.crt']).toBe(readFileSync(join(ca, 'ca/root_ca.crt'), 'utf8'));
    expect(peer('openssl', ['x509', '-noout', '-subject'], { input: decoded['tls.crt'] })).toMatch(/CN = web/);
    expect(peer('openssl', ['x509', '-noout', '-subject'], { input: decoded['ca.crt'] })).toMatch(/Root CA/);
    const fromKey = opensslPublicKey(['pkey', '-pubout'], decoded['tls.key']);
    expect(fromKey).toBe(opensslPublicKey(['x509', '-noout', '-pubkey'], decoded['tls.crt']));
    expect(createPublicKey(fromKey).asymmetricKeyType).toBe('ec');
    const serial = peer('openssl', ['x509', '-noout', '-serial'], { input: decoded['tls.crt'] }).trim().replace(/^serial=0*/, '');
    expect(secret.metadata.annotations).toMatchObject({ 'pki.dev/serial': serial, 'cert-manager.io/common-name': 'web', 'cert-manager.io/ip-sans': '127.0.0.1,::1' });
  });

  it('--json: the same Secret as JSON; --client names it after the client; --namespace and --name as given', () => {
    const r = pki(['export', 'web', 'main', '--client', 'app', '--k8s-secret', '--namespace', 'prod', '--json', '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    const py = spawnSync(requirePeer('python3'), ['-c', 'import json, sys; d = json.load(sys.stdin); print(d["metadata"]["name"], d["metadata"]["namespace"], d["type"])'], { input: r.stdout, encoding: 'utf8' });
    expect(py.stdout.trim()).toBe('web-main-app-tls prod kubernetes.io/tls');
    const secret = JSON.parse(r.stdout) as Secret;
    expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(readFileSync(join(certs, 'app.crt'), 'utf8'));
    const named = parseYaml(pki(['export', 'web', 'main', '--k8s-secret', '--name', 'front.tls', '--dir', ca]).stdout) as Secret;
    expect(named.metadata.name).toBe('front.tls');
  });
});

describe('pki export refusals of a --cert/--key pair', () => {
  it('an encrypted key (ERR_PASSWORD_REQUIRED) and a file whose certificates are not a chain (ERR_UNTRUSTED_CERTIFICATE)', () => {
    const dir = tempDir('pki-export-pair-');
    const encrypted = join(dir, 'enc.key');
    peer('openssl', ['pkey', '-in', join(certs, 'web.key'), '-aes256', '-passout', 'pass:secret-key-pass', '-out', encrypted]);
    const other = initCa();
    const mixed = join(dir, 'mixed.crt');
    writeFileSync(mixed, blocks(readFileSync(join(certs, 'web.crt'), 'utf8'))[0]! + readFileSync(join(other, 'ca/intermediate_ca.crt'), 'utf8'));
    const before = snapshotTree(dir);
    const enc = pki(['export', '--cert', join(certs, 'web.crt'), '--key', encrypted, '--fullchain', join(dir, 'x.pem'), '--dir', ca, '--json']);
    expect(expectCliError(enc, 'ERR_PASSWORD_REQUIRED')).toContain('openssl pkey');
    const notChain = pki(['export', '--cert', mixed, '--key', join(certs, 'web.key'), '--fullchain', join(dir, 'x.pem'), '--dir', ca, '--json']);
    expectCliError(notChain, 'ERR_UNTRUSTED_CERTIFICATE');
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('pki export refusals: exit code, --json error.code, disk unchanged', () => {
  const cases: [string, (o: (n: string) => string) => string[], string, number][] = [
    ['unknown bundle', (o) => ['export', 'nope', 'main', '--fullchain', o('x.pem')], 'ERR_FILE_NOT_FOUND', 1],
    ['unknown client', (o) => ['export', 'web', 'main', '--client', 'ghost', '--fullchain', o('x.pem')], 'ERR_FILE_NOT_FOUND', 1],
    ['a bundle name that leaves the home', (o) => ['export', '..', 'main', '--fullchain', o('x.pem')], 'ERR_INVALID_NAME', 1],
    ['two formats', (o) => ['export', 'web', 'main', '--fullchain', o('x.pem'), '--der', o('y.der')], 'ERR_USAGE', 2],
    ['no format', () => ['export', 'web', 'main'], 'ERR_USAGE', 2],
    ['no bundle and no --cert', (o) => ['export', '--fullchain', o('x.pem')], 'ERR_USAGE', 2],
    ['a bundle and --cert', (o) => ['export', 'web', 'main', '--cert', o('c'), '--key', o('k'), '--fullchain', o('x.pem')], 'ERR_USAGE', 2],
    ['--cert without --key', (o) => ['export', '--cert', join(certs, 'web.crt'), '--fullchain', o('x.pem')], 'ERR_USAGE', 2],
    ['--key without --cert', (o) => ['export', '--key', join(certs, 'web.key'), '--fullchain', o('x.pem')], 'ERR_USAGE', 2],
    ['a flag of another format', (o) => ['export', 'web', 'main', '--fullchain', o('x.pem'), '--legacy'], 'ERR_USAGE', 2],
    ['--cert --k8s-secret without --name', () => ['export', '--cert', join(certs, 'web.crt'), '--key', join(certs, 'web.key'), '--k8s-secret'], 'ERR_USAGE', 2],
    ['a key that is not the certificate’s', (o) => ['export', '--cert', join(certs, 'web.crt'), '--key', join(certs, 'app.key'), '--haproxy', o('x.pem')], 'ERR_KEY_MISMATCH', 1],
    ['--name that is not DNS-1123', () => ['export', 'web', 'main', '--k8s-secret', '--name', 'Web_TLS'], 'ERR_INVALID_NAME', 1],
    ['an existing file without --force', (o) => ['export', 'web', 'main', '--der', o('existing.der')], 'ERR_FILE_EXISTS', 1],
    ['an existing --p12 file: refused before the password is asked', (o) => ['export', 'web', 'main', '--p12', o('existing.der')], 'ERR_FILE_EXISTS', 1],
    ['an output path inside the bundle folder', () => ['export', 'web', 'main', '--fullchain', join(certs, 'web.crt'), '--force'], 'ERR_POLICY', 1],
    ['--p12 with no password source', (o) => ['export', 'web', 'main', '--p12', o('web.p12')], 'ERR_PASSWORD_REQUIRED', 1],
  ];

  it.each(cases)('%s', (_name, args, code, exit) => {
    const dir = tempDir('pki-export-refused-');
    const o = (n: string) => join(dir, n);
    writeFileSync(o('existing.der'), 'keep\n');
    const before = snapshotTree(dir) + snapshotTree(ca);
    const r = pki([...args(o), '--dir', ca, '--json'], { env: { PKI_P12_PASSWORD: '' } });
    expectCliError(r, code, exit);
    expect(snapshotTree(dir) + snapshotTree(ca)).toBe(before);
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY/);
  });
});
