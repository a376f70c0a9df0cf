/**
 * Issue 9 points 8, 9 and the folder half of 2: the CA home refuses tampering. A home, ca/, db/ or ssh/
 * writable by others or owned by another user, a CA key or the inventory readable by others, a symbolic
 * link for a folder inside the home or for the database: every command refuses with ERR_UNSAFE_HOME, exit 1,
 * one line, nothing changed; `--insecure` warns instead. `init` fixes the modes of the folders it makes;
 * `init`, `init --force` and `ssh init` hold the home lock (two at once: one wins, the other ERR_LOCKED).
 * The tests run as root (chown to nobody works).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, PKI_BIN, pki, pkiAsync, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

const NOBODY = 65534;
const PASSPHRASE = 'correct horse battery staple 9';

const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8);
const errorCode = (r: CliResult) => (JSON.parse(r.stdout) as { error: { code: string } }).error.code;

/** A refusal: exit 1, one line on stderr, the JSON error code. */
function expectRefusal(r: CliResult, code: string): void {
  expectOneLineError(r);
  expect(errorCode(r)).toBe(code);
}

/** The public key of a private key and of a certificate, as openssl prints them: equal when they match. */
function keyMatchesCertificate(key: string, cert: string): void {
  const fromKey = runPeer('openssl', ['pkey', '-in', key, '-pubout', '-passin', `pass:${PASSPHRASE}`]);
  const fromCert = runPeer('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  expect(fromKey.status, fromKey.stderr).toBe(0);
  expect(fromCert.status, fromCert.stderr).toBe(0);
  expect(fromKey.stdout, `${key} does not match ${cert}`).toBe(fromCert.stdout);
}

function expectConsistentCa(home: string): void {
  keyMatchesCertificate(join(home, 'ca/root_ca.key'), join(home, 'ca/root_ca.crt'));
  keyMatchesCertificate(join(home, 'ca/intermediate_ca.key'), join(home, 'ca/intermediate_ca.crt'));
  const verify = runPeer('openssl', ['verify', '-CAfile', join(home, 'ca/root_ca.crt'), join(home, 'ca/intermediate_ca.crt')]);
  expect(verify.status, verify.stdout + verify.stderr).toBe(0);
}

describe('an unsafe CA home is refused by every command (point 9, point 2 folders)', () => {
  // ws/home is the CA home; ws/in holds inputs; ws/elsewhere-* are link targets. Snapshots cover all of ws.
  let ws: string;
  let home: string;
  let pw: string;
  let commands: (readonly string[])[];

  beforeAll(() => {
    ws = tempDir();
    home = join(ws, 'home');
    const input = join(ws, 'in');
    mkdirSync(input);
    pw = join(input, 'pw');
    writeFileSync(pw, `${PASSPHRASE}\n`, { mode: 0o600 });
    for (const args of [
      ['init', '--password-file', pw],
      ['ssh', 'init', '--password-file', pw],
      ['generate', 'redis', 'main', '--password-file', pw],
      ['crl', '--password-file', pw],
    ]) {
      const r = pki([...args, '--dir', home]);
      expect(r.code, r.stderr).toBe(0);
    }
    const csrKey = join(input, 'web.key');
    const csr = join(input, 'web.csr');
    expect(runPeer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', csrKey, '-subj', '/CN=web.example', '-out', csr]).status).toBe(0);
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(input, 'id_ed25519')]).status).toBe(0);
    const serial = (JSON.parse(pki(['list', '--json', '--dir', home]).stdout) as { serial: string; subject: string }[]).find((c) => c.subject === 'CN=redis')!.serial;
    const p = ['--password-file', pw];
    commands = [
      ['list'],
      ['crl', ...p],
      ['generate', 'web', 'main', ...p],
      ['sign', csr, '--out', join(input, 'web.crt'), ...p],
      ['renew', '--all', '--force', ...p],
      ['renew', join(home, 'services/redis/main/certs/redis.crt'), '--force', ...p],
      ['revoke', serial, ...p],
      ['db', 'rebuild'],
      ['db', 'export-index'],
      ['ssh', 'krl'],
      ['ssh', 'sign', '--user', '--principal', 'alice', join(input, 'id_ed25519.pub'), ...p],
      ['ssh', 'revoke', '1'],
      ['init', '--force', ...p],
      ['ssh', 'init', '--force', ...p],
    ];
  });

  /** Applies `change`, runs `body`, and undoes it, so every case starts from the same safe home. */
  function withChange(change: () => () => void, body: () => void): void {
    const undo = change();
    try {
      body();
    } finally {
      undo();
    }
  }

  const chmodChange = (rel: string, to: number) => () => {
    const path = join(home, rel);
    const before = lstatSync(path).mode & 0o7777;
    chmodSync(path, to);
    return () => chmodSync(path, before);
  };
  const chownChange = (rel: string) => () => {
    const path = join(home, rel);
    chownSync(path, NOBODY, NOBODY);
    return () => chownSync(path, 0, 0);
  };
  /** Moves `rel` to ws/elsewhere-<n> and puts a symbolic link to it in its place. */
  const linkChange = (rel: string) => () => {
    const path = join(home, rel);
    const target = join(ws, `elsewhere-${rel.replace(/\//g, '_')}`);
    renameSync(path, target);
    symlinkSync(target, path);
    return () => {
      unlinkSync(path);
      renameSync(target, path);
    };
  };

  it('a safe home is accepted without a warning (the baseline the cases below change)', () => {
    const r = pki(['list', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  for (const [what, change, fix] of [
    ['the home writable by its group', chmodChange('.', 0o770), 'chmod go-w'],
    ['the intermediate key 0644', chmodChange('ca/intermediate_ca.key', 0o644), 'chmod 600'],
  ] as const) {
    it(`${what}: every command that opens the home refuses (ERR_UNSAFE_HOME, exit 1, one line, nothing changed)`, () => {
      withChange(change, () => {
        for (const args of commands) {
          const before = snapshotTree(ws);
          const r = pki([...args, '--json', '--dir', home]);
          expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
          expectRefusal(r, 'ERR_UNSAFE_HOME');
          expect(r.stderr, args.join(' ')).toContain(fix);
          expect(snapshotTree(ws), args.join(' ')).toBe(before);
        }
      });
    }, 120_000);
  }

  const cases: { name: string; change: () => () => void; path: string; fix: RegExp }[] = [
    { name: 'the home writable by its group', change: chmodChange('.', 0o775), path: '', fix: /chmod go-w/ },
    { name: 'ca/ writable by its group', change: chmodChange('ca', 0o770), path: 'ca', fix: /chmod go-w/ },
    { name: 'db/ writable by others', change: chmodChange('db', 0o703), path: 'db', fix: /chmod go-w/ },
    { name: 'ssh/ writable by its group', change: chmodChange('ssh', 0o730), path: 'ssh', fix: /chmod go-w/ },
    { name: 'the intermediate key 0644', change: chmodChange('ca/intermediate_ca.key', 0o644), path: 'ca/intermediate_ca.key', fix: /chmod 600/ },
    { name: 'the root key 0640', change: chmodChange('ca/root_ca.key', 0o640), path: 'ca/root_ca.key', fix: /chmod 600/ },
    { name: 'the SSH host CA key 0604', change: chmodChange('ssh/ssh_host_ca_key', 0o604), path: 'ssh/ssh_host_ca_key', fix: /chmod 600/ },
    { name: 'the inventory database 0644', change: chmodChange('db/pki.sqlite', 0o644), path: 'db/pki.sqlite', fix: /chmod 600/ },
    { name: 'the inventory database a symbolic link', change: linkChange('db/pki.sqlite'), path: 'db/pki.sqlite', fix: /replace the link/ },
    { name: 'the home owned by nobody', change: chownChange('.'), path: '', fix: /chown -R 0/ },
    { name: 'ca/ owned by nobody', change: chownChange('ca'), path: 'ca', fix: /chown -R 0/ },
    { name: 'db/ owned by nobody', change: chownChange('db'), path: 'db', fix: /chown -R 0/ },
    { name: 'ssh/ owned by nobody', change: chownChange('ssh'), path: 'ssh', fix: /chown -R 0/ },
    { name: 'ca/ a symbolic link to a folder elsewhere', change: linkChange('ca'), path: 'ca', fix: /replace the link/ },
    { name: 'crl/ a symbolic link', change: linkChange('crl'), path: 'crl', fix: /replace the link/ },
    { name: 'db/ a symbolic link', change: linkChange('db'), path: 'db', fix: /replace the link/ },
    { name: 'ssh/ a symbolic link', change: linkChange('ssh'), path: 'ssh', fix: /replace the link/ },
    { name: 'services/ a symbolic link', change: linkChange('services'), path: 'services', fix: /replace the link/ },
  ];

  for (const c of cases) {
    it(`${c.name}: refused with the fix named, nothing changed; --insecure warns once and goes on`, () => {
      withChange(c.change, () => {
        const path = c.path ? join(home, c.path) : home;
        for (const args of [['list'], ['generate', 'web', 'main', '--password-file', pw]]) {
          const before = snapshotTree(ws);
          const r = pki([...args, '--json', '--dir', home]);
          expectRefusal(r, 'ERR_UNSAFE_HOME');
          expect(r.stderr).toContain(`${path} `);
          expect(r.stderr).toMatch(c.fix);
          expect(snapshotTree(ws)).toBe(before);
        }
        const warned = pki(['list', '--insecure', '--dir', home]);
        expect(warned.code, warned.stderr).toBe(0);
        const lines = warned.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^pki: warning: /);
        expect(lines[0]).toContain(`${path} `);
        expect(lines[0]).toMatch(c.fix);
        expect(warned.stdout).toMatch(/Intermediate CA/);
      });
    });
  }

  it('a folder below services/ that is a symbolic link is refused before generate writes through it', () => {
    const target = join(ws, 'elsewhere-web');
    mkdirSync(target);
    symlinkSync(target, join(home, 'services/web'));
    try {
      const before = snapshotTree(ws);
      const r = pki(['generate', 'web', 'main', '--password-file', pw, '--json', '--dir', home]);
      expectRefusal(r, 'ERR_UNSAFE_HOME');
      expect(r.stderr).toContain(join(home, 'services/web'));
      expect(snapshotTree(ws)).toBe(before);
      expect(readdirSync(target)).toEqual([]);
    } finally {
      unlinkSync(join(home, 'services/web'));
    }
  });
});

describe('init and ssh init on a home prepared by the operator (point 9, point 2)', () => {
  it('init narrows ca/ and db/ that the operator made 0777 before it ran to 0700', () => {
    const home = join(tempDir(), 'home');
    mkdirSync(join(home, 'ca'), { recursive: true });
    mkdirSync(join(home, 'db'));
    chmodSync(join(home, 'ca'), 0o777);
    chmodSync(join(home, 'db'), 0o777);
    const r = pki(['init', '--no-password', '--insecure', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // a mode init fixes is not worth a warning
    expect(mode(join(home, 'ca'))).toBe('700');
    expect(mode(join(home, 'db'))).toBe('700');
    expect(pki(['list', '--dir', home]).code).toBe(0);
  });

  it('ssh init narrows an ssh/ made 0777 to 0700', () => {
    const home = join(tempDir(), 'home');
    mkdirSync(join(home, 'ssh'), { recursive: true });
    chmodSync(join(home, 'ssh'), 0o777);
    const r = pki(['ssh', 'init', '--no-password', '--insecure', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(home, 'ssh'))).toBe('700');
  });

  it('init refuses ca -> a folder elsewhere: one line, exit 1, nothing written there or in the home', () => {
    const ws = tempDir();
    const home = join(ws, 'home');
    const elsewhere = join(ws, 'elsewhere');
    mkdirSync(home);
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(home, 'ca'));
    const pw = join(ws, 'pw');
    writeFileSync(pw, `${PASSPHRASE}\n`, { mode: 0o600 });
    const before = snapshotTree(ws);
    const r = pki(['init', '--password-file', pw, '--json', '--dir', home]);
    expectRefusal(r, 'ERR_UNSAFE_HOME');
    expect(snapshotTree(ws)).toBe(before);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('init refuses a home owned by another user; with --insecure it warns and creates the CA', () => {
    const ws = tempDir();
    const home = join(ws, 'home');
    mkdirSync(home);
    chownSync(home, NOBODY, NOBODY);
    const pw = join(ws, 'pw');
    writeFileSync(pw, `${PASSPHRASE}\n`, { mode: 0o600 });
    const before = snapshotTree(ws);
    const r = pki(['init', '--password-file', pw, '--json', '--dir', home]);
    expectRefusal(r, 'ERR_UNSAFE_HOME');
    expect(r.stderr).toContain(`${home} is owned by uid ${NOBODY}`);
    expect(snapshotTree(ws)).toBe(before);
    const warned = pki(['init', '--no-password', '--insecure', '--dir', home]);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/^pki: warning: .* is owned by uid 65534.*chown -R 0/);
    expect(statSync(join(home, 'pki.json')).isFile()).toBe(true);
  });
});

describe('init holds the CA-home lock (point 8)', () => {
  it('init, init --force and ssh init refuse with ERR_LOCKED while another pki process holds the home lock, and change nothing', () => {
    const ws = tempDir();
    const home = join(ws, 'home');
    expect(pki(['init', '--no-password', '--insecure', '--dir', home]).code).toBe(0);
    // This test's own process stands for the other pki: alive, so the lock is not stale.
    writeFileSync(join(home, '..lock'), `${process.pid}\n`, { mode: 0o600 });
    const before = snapshotTree(ws);
    for (const args of [['init'], ['init', '--force'], ['ssh', 'init']]) {
      const r = pki([...args, '--no-password', '--insecure', '--json', '--dir', home]);
      expectRefusal(r, 'ERR_LOCKED');
      expect(r.stderr).toContain(`pid ${process.pid}`);
      expect(snapshotTree(ws)).toBe(before);
    }
    // A lock whose process is gone (killed while holding it) is taken over.
    writeFileSync(join(home, '..lock'), '999999999\n');
    const r = pki(['init', '--force', '--no-password', '--insecure', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(home)).not.toContain('..lock');
    expectConsistentCa(home);
  });

  /** A child process and its end, for runs the test must be able to stop by pid. */
  function start(command: string, args: readonly string[], input = ''): { child: ChildProcess; done: Promise<CliResult> } {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.PKI_DIR;
    delete env.PKI_PASSWORD;
    const child = spawn(command, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.end(input);
    const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr })));
    return { child, done };
  }

  /**
   * Two inits at once, made to overlap for certain: the passphrase file is a FIFO, so the run that holds the
   * lock waits on it. The other must fail at once with ERR_LOCKED; only then does the winner get its passphrase.
   */
  async function lockedRace(home: string, extra: readonly string[], ws: string): Promise<void> {
    const fifo = join(ws, 'pw.fifo');
    rmSync(fifo, { force: true });
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    const args = [PKI_BIN, 'init', ...extra, '--password-file', fifo, '--json', '--dir', home];
    const runs = [start(process.execPath, args), start(process.execPath, args)];
    const children = runs.map((r) => r.child);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the race did not end within 90 s')), 90_000);
    });
    try {
      const first = await Promise.race([...runs.map((r, i) => r.done.then((result) => ({ i, result }))), deadline]);
      expect(first.result.code, first.result.stderr).toBe(1);
      expect(errorCode(first.result), first.result.stderr).toBe('ERR_LOCKED');
      const writer = start('sh', ['-c', 'cat > "$0"', fifo], `${PASSPHRASE}\n`);
      children.push(writer.child);
      const second = await Promise.race([runs[1 - first.i]!.done, deadline]);
      expect(second.code, second.stderr).toBe(0);
      await Promise.race([writer.done, deadline]);
    } finally {
      clearTimeout(timer);
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expectConsistentCa(home);
  }

  it('two inits at once on a fresh home, 2 rounds: exactly one succeeds, the other is ERR_LOCKED, keys match certificates', async () => {
    for (let round = 0; round < 2; round++) {
      const ws = tempDir();
      await lockedRace(join(ws, 'home'), [], ws);
    }
  }, 180_000);

  it('two init --force at once on an existing CA, 2 rounds: exactly one succeeds, the other is ERR_LOCKED, keys match certificates', async () => {
    const ws = tempDir();
    const home = join(ws, 'home');
    expect(pki(['init', '--no-password', '--insecure', '--dir', home]).code).toBe(0);
    for (let round = 0; round < 2; round++) await lockedRace(home, ['--force'], ws);
  }, 180_000);

  it('two init --force at once, free-running, 5 rounds: every failure is ERR_LOCKED and the CA always matches its keys', async () => {
    const ws = tempDir();
    const home = join(ws, 'home');
    expect(pki(['init', '--no-password', '--insecure', '--dir', home]).code).toBe(0);
    for (let round = 0; round < 5; round++) {
      const args = ['init', '--force', '--no-password', '--insecure', '--json', '--dir', home];
      const results = await Promise.all([pkiAsync(args), pkiAsync(args)]);
      expect(results.filter((r) => r.code === 0).length, results.map((r) => r.stderr).join('\n')).toBeGreaterThanOrEqual(1);
      for (const r of results.filter((x) => x.code !== 0)) expect(errorCode(r), r.stderr).toBe('ERR_LOCKED');
      expectConsistentCa(home);
      const listed = JSON.parse(pki(['list', '--json', '--dir', home]).stdout) as { profile: string; serial: string }[];
      const serial = runPeer('openssl', ['x509', '-in', join(home, 'ca/intermediate_ca.crt'), '-noout', '-serial']).stdout.trim().split('=')[1]!;
      const hex = (x: string | undefined) => x?.toUpperCase().replace(/^0+/, '');
      expect(hex(listed.find((c) => c.profile === 'intermediate')?.serial)).toBe(hex(serial));
      expect(readFileSync(join(home, 'pki.json'), 'utf8')).toMatch(/"name"/);
    }
  }, 180_000);
});
