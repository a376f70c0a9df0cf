/**
 * Runs the real `ssh-keygen` for interop tests. A missing binary fails the test with the Debian package
 * to install: these tests prove pki against OpenSSH, so skipping them would prove nothing.
 * (Temporary home until test/helpers/peers.ts exists.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEER_RUN_MS } from '../../helpers/peers.js';

export interface SshKeygenResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs ssh-keygen with TZ=UTC (so -L prints UTC times). Never throws for a non-zero exit: callers assert it. */
export function runSshKeygen(args: readonly string[], cwd?: string): SshKeygenResult {
  const result = spawnSync('ssh-keygen', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    timeout: PEER_RUN_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error('ssh-keygen not found on PATH: install the Debian package openssh-client (apt-get install openssh-client)');
    }
    throw result.error;
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Like runSshKeygen but fails the test on a non-zero exit, showing stderr. */
export function sshKeygen(args: readonly string[], cwd?: string): string {
  const result = runSshKeygen(args, cwd);
  if (result.status !== 0) {
    throw new Error(`ssh-keygen ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** A fresh temporary directory and its cleanup. */
export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pki-ssh-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SshKeygenListing {
  readonly type: string;
  readonly publicKey: string;
  readonly signingCa: string;
  readonly keyId: string;
  readonly serial: string;
  readonly valid: string;
  readonly principals: string[];
  readonly criticalOptions: string[];
  readonly extensions: string[];
}

/** Parses `ssh-keygen -L` output (OpenSSH 7.x – 9.x layout). */
export function parseSshKeygenListing(stdout: string): SshKeygenListing {
  const lines = stdout.split('\n').slice(1);
  const fields = new Map<string, string>();
  const lists = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    const field = /^ {8}([A-Za-z ]+): ?(.*)$/.exec(line);
    if (field) {
      const [, name, value] = field as unknown as [string, string, string];
      fields.set(name, value.trim());
      // Empty lists print as "Principals: (none)" on the header line itself.
      current = [];
      lists.set(name, current);
    } else if (/^ {16}\S/.test(line) && current) {
      current.push(line.trim());
    }
  }
  const get = (name: string) => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`ssh-keygen -L output has no "${name}" line:\n${stdout}`);
    return value;
  };
  return {
    type: get('Type'),
    publicKey: get('Public key'),
    signingCa: get('Signing CA'),
    keyId: get('Key ID'),
    serial: get('Serial'),
    valid: get('Valid'),
    principals: lists.get('Principals') ?? [],
    criticalOptions: lists.get('Critical Options') ?? [],
    extensions: lists.get('Extensions') ?? [],
  };
}

/** The SHA256 fingerprint field of `ssh-keygen -l -E sha256 -f FILE`. */
export function sshKeygenFingerprint(file: string): string {
  return sshKeygen(['-l', '-E', 'sha256', '-f', file]).split(' ')[1]!;
}
