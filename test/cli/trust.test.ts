/**
 * Issue 12, point 2: `pki trust` against this host's real trust stores (Debian layout; the suite runs as
 * root here and in CI). After `install`, plain `curl https://localhost:PORT/` (no --cacert) to an nginx
 * serving our bundle succeeds and `openssl verify` without -CAfile accepts the leaf; with --nss the shared
 * NSS database of $HOME (a temp folder) lists the root, with --java a COPY of the JDK cacerts (never the
 * real one) holds it. After `uninstall` each fails again and /etc/ssl/certs is as before: the bundle's
 * hash and every entry's name and content.
 *
 * The system store is shared with every other test file (verify's default anchors read it), so every test
 * that changes it, or asserts that nothing changed it, is in this one file (tests in a file run one after
 * another); the installed window is one test; afterAll uninstalls whatever is left, even after a failure,
 * and falls back to removing the anchor file and running update-ca-certificates --fresh itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir, type CliResult } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { requirePeer, runPeer } from '../helpers/peers.js';

const CERTS_DIR = '/etc/ssl/certs';
const BUNDLE = join(CERTS_DIR, 'ca-certificates.crt');
const ANCHOR_DIR = '/usr/local/share/ca-certificates';
/** update-ca-certificates and its Debian hooks (Java's cacerts is rebuilt by a JVM) take tens of seconds on a busy host. */
const CYCLE_MS = 900_000;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The system store as programs see it: the bundle's hash, then every /etc/ssl/certs entry with the hash of
 * what it reads as (a link is followed: on this machine one anchor is a plain file that update-ca-certificates
 * turns into a link to the same bytes the first time it runs, which no program can tell apart), and the
 * names in the local anchor folder.
 */
function systemStore(): string {
  const lines = [`bundle ${sha256(readFileSync(BUNDLE))}`];
  for (const name of readdirSync(CERTS_DIR).sort()) {
    const path = join(CERTS_DIR, name);
    let what: string;
    try {
      what = statSync(path).isDirectory() ? 'folder' : sha256(readFileSync(path));
    } catch {
      what = 'dangling link';
    }
    lines.push(`${name} ${what}`);
  }
  lines.push(`anchors ${readdirSync(ANCHOR_DIR).sort().join(' ')}`);
  return lines.join('\n');
}

/** curl and openssl with their default trust (the variables this sandbox sets would override it). */
function defaultTrustEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ['CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'NIX_SSL_CERT_FILE']) delete env[name];
  return env;
}

