/**
 * `pki sign`: CSRs from openssl, certtool and pki itself sign into certificates openssl verifies; bad
 * requests are refused with exit 1, one stderr line, nothing written and nothing recorded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, runPeer } from '../helpers/peers.js';

let ca: string;
let work: string;

const root = () => join(ca, 'ca', 'root_ca.crt');
const intermediate = () => join(ca, 'ca', 'intermediate_ca.crt');

function verify(certFile: string): { ok: boolean; output: string } {
  const r = runPeer('openssl', ['verify', '-CAfile', root(), '-untrusted', intermediate(), certFile]);
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

function recordCount(): number {
  // Read-write, so closing the last connection checkpoints and removes -wal/-shm: snapshots stay comparable.
  const db = new Database(join(ca, 'db', 'pki.sqlite'), { fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM certificates').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** An openssl-made request; `args` are extra `openssl req` arguments. */
function opensslCsr(name: string, newkey: string[], subject: string, extra: string[] = []): string {
  const out = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', ...newkey, '-nodes', '-keyout', join(work, `${name}.key`), '-out', out, '-subj', subject, ...extra]);
  return out;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

beforeAll(() => {
  ca = initCa();
  work = tempDir('pki-sign-');
});

describe('pki sign: requests from real tools', () => {
  it('signs an openssl EC request to stdout: leaf + intermediate, accepted by openssl verify, SANs kept', () => {
    const csr = opensslCsr('ec', EC, '/C=US/O=Acme/OU=Ignored/CN=web.example.com', ['-addext', 'subjectAltName=DNS:web.example.com,IP:10.0.0.1']);
    const r = pki(['sign', csr, '--dir', ca, '--san', 'alt.example.com']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const file = join(work, 'ec.crt');
    writeFileSync(file, r.stdout);
    expect(verify(file)).toEqual({ ok: true, output: `${file}: OK\n` });
    const text = peer('openssl', ['x509', '-in', file, '-noout', '-subject', '-ext', 'subjectAltName,basicConstraints,extendedKeyUsage']);
    expect(text).toContain('subject=O = Acme, CN = web.example.com');
    expect(text).toContain('DNS:web.example.com, IP Address:10.0.0.1, DNS:alt.example.com');
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).not.toContain('OU');
  });

  it('signs an openssl RSA-2048 request (DER input) with --profile client --out', () => {
    const pem = opensslCsr('rsa', ['-newkey', 'rsa:2048'], '/CN=alice');
    const der = join(work, 'rsa.der');
    peer('openssl', ['req', '-in', pem, '-outform', 'DER', '-out', der]);
    const out = join(work, 'rsa.crt');
    const r = pki(['sign', der, '--dir', ca, '--profile', 'client', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(verify(out).ok).toBe(true);
    expect(peer('openssl', ['x509', '-in', out, '-noout', '-ext', 'extendedKeyUsage,keyUsage'])).toMatch(/TLS Web Client Authentication[\s\S]*|Key Encipherment/);
  });

  it('signs a GnuTLS certtool request (NEW CERTIFICATE REQUEST label, text before the PEM)', () => {
    const key = join(work, 'certtool.key');
    const template = join(work, 'certtool.cfg');
    const csr = join(work, 'certtool.csr');
    peer('certtool', ['--generate-privkey', '--key-type', 'ecdsa', '--outfile', key]);
    writeFileSync(template, 'cn = "certtool.example.com"\ndns_name = "certtool.example.com"\ntls_www_server\nsigning_key\n');
    peer('certtool', ['--generate-request', '--load-privkey', key, '--template', template, '--outfile', csr]);
    const out = join(work, 'certtool.crt');
    const r = pki(['sign', csr, '--dir', ca, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(verify(out).ok).toBe(true);
    // and certtool accepts the chain too
    const chain = peer('certtool', ['--verify', '--load-ca-certificate', root(), '--infile', out]);
    expect(chain).toMatch(/Chain verification output: Verified/);
  });

  it('signs several requests in one run with --out-dir and records them in one go; --json lists them', () => {
    const files = [1, 2, 3].map((i) => opensslCsr(`batch${i}`, EC, `/CN=batch${i}.example.com`));
    const before = recordCount();
    const outDir = join(work, 'batch-out');
    const r = pki(['sign', ...files, '--dir', ca, '--out-dir', outDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { serial: string; path: string }[];
    expect(results.map((x) => x.path)).toEqual([1, 2, 3].map((i) => join(outDir, `batch${i}.crt`)));
    for (const x of results) expect(verify(x.path).ok).toBe(true);
    expect(recordCount()).toBe(before + 3);
  });

  it('--json with one request and no --out prints one JSON document holding the chain', () => {
    const csr = opensslCsr('json', EC, '/CN=json.example.com');
    const r = pki(['sign', csr, '--dir', ca, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { chain: string; serial: string; path: null };
    expect(doc.chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(doc.path).toBeNull();
  });
});

describe('pki sign: refusals (exit 1, one line, nothing written, nothing recorded)', () => {
  function expectRefused(args: string[], code: string, pattern: RegExp, exit = 1): void {
    const before = snapshotTree(ca);
    const beforeWork = snapshotTree(work);
    const records = recordCount();
    const r = pki(['sign', '--json', ...args, '--dir', ca, '--out', join(work, 'refused.crt')]);
    expect(expectCliError(r, code, exit)).toMatch(pattern);
    expect(snapshotTree(ca)).toBe(before);
    expect(snapshotTree(work)).toBe(beforeWork);
    expect(recordCount()).toBe(records);
  }

  it('a request whose signature has one flipped byte', () => {
    const pem = opensslCsr('tampered-src', EC, '/CN=tampered.example.com');
    const der = readFileSync(pem, 'utf8');
    const bytes = Buffer.from(der.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    bytes[bytes.length - 3]! ^= 0x01; // inside the ECDSA signature's s value
    const tampered = join(work, 'tampered.der');
    writeFileSync(tampered, bytes);
    expectRefused([tampered], 'ERR_CSR_SIGNATURE', /tampered\.der: the request's self-signature does not verify/);
  });

  it('a request asking for CA:TRUE', () => {
    const csr = opensslCsr('ca-true', EC, '/CN=evil-ca', ['-addext', 'basicConstraints=critical,CA:TRUE']);
    expectRefused([csr], 'ERR_POLICY', /asks for a CA certificate \(basicConstraints CA:TRUE\)/);
  });

  it('a request with an RSA-1024 key', () => {
    const csr = opensslCsr('rsa1024', ['-newkey', 'rsa:1024'], '/CN=weak.example.com');
    expectRefused([csr], 'ERR_WEAK_KEY', /RSA key of 1024 bits is too weak/);
  });

  it('a request asking for keyCertSign', () => {
    const csr = opensslCsr('kcs', EC, '/CN=kcs.example.com', ['-addext', 'keyUsage=critical,digitalSignature,keyCertSign']);
    expectRefused([csr], 'ERR_POLICY', /CA key usage keyCertSign/);
  });

  it('a request asking for key usages beyond the profile', () => {
    const csr = opensslCsr('ku', EC, '/CN=ku.example.com', ['-addext', 'keyUsage=digitalSignature,nonRepudiation']);
    expectRefused([csr], 'ERR_POLICY', /key usage contentCommitment, beyond the server profile/);
  });

  it('a request asking for clientAuth under --profile server', () => {
    const csr = opensslCsr('eku', EC, '/CN=eku.example.com', ['-addext', 'extendedKeyUsage=clientAuth']);
    expectRefused([csr], 'ERR_POLICY', /extended key usage clientAuth, beyond the server profile/);
  });

  it('a request with an unknown critical extension', () => {
    const csr = opensslCsr('crit', EC, '/CN=crit.example.com', ['-addext', '1.2.3.4.5=critical,DER:05:00']);
    expectRefused([csr], 'ERR_POLICY', /extension 1\.2\.3\.4\.5, marked critical/);
  });

  it('a request signed with SHA-1', () => {
    const csr = opensslCsr('sha1', ['-newkey', 'rsa:2048', '-sha1'], '/CN=sha1.example.com');
    expectRefused([csr], 'ERR_POLICY', /SHA-1 signatures are refused/);
  });

  it('a request with no subject CN and no SAN', () => {
    const csr = opensslCsr('noname', EC, '/O=Nameless');
    expectRefused([csr], 'ERR_POLICY', /no subject common name and no subject alternative name/);
  });

  it('a request with an invalid SAN', () => {
    const csr = opensslCsr('badsan', EC, '/CN=badsan', ['-addext', 'subjectAltName=DNS:bad_label!.example.com']);
    expectRefused([csr], 'ERR_INVALID_SAN', /invalid SAN/);
  });

  it('a file that is not a request', () => {
    expectRefused([root()], 'ERR_MALFORMED_CSR', /no CERTIFICATE REQUEST block/);
  });

  it('one bad request in a batch refuses the whole batch', () => {
    const good = opensslCsr('batch-good', EC, '/CN=good.example.com');
    const bad = opensslCsr('batch-bad', ['-newkey', 'rsa:1024'], '/CN=bad.example.com');
    const before = snapshotTree(ca);
    const outDir = join(work, 'never');
    const r = pki(['sign', '--json', good, bad, '--dir', ca, '--out-dir', outDir]);
    expect(expectCliError(r, 'ERR_WEAK_KEY')).toMatch(/batch-bad\.csr: .*1024 bits/);
    expect(snapshotTree(ca)).toBe(before);
    expect(snapshotTree(outDir)).toBe('');
  });

  it('usage errors exit 2: several requests without --out-dir, unknown --profile', () => {
    const a = opensslCsr('u1', EC, '/CN=u1');
    expectCliError(pki(['sign', '--json', a, a, '--dir', ca]), 'ERR_USAGE', 2);
    expectCliError(pki(['sign', '--json', a, '--profile', 'ca', '--dir', ca]), 'ERR_USAGE', 2);
  });

  it('refuses to overwrite an existing --out file without --force', () => {
    const csr = opensslCsr('exists', EC, '/CN=exists.example.com');
    const out = join(work, 'exists.crt');
    writeFileSync(out, 'keep me');
    const before = snapshotTree(ca);
    expect(expectCliError(pki(['sign', '--json', csr, '--dir', ca, '--out', out]), 'ERR_FILE_EXISTS')).toMatch(/already exists/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(snapshotTree(ca)).toBe(before);
    expect(pki(['sign', csr, '--dir', ca, '--out', out, '--force']).code).toBe(0);
    expect(verify(out).ok).toBe(true);
  });
});

describe('pki sign: CRL and OCSP URLs from pki.json', () => {
  it('stamps crl.distributionPoints and ocsp.urls into signed certificates', () => {
    const home = initCa();
    const configPath = join(home, 'pki.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    config.crl = { distributionPoints: ['http://pki.example.com/intermediate.crl'], nextUpdate: '7d' };
    config.ocsp = { urls: ['http://ocsp.example.com'] };
    writeFileSync(configPath, JSON.stringify(config));
    const csr = opensslCsr('urls', EC, '/CN=urls.example.com');
    const r = pki(['sign', csr, '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    const text = peer('openssl', ['x509', '-noout', '-ext', 'crlDistributionPoints,authorityInfoAccess'], { input: r.stdout });
    expect(text).toContain('URI:http://pki.example.com/intermediate.crl');
    expect(text).toContain('OCSP - URI:http://ocsp.example.com');
  });
});
