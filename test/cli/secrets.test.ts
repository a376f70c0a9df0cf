/**
 * Issue 6 point 3: secrets. Every command, with and without --json, is run under `umask 000`; its stdout and
 * stderr are searched for every private key in the CA home (root, intermediate, service, client, SSH CAs,
 * a request's key) as base64 and hex; every key is 0600, also as a temp file a killed run leaves behind;
 * a passphrase file readable by others is warned about; a passphrase is never an argv value.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, PKI_BIN, PKI_RUN_MS, pki, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

/** `pki …args` through `sh -c 'umask 000; exec node bin/pki.js …'`: the most permissive umask there is. */
function pkiUmask0(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete e.PKI_DIR;
  if (!('PKI_PASSWORD' in env)) delete e.PKI_PASSWORD;
  const r = spawnSync('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, PKI_BIN, ...args], { encoding: 'utf8', env: e, input: '', timeout: PKI_RUN_MS });
  // As pki() does: a run that hangs is an error of its own, not an exit code a test could mistake for a result.
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    throw new Error(`pki ${args.join(' ')} (umask 000) did not exit within ${PKI_RUN_MS / 1000} s (killed); stderr so far:\n${r.stderr}`);
  }
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: r.stdout, stderr: r.stderr };
}

/** Every file under `dir`. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

const PASSPHRASE = 'correct horse battery staple 6';

/**
 * Needles for one private key file: its PEM body (whole and per line), and — decrypted when it is an
 * encrypted PKCS#8 — the plaintext PKCS#8 DER as base64 and hex.
 */
function needles(path: string, passwordFile: string | null): string[] {
  const text = readFileSync(path, 'utf8');
  const body = text.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
  const lines = text.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
  const plainArgs = ['pkey', '-in', path, '-outform', 'DER', ...(text.includes('ENCRYPTED') && passwordFile ? ['-passin', `file:${passwordFile}`] : [])];
  const derBytes = spawnSync('openssl', plainArgs).stdout as Buffer;
  if (derBytes.length < 40) throw new Error(`openssl could not read ${path}`);
  return [body, ...lines, derBytes.toString('base64').slice(16, 80), derBytes.toString('hex').slice(32, 160)];
}

describe.each([
  ['human output, keys unencrypted', false],
  ['--json, keys encrypted with a passphrase file', true],
])('no private key appears in any output: %s', (_name, json) => {
  let dir: string;
  let work: string;
  let passwordFile: string;
  const outputs: { command: string; result: CliResult }[] = [];
  beforeAll(() => {
    work = tempDir('pki-secrets-');
    dir = join(work, 'ca');
    passwordFile = join(work, 'pass');
    writeFileSync(passwordFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    const lock = json ? [] : ['--no-password', '--insecure'];
    const initArgs = ['init', ...lock];
    const r = pkiUmask0([...(json ? ['--json'] : []), ...initArgs, '--dir', dir, ...(json ? ['--password-file', passwordFile] : [])]);
    outputs.push({ command: 'init', result: r });
    expect(r.code, r.stderr).toBe(0);
    const ssh = pkiUmask0([...(json ? ['--json'] : []), 'ssh', 'init', ...lock, '--dir', dir, ...(json ? ['--password-file', passwordFile] : [])]);
    outputs.push({ command: 'ssh init', result: ssh });
    expect(ssh.code, ssh.stderr).toBe(0);

    const pw = json ? ['--password-file', passwordFile] : [];
    const j = json ? ['--json'] : [];
    const go = (args: string[], code = 0) => {
      const result = pkiUmask0([...j, ...args, '--dir', dir]);
      outputs.push({ command: args.join(' '), result });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(code);
      return result;
    };
    go(['generate', 'redis', 'main', '--client', 'app', ...pw]);
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'web.key'), '-out', join(work, 'web.csr'), '-subj', '/CN=web.example.com']);
    go(['sign', join(work, 'web.csr'), '--out', join(work, 'web.crt'), ...pw]);
    go(['sign', join(work, 'web.csr'), ...pw]);
    const certs = join(dir, 'services', 'redis', 'main', 'certs');
    go(['revoke', join(certs, 'app.crt'), '--reason', 'keyCompromise', ...pw]);
    go(['crl', '--der', ...pw]);
    go(['renew', join(certs, 'redis.crt'), '--force', '--rekey', ...pw]);
    go(['renew', '--all', '--force', ...pw]);
    go(['list', '--all']);
    go(['db', 'export-index']);
    for (const key of [join(dir, 'ca', 'root_ca.key'), join(dir, 'ca', 'intermediate_ca.key'), join(certs, 'redis.key'), join(work, 'web.key'), join(dir, 'ssh', 'ssh_user_ca_key'), join(dir, 'ssh', 'ssh_host_ca_key')]) {
      go(['inspect', key]);
    }
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'id_ed25519')]);
    go(['ssh', 'sign', join(work, 'id_ed25519.pub'), '--user', '--principal', 'alice', ...pw]);
    go(['ssh', 'sign', join(work, 'id_ed25519.pub'), '--host', '--principal', 'db.example.com', '--out', join(work, 'host-cert.pub'), ...pw]);
    go(['ssh', 'revoke', join(work, 'id_ed25519-cert.pub')]);
    go(['ssh', 'krl']);
    // Failures whose messages are near a key: a damaged key, a key given as a request, a mismatched key.
    const damaged = join(work, 'damaged.key');
    const keyText = readFileSync(join(certs, 'redis.key'), 'utf8');
    writeFileSync(damaged, keyText.replace(/(\n[A-Za-z0-9+/]{10})[A-Za-z0-9+/]/, '$1!'));
    go(['inspect', damaged], 1);
    go(['sign', join(certs, 'redis.key'), '--out', join(work, 'x.crt'), ...pw], 1);
    go(['renew', join(certs, 'redis.crt'), join(certs, 'client.key'), '--force', ...pw], 1);
  });

  it('stdout and stderr of every command hold no private key material (base64 body, lines, DER base64/hex) and no passphrase', () => {
    const keys = walk(dir).filter((p) => /\.key$|_ca_key$/.test(p));
    keys.push(join(work, 'web.key'), join(work, 'id_ed25519'));
    expect(keys.length).toBeGreaterThanOrEqual(8);
    const all = outputs.map((o) => `${o.result.stdout}\n${o.result.stderr}`).join('\n');
    expect(outputs.length).toBeGreaterThanOrEqual(22);
    for (const key of keys) {
      const list = key.endsWith('id_ed25519') ? [readFileSync(key, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s/g, '')] : needles(key, passwordFile);
      for (const needle of list) {
        const hit = outputs.find((o) => `${o.result.stdout}${o.result.stderr}`.includes(needle));
        expect(hit?.command, `${key} appears in the output of ${hit?.command}`).toBeUndefined();
      }
    }
    expect(all).not.toContain(PASSPHRASE);
    // inspect did describe the keys (so the test looked at real output).
    expect(all).toMatch(/private/i);
  });

  it('every private key and the inventory are 0600, CA folders 0700, despite umask 000', () => {
    for (const path of walk(dir)) {
      const mode = statSync(path).mode & 0o777;
      if (/\.key$|_ca_key$|pki\.sqlite$/.test(path)) expect(mode.toString(8), path).toBe('600');
      else expect(mode & 0o022, `${path} is ${mode.toString(8)}`).toBe(0);
    }
    expect((statSync(join(dir, 'ca')).mode & 0o777).toString(8)).toBe('700');
  });
});

