/**
 * Issue 4, "done means" 2 and 3: a real sshd on 127.0.0.1 trusts pki's user CA (TrustedUserCAKeys), serves
 * a pki host certificate (HostCertificate) and reads pki's KRL (RevokedKeys); a real ssh client with only
 * an `@cert-authority` line in known_hosts and StrictHostKeyChecking=yes logs in without a prompt.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki, tempDir } from '../helpers/cli.js';
import { requirePeer } from '../helpers/peers.js';
import { sshdListening, startServer, type Server } from '../helpers/process.js';

const user = userInfo().username;
let work: string;
let home: string;
let port: number;
let sshd: Server | undefined;
let keyCount = 0;

/** A hang guard for one ssh-keygen or ssh run, not a benchmark: RSA key generation beside CPU-heavy work takes seconds. */
function run(program: string, args: readonly string[], timeout = 120_000) {
  return spawnSync(program, args as string[], { encoding: 'utf8', timeout, env: { ...process.env, LC_ALL: 'C' } });
}

/** A fresh Ed25519 (or other) key made by ssh-keygen; returns the private key path. */
function newKey(type: readonly string[] = ['-t', 'ed25519']): string {
  const path = join(work, `user_key_${++keyCount}`);
  const r = run(requirePeer('ssh-keygen'), ['-q', '-N', '', '-C', `test key ${keyCount}`, ...type, '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return path;
}

/** `pki ssh sign` for a new key; returns the private key path (certificate at <key>-cert.pub). */
function certifiedKey(flags: readonly string[], type?: readonly string[]): string {
  const key = newKey(type);
  const r = pki(['ssh', 'sign', '--dir', home, ...flags, `${key}.pub`]);
  if (r.code !== 0) throw new Error(`pki ssh sign ${flags.join(' ')} failed: ${r.stderr}`);
  return key;
}

/** Logs in with exactly this key and certificate: no agent, no other identities, no prompts. */
function login(key: string, command = 'echo ok') {
  const r = run(
    requirePeer('ssh'),
    [
      '-F', 'none',
      '-i', key,
      '-o', `CertificateFile=${key}-cert.pub`,
      '-o', 'IdentitiesOnly=yes',
      '-o', 'IdentityAgent=none',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${join(work, 'known_hosts')}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=60',
      '-o', 'LogLevel=ERROR',
      '-p', String(port),
      `${user}@127.0.0.1`,
      command,
    ],
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const sshdPath = requirePeer('sshd');
  requirePeer('ssh');
  const keygen = requirePeer('ssh-keygen');
  work = tempDir('pki-sshd-');
  home = join(work, 'ca');
  const init = pki(['ssh', 'init', '--no-password', '--insecure', '--dir', home]);
  if (init.code !== 0) throw new Error(`pki ssh init failed: ${init.stderr}`);

  // The server's own host key, certified by pki's host CA for the name the client dials.
  const hostKey = join(work, 'ssh_host_ed25519_key');
  const hk = run(keygen, ['-q', '-N', '', '-t', 'ed25519', '-f', hostKey]);
  if (hk.status !== 0) throw new Error(`ssh-keygen failed: ${hk.stderr}`);
  const hostCert = pki(['ssh', 'sign', '--dir', home, '--host', '--principal', '127.0.0.1', '--principal', 'localhost', `${hostKey}.pub`]);
  if (hostCert.code !== 0) throw new Error(`pki ssh sign --host failed: ${hostCert.stderr}`);
  // Only the CA line: a client that still asked about the host key would fail under BatchMode.
  writeFileSync(join(work, 'known_hosts'), `@cert-authority 127.0.0.1 ${readFileSync(join(home, 'ssh/ssh_host_ca_key.pub'), 'utf8')}`);

  // The config names the port, so it is written again for each port startServer tries.
  const config = join(work, 'sshd_config');
  const writeConfig = (listenPort: number) =>
    writeFileSync(
      config,
      [
        `Port ${listenPort}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `HostCertificate ${hostKey}-cert.pub`,
        `TrustedUserCAKeys ${join(home, 'ssh/ssh_user_ca_key.pub')}`,
        `RevokedKeys ${join(home, 'ssh/revoked_keys')}`,
        // Certificates alone decide: no authorized_keys, principals checked against the login name.
        'AuthorizedKeysFile none',
        'AuthorizedPrincipalsFile none',
        `PidFile ${join(work, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
  // sshd's privilege separation folder; Debian creates it only when the service starts.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  writeConfig(22); // any port: -t only checks the syntax
  const check = run(sshdPath, ['-t', '-f', config]);
  if (check.status !== 0) throw new Error(`sshd -t rejected the test config: ${check.stderr}`);
  sshd = await startServer({
    program: sshdPath,
    args: (listenPort) => {
      writeConfig(listenPort);
      return ['-D', '-e', '-f', config];
    },
    ready: sshdListening,
  });
  port = sshd.port;
});

afterAll(async () => {
  await sshd?.stop();
});

/**
 * Waits (bounded, on sshd's output events) for sshd to log a line: its stderr is read only when the event
 * loop runs, which the synchronous ssh client runs above do not let it do.
 */
function sshdLogged(pattern: RegExp): Promise<string> {
  return sshd!.log.waitFor(pattern);
}

/** Attach sshd's log to a failure: it says why a login was refused. */
function explain(r: { status: number | null; stdout: string; stderr: string }): string {
  return `ssh exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nsshd log (tail):\n${sshd?.log.tail(15)}`;
}

describe('a real sshd with pki user and host CAs', () => {
  it('accepts a user certificate for the login name, the client trusting the host through @cert-authority alone', async () => {
    const key = certifiedKey(['--user', '--principal', user, '--key-id', 'first-login']);
    const r = login(key);
    expect(r.status, explain(r)).toBe(0);
    expect(r.stdout).toBe('ok\n');
    const accepted = new RegExp(`Accepted publickey for ${user} from 127\\.0\\.0\\.1 .*-CERT .*ID first-login`);
    expect(await sshdLogged(accepted)).toMatch(accepted);
  });

  it.each([
    ['ecdsa-p256', ['-t', 'ecdsa', '-b', '256']],
    ['rsa-3072', ['-t', 'rsa', '-b', '3072']],
  ])('accepts a %s user key with its certificate', (_name, type) => {
    const r = login(certifiedKey(['--user', '--principal', user], type));
    expect(r.status, explain(r)).toBe(0);
    expect(r.stdout).toBe('ok\n');
  });

  it('refuses a certificate for another principal', async () => {
    const r = login(certifiedKey(['--user', '--principal', `not-${user}`]));
    expect(r.status, explain(r)).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Permission denied/);
    expect(await sshdLogged(/name is not a listed principal/)).toMatch(/Certificate invalid: name is not a listed principal/);
  });

  it('refuses an expired certificate', async () => {
    const r = login(certifiedKey(['--user', '--principal', user, '--not-before', '2020-01-01T00:00:00Z', '--not-after', '2020-01-02T00:00:00Z']));
    expect(r.status, explain(r)).toBe(255);
    expect(r.stdout).toBe('');
    expect(await sshdLogged(/Certificate invalid: expired/)).toMatch(/Certificate invalid: expired/);
  });

  it('refuses a certificate once revoked with pki ssh revoke (KRL named by RevokedKeys), and only that one', async () => {
    const revokedKey = certifiedKey(['--user', '--principal', user]);
    const keptKey = certifiedKey(['--user', '--principal', user]);
    expect(login(revokedKey).status).toBe(0);
    const revoke = pki(['ssh', 'revoke', `${revokedKey}-cert.pub`, '--dir', home, '--reason', 'keyCompromise']);
    expect(revoke.code, revoke.stderr).toBe(0);
    const r = login(revokedKey);
    expect(r.status, explain(r)).toBe(255);
    expect(r.stdout).toBe('');
    const fingerprint = run(requirePeer('ssh-keygen'), ['-l', '-E', 'sha256', '-f', `${revokedKey}-cert.pub`]).stdout.split(' ')[1]!;
    const revokedLine = new RegExp(`Authentication key ED25519-CERT ${fingerprint.replace(/[+/]/g, '\\$&')} revoked by file`);
    expect(await sshdLogged(revokedLine)).toMatch(revokedLine);
    const kept = login(keptKey);
    expect(kept.status, explain(kept)).toBe(0);
  });

  it('refuses every certificate of a key id revoked by key id', async () => {
    const key = certifiedKey(['--user', '--principal', user, '--key-id', 'laptop-of-someone']);
    expect(login(key).status).toBe(0);
    expect(pki(['ssh', 'revoke', 'laptop-of-someone', '--dir', home]).code).toBe(0);
    const r = login(key);
    expect(r.status, explain(r)).toBe(255);
    expect(await sshdLogged(/revoked by file[^\n]*\n[^\n]*ID laptop-of-someone/)).toMatch(/revoked by file[^\n]*\n[^\n]*ID laptop-of-someone/);
  });

  it('honours force-command: the forced command runs instead of the requested one', () => {
    const key = certifiedKey(['--user', '--principal', user, '--force-command', 'echo forced-by-certificate']);
    const r = login(key, 'echo requested');
    expect(r.status, explain(r)).toBe(0);
    expect(r.stdout).toBe('forced-by-certificate\n');
  });

  it('honours source-address: refused from 127.0.0.1 when the certificate allows only 10.9.9.9/32, accepted for 127.0.0.0/8', async () => {
    const refused = login(certifiedKey(['--user', '--principal', user, '--source-address', '10.9.9.9/32']));
    expect(refused.status, explain(refused)).toBe(255);
    expect(refused.stdout).toBe('');
    expect(await sshdLogged(/not from a permitted source address \(127\.0\.0\.1\)/)).toMatch(/not from a permitted source address/);
    const allowed = login(certifiedKey(['--user', '--principal', user, '--source-address', '10.9.9.9/32,127.0.0.0/8']));
    expect(allowed.status, explain(allowed)).toBe(0);
    expect(allowed.stdout).toBe('ok\n');
  });

  it('the client refuses the host when known_hosts trusts another host CA', () => {
    const key = certifiedKey(['--user', '--principal', user]);
    const other = join(work, 'other-ca');
    expect(pki(['ssh', 'init', '--no-password', '--insecure', '--dir', other]).code).toBe(0);
    const knownHosts = join(work, 'known_hosts');
    const original = readFileSync(knownHosts, 'utf8');
    writeFileSync(knownHosts, `@cert-authority 127.0.0.1 ${readFileSync(join(other, 'ssh/ssh_host_ca_key.pub'), 'utf8')}`);
    try {
      const r = login(key);
      expect(r.status, explain(r)).toBe(255);
      expect(r.stderr).toMatch(/Host key verification failed/);
    } finally {
      writeFileSync(knownHosts, original);
    }
  });
});
