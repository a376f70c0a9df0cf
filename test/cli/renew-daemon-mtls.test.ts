/**
 * `pki renew --daemon --ca-url` (issue 13, Done-means 5): a host without the CA home renews its certificate
 * against a real `pki serve` over mutual TLS (POST /1.0/renew), the current certificate as the credential.
 * The result verifies with openssl against the CA's root and keeps the SANs; --rekey sends only a CSR and
 * switches key (0600) and certificate together. A revoked certificate, an expired one and one from another
 * CA are refused: a clear line in the daemon's log and the server's, and the host's files untouched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initCa, PKI_BIN, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer, requirePeer } from '../helpers/peers.js';
import { OutputLog, stopProcess, waitForExit } from '../helpers/process.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const x509 = (path: string, ...flags: string[]) => peer('openssl', ['x509', '-in', path, '-noout', ...flags]).trim();
const serialOf = (path: string) => x509(path, '-serial').replace(/^serial=/, '');
const pubOf = (args: string[]) => peer('openssl', args).trim();

const children: ChildProcess[] = [];
const servers: PkiServe[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await stopProcess(c);
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(dir: string): Promise<PkiServe> {
  const s = await startPkiServe(dir);
  servers.push(s);
  return s;
}

function daemon(args: readonly string[]): { child: ChildProcess; log: OutputLog } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.PKI_DIR;
  const child = spawn(process.execPath, [PKI_BIN, 'renew', '--daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  return { child, log: new OutputLog(child.stdout, child.stderr) };
}

/**
 * A 3-minute bundle certificate, already past two thirds of its life (its notBefore 2.5 minutes ago), so the
 * daemon renews it at once; `window` moves it (an expired one). Returns the bundle's certs folder.
 */
function generate(dir: string, service: string, window: { from: number; to: number } = { from: -150_000, to: 30_000 }): string {
  const now = Date.now();
  const r = pki(['generate', service, 'main', '--dir', dir, '--insecure', '--no-client', '--san', `${service}.internal`, '--not-before', iso(now + window.from), '--not-after', iso(now + window.to)]);
  if (r.code !== 0) throw new Error(r.stderr);
  return join(dir, 'services', service, 'main', 'certs');
}

/** The pair copied to a host folder without the CA home, as plain files. */
function toHost(certs: string, service: string): { crt: string; key: string; folder: string } {
  const folder = tempDir('pki-host-');
  const crt = join(folder, `${service}.crt`);
  const key = join(folder, `${service}.key`);
  copyFileSync(join(certs, `${service}.crt`), crt);
  copyFileSync(join(certs, `${service}.key`), key);
  return { crt, key, folder };
}