/** A self-signed certificate made by openssl: `-addext` lines decide what kind. */
function opensslSelfSigned(dir: string, name: string, ext: string[]): string {
  const out = join(dir, `${name}.crt`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', out, '-subj', `/CN=${name}`, '-days', '30'];
  const r = runPeer('openssl', [...args, ...ext.flatMap((e) => ['-addext', e])]);
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

/** A self-signed version 1 certificate (no extensions, so no basicConstraints): `openssl x509 -req -signkey`. */
function opensslNoExtensions(dir: string): string {
  const key = join(dir, 'v1.key');
  const csr = join(dir, 'v1.csr');
  const out = join(dir, 'v1.crt');
  const req = runPeer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=pki trust v1']);
  if (req.status !== 0) throw new Error(req.stderr);
  const x = runPeer('openssl', ['x509', '-req', '-in', csr, '-signkey', key, '-days', '30', '-out', out]);
  if (x.status !== 0) throw new Error(x.stderr);
  return out;
}

/** A self-signed CA certificate valid in 2020 only: `openssl ca -selfsign` is the OpenSSL 3.0 way to set both dates. */
function opensslExpiredRoot(dir: string): string {
  const work = join(dir, 'expired-ca');
  mkdirSync(work);
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), '01\n');
  writeFileSync(
    join(work, 'ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${work}/index.txt\nnew_certs_dir = ${work}\nserial = ${work}/serial\ndefault_md = sha256\npolicy = p\nx509_extensions = v3\n[p]\ncommonName = supplied\n[v3]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n`,
  );
  const key = join(work, 'k.pem');
  const csr = join(work, 'r.csr');
  const out = join(dir, 'expired-root.crt');
  const req = runPeer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=pki trust expired root']);
  if (req.status !== 0) throw new Error(req.stderr);
  const ca = runPeer('openssl', ['ca', '-batch', '-config', join(work, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', csr, '-out', out, '-notext', '-startdate', '20200101000000Z', '-enddate', '20210101000000Z']);
  if (ca.status !== 0) throw new Error(ca.stderr);
  return out;
}

function anchorsOf(label: string): string[] {
  return readdirSync(ANCHOR_DIR).filter((n) => n.startsWith(label));
}

describe('pki trust on this host (root, Debian layout)', () => {
  let ca: string;
  let work: string;
  let home: string;
  let keystore: string;
  let label: string;
  let leaf: string;
  let intermediate: string;
  let nginx: Nginx | undefined;
  let before: string;
  let anchorsBefore: string[] = [];
  const storeFlags = () => ['--nss', '--java', '--java-keystore', keystore];
  const asUser = (args: string[], extra: NodeJS.ProcessEnv = {}): CliResult => pki(args, { env: { HOME: home, ...extra } });

  beforeAll(async () => {
    for (const peer of ['update-ca-certificates', 'curl', 'openssl', 'certutil', 'keytool', 'nginx', 'setpriv']) requirePeer(peer);
    expect(process.getuid?.(), 'these tests change the system trust store and must run as root (CI does)').toBe(0);
    expect(existsSync('/etc/debian_version') && existsSync(ANCHOR_DIR), 'the Debian trust store layout').toBe(true);
    ca = initCa(['--name', `trust test ${randomBytes(4).toString('hex')}`]);
    const g = pki(['generate', 'svc', 'main', '--dir', ca]);
    if (g.code !== 0) throw new Error(g.stderr);
    work = tempDir('pki-trust-');
    home = join(work, 'home');
    mkdirSync(home);
    keystore = join(work, 'cacerts');
    copyFileSync('/etc/ssl/certs/java/cacerts', keystore);
    const certs = join(ca, 'services/svc/main/certs');
    leaf = join(work, 'leaf.pem');
    writeFileSync(leaf, readFileSync(join(certs, 'svc.crt'), 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
    intermediate = join(ca, 'ca/intermediate_ca.crt');
    const status = pki(['trust', 'status', '--dir', ca, '--json']);
    label = (JSON.parse(status.stdout) as { root: { label: string } }).root.label;
    nginx = await startNginx({
      prefix: 'pki-nginx-trust-',
      server: `    ssl_certificate ${join(certs, 'svc.crt')};\n    ssl_certificate_key ${join(certs, 'svc.key')};\n    location / { return 200 "hello\\n"; }`,
    });
    before = systemStore();
    anchorsBefore = readdirSync(ANCHOR_DIR);
  });

  afterAll(async () => {
    if (nginx) await nginx.server.stop();
    if (!ca) return;
    // Whatever a failed test left: pki's own uninstall first, then by hand.
    const r = asUser(['trust', 'uninstall', '--dir', ca, ...storeFlags()]);
    // Any pki anchor that was not there before the run (a refusal that failed to refuse installs its own).
    const left = readdirSync(ANCHOR_DIR).filter((n) => n.startsWith('pki-') && !anchorsBefore.includes(n));
    if (r.code !== 0 || left.length > 0 || systemStore() !== before) {
      for (const name of left) runPeer('rm', ['-f', join(ANCHOR_DIR, name)]);
      const fresh = spawnSync(requirePeer('update-ca-certificates'), ['--fresh'], { encoding: 'utf8', timeout: CYCLE_MS / 2 });
      if (fresh.status !== 0) throw new Error(`update-ca-certificates --fresh: ${fresh.stderr}`);
    }
    expect(systemStore()).toBe(before);
  }, CYCLE_MS);

  const curl = () => runPeer('curl', ['-sS', '--max-time', '30', `https://localhost:${nginx!.server.port}/`], { env: defaultTrustEnv() });
  const verifyLeaf = () => runPeer('openssl', ['verify', '-untrusted', intermediate, leaf], { env: defaultTrustEnv() });
  const nssLists = () => runPeer('certutil', ['-L', '-d', `sql:${join(home, '.pki/nssdb')}`]).stdout.includes(label);
  const javaHolds = () => runPeer('keytool', ['-list', '-alias', label, '-keystore', keystore, '-storepass', 'changeit']).status === 0;

  it('refuses a leaf, a certificate without basicConstraints, an intermediate, an expired root, a file of two certificates and a missing file, before anything changes', () => {
    const dir = tempDir('pki-trust-bad-');
    const cases: [string, string][] = [
      [opensslSelfSigned(dir, 'leaf', ['basicConstraints=critical,CA:FALSE']), 'ERR_NOT_A_ROOT'],
      [opensslNoExtensions(dir), 'ERR_NOT_A_ROOT'],
      [intermediate, 'ERR_NOT_A_ROOT'],
      [opensslExpiredRoot(dir), 'ERR_ISSUER_EXPIRED'],
      [join(ca, 'services/svc/main/certs/svc.crt'), 'ERR_NOT_A_ROOT'],
      [join(dir, 'missing.crt'), 'ERR_FILE_NOT_FOUND'],
    ];
    for (const [file, code] of cases) {
      const r = asUser(['trust', 'install', '--root', file, ...storeFlags(), '--json']);
      expectCliError(r, code);
    }
    expectCliError(asUser(['trust', 'install', '--dir', join(dir, 'no-ca'), '--json']), 'ERR_CA_MISSING');
    expect(systemStore()).toBe(before);
    expect(anchorsOf(label)).toEqual([]);
    expect(existsSync(join(home, '.pki'))).toBe(false);
    expect(sha256(readFileSync(keystore))).toBe(sha256(readFileSync('/etc/ssl/certs/java/cacerts')));
  });

  it('--dry-run prints the commands of every store and changes nothing', () => {
    const r = asUser(['trust', 'install', '--dir', ca, ...storeFlags(), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    const anchor = join(ANCHOR_DIR, `${label}.crt`);
    const root = join(ca, 'ca/root_ca.crt');
    const nssdb = join(home, '.pki/nssdb');
    for (const line of [
      `install -m 0644 ${root} ${anchor}`,
      'update-ca-certificates',
      `mkdir -p -m 0700 ${nssdb}`,
      `certutil -N -d sql:${nssdb} --empty-password`,
      `certutil -A -d sql:${nssdb} -n ${label} -t C,, -i ${root}`,
      `keytool -importcert -noprompt -trustcacerts -alias ${label} -file ${root} -keystore ${keystore} -storepass changeit`,
    ]) {
      expect(r.stdout.split('\n')).toContain(line);
    }
    const json = JSON.parse(asUser(['trust', 'install', '--dir', ca, ...storeFlags(), '--dry-run', '--json']).stdout) as { executed: boolean; reason: string; stores: { state: string }[] };
    expect(json).toMatchObject({ executed: false, reason: 'dry-run' });
    expect(json.stores.map((s) => s.state)).toEqual(['would-install', 'would-install', 'would-install']);
    expect(systemStore()).toBe(before);
    expect(existsSync(join(home, '.pki'))).toBe(false);
    expect(sha256(readFileSync(keystore))).toBe(sha256(readFileSync('/etc/ssl/certs/java/cacerts')));
  });

  it('without root privileges prints the commands, exits 0 and changes nothing', () => {
    const dir = tempDir('pki-trust-user-');
    chmodSync(dir, 0o755);
    const root = join(dir, 'root.crt');
    copyFileSync(join(ca, 'ca/root_ca.crt'), root);
    chmodSync(root, 0o644);
    const r = runPeer('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, join(import.meta.dirname, '../../bin/pki.js'), 'trust', 'install', '--root', root, '--nss'], {
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# pki trust install \(debian\): not running as root, nothing was changed/);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining([`install -m 0644 ${root} ${join(ANCHOR_DIR, `${label}.crt`)}`, 'update-ca-certificates', expect.stringMatching(/^certutil -A /)]));
    expect(systemStore()).toBe(before);
    expect(existsSync(join(home, '.pki'))).toBe(false);
  });

  it(
    'install: curl and openssl verify trust the root without being told, NSS and Java hold it; again: already installed; uninstall: all of it undone, /etc/ssl/certs as before',
    () => {
      expect(curl().status, 'curl must fail before install').toBe(60);
      expect(verifyLeaf().status).not.toBe(0);

      const installed = asUser(['trust', 'install', '--dir', ca, ...storeFlags()]);
      expect(installed.code, installed.stderr).toBe(0);
      expect(installed.stdout).toContain(`system: installed ${join(ANCHOR_DIR, `${label}.crt`)}`);
      expect(installed.stdout).toContain(`nss: installed sql:${join(home, '.pki/nssdb')}`);
      expect(installed.stdout).toContain(`java: installed ${keystore}`);
      const c = curl();
      expect(c.status, c.stderr).toBe(0);
      expect(c.stdout).toBe('hello\n');
      expect(verifyLeaf().stdout).toBe(`${leaf}: OK\n`);
      expect(nssLists()).toBe(true);
      expect(javaHolds()).toBe(true);
      const status = asUser(['trust', 'status', '--dir', ca, ...storeFlags(), '--json']);
      expect(status.code, status.stdout).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ installed: true });

      const installedStore = systemStore();
      const again = asUser(['trust', 'install', '--dir', ca, ...storeFlags(), '--json']);
      expect(again.code, again.stderr).toBe(0);
      const doc = JSON.parse(again.stdout) as { stores: { state: string }[] };
      expect(doc.stores.map((s) => s.state)).toEqual(['already-installed', 'already-installed', 'already-installed']);
      expect(asUser(['trust', 'install', '--dir', ca, ...storeFlags()]).stdout).toContain(`system: already installed`);
      expect(anchorsOf(label)).toEqual([`${label}.crt`]);
      expect(systemStore()).toBe(installedStore);

      const removed = asUser(['trust', 'uninstall', '--dir', ca, ...storeFlags()]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toContain(`system: removed ${join(ANCHOR_DIR, `${label}.crt`)}`);
      expect(curl().status).toBe(60);
      expect(verifyLeaf().status).not.toBe(0);
      expect(nssLists()).toBe(false);
      expect(javaHolds()).toBe(false);
      expect(systemStore()).toBe(before);
      const gone = asUser(['trust', 'status', '--dir', ca, ...storeFlags(), '--json']);
      expect(gone.code).toBe(1);
      expect(JSON.parse(gone.stdout)).toMatchObject({ installed: false, stores: [{ state: 'not-installed' }, { state: 'not-installed' }, { state: 'not-installed' }] });

      const twice = asUser(['trust', 'uninstall', '--dir', ca, ...storeFlags()]);
      expect(twice.code, twice.stderr).toBe(0);
      expect(twice.stdout).toContain('system: not installed');
      expect(systemStore()).toBe(before);
    },
    CYCLE_MS,
  );
});
