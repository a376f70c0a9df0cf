/**
 * Real peers the tests prove against. A missing peer fails the test with the Debian package to install —
 * never a silent skip.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync } from 'node:fs';

const PACKAGES: Record<string, string> = {
  openssl: 'openssl',
  certtool: 'gnutls-bin',
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  'ssh-keyscan': 'openssh-client',
  sshd: 'openssh-server',
  nginx: 'nginx',
  curl: 'curl',
  certutil: 'libnss3-tools',
  postgres: 'postgresql',
  initdb: 'postgresql',
  psql: 'postgresql-client',
  sqlite3: 'sqlite3',
  setpriv: 'util-linux',
  promtool: 'prometheus',
  'prometheus-node-exporter': 'prometheus-node-exporter',
  'systemd-analyze': 'systemd',
  haproxy: 'haproxy',
  mariadbd: 'mariadb-server',
  'mariadb-install-db': 'mariadb-server',
  mariadb: 'mariadb-client',
  keytool: 'openjdk-17-jdk-headless',
  java: 'openjdk-17-jdk-headless',
  javac: 'openjdk-17-jdk-headless',
  'update-ca-certificates': 'ca-certificates',
  zsh: 'zsh',
  fish: 'fish',
  script: 'bsdutils',
  certbot: 'certbot',
  lego: 'lego',
  dehydrated: 'dehydrated',
  caddy: 'caddy',
  pebble: 'pebble',
  'pebble-challtestsrv': 'pebble',
  'softhsm2-util': 'softhsm2',
  'pkcs11-tool': 'opensc',
  go: 'golang-go',
};

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Debian keeps the PostgreSQL server programs off PATH, in /usr/lib/postgresql/<major>/bin: newest first. */
function postgresqlBinDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}

/** Absolute path of a peer program; throws naming the Debian package when it is missing. */
export function requirePeer(name: string): string {
  for (const dir of [...SEARCH_PATH, ...postgresqlBinDirs()]) {
    const candidate = `${dir}/${name}`;
    const r = spawnSync('test', ['-x', candidate]);
    if (r.status === 0) return candidate;
  }
  throw new Error(`${name} is not installed: apt-get install ${PACKAGES[name] ?? name} (the test proves pki against it and cannot run without it)`);
}

/**
 * How long one peer run may take: a hang guard, not a benchmark (RSA key generation beside other
 * CPU-heavy work can take tens of seconds). A run that hits it throws, never passes as a refusal.
 */
export const PEER_RUN_MS = 120_000;

/** Runs a peer and returns its result without throwing on a non-zero exit (but throwing when it hung). */
export function runPeer(name: string, args: readonly string[], options: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(requirePeer(name), args as string[], { encoding: 'utf8', timeout: PEER_RUN_MS, ...options });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    throw new Error(`${name} ${args.join(' ')} did not exit within ${PEER_RUN_MS / 1000} s (killed); stderr so far:\n${r.stderr}`);
  }
  return r;
}

/** Runs a peer and returns stdout; throws with its stderr on a non-zero exit (or after PEER_RUN_MS). */
export function peer(name: string, args: readonly string[], options: { input?: string | Buffer; cwd?: string } = {}): string {
  return execFileSync(requirePeer(name), args as string[], { encoding: 'utf8', timeout: PEER_RUN_MS, stdio: ['pipe', 'pipe', 'pipe'], ...options });
}
