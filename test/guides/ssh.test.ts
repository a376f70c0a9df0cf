/**
 * docs/guides/ssh.md, run as written (issue 12, point 5): SSH CAs, a host certificate and the guide's
 * sshd_config.d lines (written verbatim, included by a test-only sshd_config), a user certificate, a login
 * trusting the host through @cert-authority alone, and the same login refused after `pki ssh revoke` +
 * `pki ssh krl`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock, writeGuideFile } from '../helpers/guides.js';
import { requirePeer } from '../helpers/peers.js';
import { sshdListening, startServer, type Server } from '../helpers/process.js';

const guide = loadGuide('ssh.md');
const work = guideWorkdir('ssh');
/** Stands for the server's /etc/ssh. */
const sshdDir = join(work, 'etc-ssh');
const user = userInfo().username;
let sshd: Server | undefined;

afterAll(async () => {
  await sshd?.stop();
});

/**
 * The lines only a test wants (its port, loopback, a pid file here, no PAM, no authorized_keys), then the
 * guide's pki.conf through Include, as Debian's sshd_config includes sshd_config.d/*.conf.
 */
function writeSshdConfig(port: number): string {
  const guideLines = writeGuideFile(guide, 'pki.conf', join(work, 'pki.conf'), { SSHD_DIR: sshdDir });
  const config = join(work, 'sshd_config');
  writeFileSync(
    config,
    [
      `Include ${guideLines}`,
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(sshdDir, 'ssh_host_ed25519_key')}`,
      `PidFile ${join(work, 'sshd.pid')}`,
      'AuthorizedKeysFile none',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  return config;
}

/** The serial of an OpenSSH certificate file, as ssh-keygen -L prints it. */
function fileSerial(file: string): string {
  const r = spawnSync(requirePeer('ssh-keygen'), ['-L', '-f', file], { encoding: 'utf8', timeout: 120_000 });
  const serial = /^\s*Serial: (\d+)$/m.exec(r.stdout);
  if (!serial) throw new Error(`ssh-keygen -L ${file}: ${r.stderr}`);
  return serial[1]!;
}

/** The serial of the host certificate sshd presents now (ssh-keyscan -c). */
function hostCertSerial(port: number): string {
  const scan = spawnSync(requirePeer('ssh-keyscan'), ['-c', '-t', 'ed25519', '-T', '60', '-p', String(port), '127.0.0.1'], { encoding: 'utf8', timeout: 120_000 });
  const line = scan.stdout.split('\n').find((l) => l.includes('ssh-ed25519-cert-v01@openssh.com'));
  if (!line) throw new Error(`ssh-keyscan -c found no host certificate on port ${port}: ${scan.stderr}`);
  const file = join(work, 'scanned-cert.pub');
  writeFileSync(file, `${line.slice(line.indexOf('ssh-ed25519-cert-v01@openssh.com'))}\n`); // after the host (and port) field
  return fileSerial(file);
}

describe('docs/guides/ssh.md', () => {
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    const sshdPath = requirePeer('sshd');
    requirePeer('ssh');
    // What the server already has before the guide starts: its host key.
    mkdirSync(sshdDir);
    const hostKey = spawnSync(requirePeer('ssh-keygen'), ['-q', '-N', '', '-t', 'ed25519', '-f', join(sshdDir, 'ssh_host_ed25519_key')], { encoding: 'utf8', timeout: 120_000 });
    expect(hostKey.status, hostKey.stderr).toBe(0);
    // sshd's privilege separation folder; Debian creates it only when the service starts.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

    const vars = { SSHD_DIR: sshdDir, SERVER: 'localhost', USER: user };
    runGuideBlock(guide, 'ca', { cwd: work, env: vars });
    runGuideBlock(guide, 'server', { cwd: work, env: vars });
    // The guide's "sshd -t && systemctl reload ssh".
    const check = spawnSync(sshdPath, ['-t', '-f', writeSshdConfig(22)], { encoding: 'utf8', timeout: 120_000 });
    expect(check.status, check.stderr).toBe(0);
    sshd = await startServer({ program: sshdPath, args: (port) => ['-D', '-e', '-f', writeSshdConfig(port)], ready: sshdListening });
    env = { ...vars, PORT: String(sshd.port) };
  });

  it('logs in with the user certificate, trusting the host through @cert-authority alone', async () => {
    const signed = runGuideBlock(guide, 'user', { cwd: work, env });
    expect(signed.stdout).toMatch(new RegExp(`Type: ssh-ed25519-cert-v01@openssh.com user certificate[\\s\\S]*Key ID: "${user}-laptop"[\\s\\S]*Principals: \\n\\s+${user}\\n`));
    runGuideBlock(guide, 'known-hosts', { cwd: work, env });
    const login = runGuideBlock(guide, 'login', { cwd: work, env });
    expect(login.stdout).toBe(`logged in as ${user}\n`);
    const accepted = new RegExp(`Accepted publickey for ${user} from 127\\.0\\.0\\.1 .*ED25519-CERT .*ID ${user}-laptop`);
    expect(await sshd!.log.waitFor(accepted)).toMatch(accepted);
  });

  it('refuses the same login after pki ssh revoke + pki ssh krl', async () => {
    runGuideBlock(guide, 'revoke', { cwd: work, env });
    const refused = runGuideBlock(guide, 'login', { cwd: work, env, expectFailure: true });
    expect(refused.code).toBe(255);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(await sshd!.log.waitFor(/Authentication key ED25519-CERT \S+ revoked by file/)).toMatch(/revoked by file .*revoked_keys/);
  });

  it('serves the renewed host certificate after a reload', async () => {
    const server = sshd!;
    const firstHostCert = hostCertSerial(server.port);
    expect(firstHostCert).toBe(fileSerial(join(sshdDir, 'ssh_host_ed25519_key-cert.pub')));
    runGuideBlock(guide, 'renew-host', { cwd: work, env });
    // The guide's "systemctl reload ssh": SIGHUP, on which sshd re-executes itself (same PID) and listens again.
    server.child.kill('SIGHUP');
    await server.log.waitFor(new RegExp(`Received SIGHUP; restarting\\.[\\s\\S]*Server listening on 127\\.0\\.0\\.1 port ${server.port}\\b`));
    const renewed = fileSerial(join(sshdDir, 'ssh_host_ed25519_key-cert.pub'));
    expect(renewed).not.toBe(firstHostCert);
    expect(hostCertSerial(server.port)).toBe(renewed);
    expectEveryBlockRun(guide);
  });
});