describe('key files never exist with a wider mode, not even as temp files', () => {
  it.each([
    ['init', 'write:intermediate_ca.key', (dir: string) => ['init', '--no-password', '--insecure', '--dir', dir], (dir: string) => join(dir, 'ca')],
    ['generate', 'version:wrote:redis.key', (dir: string) => ['generate', 'redis', 'main', '--dir', dir], (dir: string) => join(dir, 'services', 'redis', 'main', 'certs')],
    ['ssh init', 'write:ssh_host_ca_key', (dir: string) => ['ssh', 'init', '--no-password', '--insecure', '--dir', dir], (dir: string) => join(dir, 'ssh')],
  ])('%s killed right after writing the key (%s) under umask 000 leaves only 0600 key files', (command, step, argv, folder) => {
    const dir = join(tempDir('pki-tempmode-'), 'ca');
    if (command !== 'init') expect(pkiUmask0(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const r = pkiUmask0(argv(dir), { PKI_TEST_CRASH_AT: step });
    expect(r.code, r.stderr).toBe(128);
    const keyFiles = walk(folder(dir)).filter((p) => /key/.test(p.split('/').pop()!) && !p.endsWith('.pub'));
    const temps = keyFiles.filter((p) => p.includes('.pki-tmp-') || p.includes('/..'));
    expect(temps.length, `the killed run left its key in a temp or version file: ${keyFiles.join(', ')}`).toBeGreaterThan(0);
    for (const path of keyFiles) expect((statSync(path).mode & 0o777).toString(8), path).toBe('600');
  });
});

describe('passphrases', () => {
  it('a passphrase file readable by others is warned about on stderr; a 0600 one is not', () => {
    const work = tempDir('pki-pass-');
    const file = join(work, 'pass');
    writeFileSync(file, `${PASSPHRASE}\n`);
    chmodSync(file, 0o644);
    const loose = pki(['init', '--dir', join(work, 'a'), '--password-file', file]);
    expect(loose.code, loose.stderr).toBe(0);
    expect(loose.stderr).toMatch(new RegExp(`password file ${file} is readable by other users \\(mode 644\\); chmod 600 it`));
    chmodSync(file, 0o600);
    const tight = pki(['init', '--dir', join(work, 'b'), '--password-file', file]);
    expect(tight.code, tight.stderr).toBe(0);
    expect(tight.stderr).not.toMatch(/readable by other users/);
    // The warning also comes when the file opens an existing key.
    chmodSync(file, 0o640);
    const gen = pki(['generate', 'svc', 'main', '--dir', join(work, 'b'), '--password-file', file]);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toMatch(/readable by other users \(mode 640\)/);
  });

  it.each([['--password'], ['--passphrase'], ['--pass']])('%s with a value on the command line is refused (exit 2) and nothing is written', (flag) => {
    const dir = join(tempDir('pki-argv-'), 'ca');
    const r = pki(['init', '--dir', dir, flag, PASSPHRASE]);
    expectOneLineError({ ...r, stderr: r.stderr.split('\n').filter((l) => !/^\(Did you mean/.test(l)).join('\n').replace(/^error:/, 'pki: error:') }, 2);
    expect(r.stderr).toMatch(/unknown option/);
    expect(existsSync(dir)).toBe(false);
    expect(snapshotTree(dir)).toBe('');
  });
});