describe('pki renew --daemon --ca-url (mutual TLS against pki serve)', () => {
  it('renews the certificate over mTLS: new serial, same SANs and subject, verifies against the root; --exec once', async () => {
    requirePeer('openssl');
    const dir = initCa();
    const server = await serve(dir);
    const host = toHost(generate(dir, 'app'), 'app');
    const before = { serial: serialOf(host.crt), san: x509(host.crt, '-ext', 'subjectAltName'), subject: x509(host.crt, '-subject'), key: pubOf(['pkey', '-in', host.key, '-pubout']) };
    const execLog = join(host.folder, 'exec.log');
    const { child, log } = daemon([host.crt, host.key, '--ca-url', server.httpsUrl, '--roots', join(dir, 'ca', 'root_ca.crt'), '--exec', `echo x >> '${execLog}'`]);
    await log.waitFor(/ran --exec after renewing/);
    expect(serialOf(host.crt)).not.toBe(before.serial);
    expect(x509(host.crt, '-ext', 'subjectAltName')).toBe(before.san);
    expect(x509(host.crt, '-subject')).toBe(before.subject);
    expect(pubOf(['x509', '-in', host.crt, '-noout', '-pubkey'])).toBe(before.key); // the same key, certified again
    expect(peer('openssl', ['verify', '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-untrusted', host.crt, host.crt])).toMatch(/: OK/);
    expect(readFileSync(execLog, 'utf8')).toBe('x\n');
    await server.stderr.waitFor(new RegExp(`"renewed over mTLS".*"serial":"${before.serial}"`));
    // The CA home's inventory records the successor, superseding the old one.
    const listed = pki(['list', '--dir', dir, '--insecure', '--json', '--all']);
    expect(listed.stdout).toContain(serialOf(host.crt));
    await stopProcess(child);
  }, 120_000);

  it('--rekey: a new key made on the host (only a CSR is sent), switched with the certificate in the bundle, 0600', async () => {
    const dir = initCa();
    const server = await serve(dir);
    const certs = generate(dir, 'db');
    const oldKey = pubOf(['pkey', '-in', join(certs, 'db.key'), '-pubout']);
    const { child, log } = daemon([join(certs, 'db.crt'), '--rekey', '--ca-url', server.httpsUrl, '--roots', join(dir, 'ca', 'root_ca.crt')]);
    await log.waitFor(/renewed .*db\.crt: .*new key/);
    const newKey = pubOf(['pkey', '-in', join(certs, 'db.key'), '-pubout']);
    expect(newKey).not.toBe(oldKey);
    expect(pubOf(['x509', '-in', join(certs, 'db.crt'), '-noout', '-pubkey'])).toBe(newKey);
    expect(statSync(join(certs, 'db.key')).mode & 0o777).toBe(0o600);
    expect(peer('openssl', ['verify', '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-untrusted', join(certs, 'db.crt'), join(certs, 'db.crt')])).toMatch(/: OK/);
    await stopProcess(child);
  }, 120_000);

  it('POST /1.0/renew speaks to curl and openssl: 200 with the chain; a CSR gives its key but not its names; 401 without a certificate; 400 for a bad CSR', async () => {
    requirePeer('curl');
    const dir = initCa();
    const server = await serve(dir);
    const host = toHost(generate(dir, 'api', { from: -60_000, to: 86_400_000 }), 'api');
    const root = join(dir, 'ca', 'root_ca.crt');
    const out = join(host.folder, 'out.pem');
    const curl = (...args: string[]) => peer('curl', ['-sS', '--cacert', root, '-X', 'POST', '-o', out, '-w', '%{http_code} %{content_type}', ...args, `${server.httpsUrl}/1.0/renew`]);
    // The same key: an empty body.
    expect(curl('--cert', host.crt, '--key', host.key, '-H', 'Content-Length: 0')).toBe('200 application/pem-certificate-chain');
    expect(peer('openssl', ['verify', '-CAfile', root, '-untrusted', out, out])).toMatch(/: OK/);
    expect(x509(out, '-ext', 'subjectAltName')).toBe(x509(host.crt, '-ext', 'subjectAltName'));
    expect(pubOf(['x509', '-in', out, '-noout', '-pubkey'])).toBe(pubOf(['pkey', '-in', host.key, '-pubout']));
    // A new key by CSR (DER): the CSR's subject and SANs are ignored, the old certificate's kept.
    const newKey = join(host.folder, 'new.key');
    const csr = join(host.folder, 'new.csr');
    peer('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', newKey]);
    peer('openssl', ['req', '-new', '-key', newKey, '-subj', '/CN=evil.example', '-addext', 'subjectAltName=DNS:evil.example', '-outform', 'DER', '-out', csr]);
    expect(curl('--cert', host.crt, '--key', host.key, '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${csr}`)).toBe('200 application/pem-certificate-chain');
    expect(pubOf(['x509', '-in', out, '-noout', '-pubkey'])).toBe(pubOf(['pkey', '-in', newKey, '-pubout']));
    expect(x509(out, '-subject')).toBe(x509(host.crt, '-subject'));
    expect(x509(out, '-ext', 'subjectAltName')).not.toContain('evil');
    // No client certificate: 401, a JSON problem.
    expect(curl('-H', 'Content-Length: 0')).toBe('401 application/problem+json');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ type: 'urn:pki:renew:no-certificate', status: 401 });
    // A CSR whose signature does not verify (one byte of the signature flipped): 400.
    const bad = readFileSync(csr);
    bad[bad.length - 5] ^= 0x01;
    const badCsr = join(host.folder, 'bad.csr');
    writeFileSync(badCsr, bad);
    expect(curl('--cert', host.crt, '--key', host.key, '--data-binary', `@${badCsr}`)).toBe('400 application/problem+json');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ type: 'urn:pki:renew:bad-csr' });
  }, 120_000);

  it('refuses at start what can never work: --rekey on a plain file, a plain certificate without its key', () => {
    const dir = initCa();
    const host = toHost(generate(dir, 'plain'), 'plain');
    const root = join(dir, 'ca', 'root_ca.crt');
    const before = snapshotTree(host.folder);
    const rekey = pki(['renew', '--daemon', host.crt, host.key, '--rekey', '--ca-url', 'https://127.0.0.1:1', '--roots', root]);
    expect(rekey.code).toBe(1);
    expect(rekey.stderr).toMatch(/--rekey needs the bundle layout/);
    const noKey = pki(['renew', '--daemon', host.crt, '--ca-url', 'https://127.0.0.1:1', '--roots', root]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/name the key of /);
    expect(snapshotTree(host.folder)).toBe(before);
  });

  const refusals: { name: string; prepare: (dir: string) => { crt: string; key: string; folder: string }; line: RegExp; reason: string }[] = [
    {
      name: 'a revoked certificate',
      prepare: (dir) => {
        const host = toHost(generate(dir, 'gone'), 'gone');
        expect(pki(['revoke', host.crt, '--dir', dir, '--insecure']).code).toBe(0);
        return host;
      },
      line: /HTTP 403\): certificate [0-9A-F]+ is revoked/,
      reason: 'revoked',
    },
    {
      name: 'an expired certificate',
      prepare: (dir) => toHost(generate(dir, 'old', { from: -600_000, to: -300_000 }), 'old'),
      line: /HTTP 403\): certificate [0-9A-F]+ expired on /,
      reason: 'expired',
    },
    {
      name: 'a certificate of another CA',
      prepare: () => {
        const other = initCa(['--name', 'other']);
        return toHost(generate(other, 'alien'), 'alien');
      },
      line: /HTTP 403\): certificate [0-9A-F]+ was not issued by an intermediate of this CA/,
      reason: 'foreign',
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}: a clear log line, retried with backoff, the host's files untouched`, async () => {
      const dir = initCa();
      const server = await serve(dir);
      const host = c.prepare(dir);
      const before = snapshotTree(host.folder);
      const { child, log } = daemon([host.crt, host.key, '--ca-url', server.httpsUrl, '--roots', join(dir, 'ca', 'root_ca.crt')]);
      await log.waitFor(new RegExp(`renewing .* failed: the CA refused the renewal \\(${c.line.source}.*; retry in \\S+`));
      await server.stderr.waitFor(new RegExp(`"renewal refused","reason":"${c.reason}"`));
      expect(snapshotTree(host.folder)).toBe(before);
      const started = performance.now();
      child.kill('SIGTERM');
      expect((await waitForExit(child)).code).toBe(0);
      expect(performance.now() - started).toBeLessThan(3_000);
    }, 120_000);
  }

  it('with pki serve stopped: connection refused is logged and retried; once it is back the renewal goes through', async () => {
    const dir = initCa();
    const first = await serve(dir);
    const url = first.httpsUrl;
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    const host = toHost(generate(dir, 'web', { from: -150_000, to: 60_000 }), 'web');
    const serial = serialOf(host.crt);
    const env = { PKI_TEST_CLOCK_RATE: '60' }; // backoff of 10 s → 1/6 s
    const child = spawn(process.execPath, [PKI_BIN, 'renew', '--daemon', host.crt, host.key, '--ca-url', url, '--roots', join(dir, 'ca', 'root_ca.crt')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.push(child);
    const log = new OutputLog(child.stdout, child.stderr);
    await log.waitFor(/failed: cannot connect to 127\.0\.0\.1:\d+: connection refused; retry in .*\(attempt 2\)/);
    expect(serialOf(host.crt)).toBe(serial);
    const port = new URL(url).port;
    const again = await startPkiServe(dir, { args: ['--listen', `127.0.0.1:${port}`] });
    servers.push(again);
    await log.waitFor(/renewed .*web\.crt: serial /);
    expect(serialOf(host.crt)).not.toBe(serial);
    await stopProcess(child);
  }, 120_000);
});
