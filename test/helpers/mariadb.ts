/**
 * A real MariaDB server (Debian mariadb-server: mariadbd, mariadb-install-db) on 127.0.0.1 and a free
 * port, in a fresh datadir, for tests that prove pki's files against it. mariadbd is started as root
 * with --user=mysql (it drops to that user itself, as the Debian service runs it), so a key it must read
 * needs the mysql group (`pki generate … --key-mode 0640 --group mysql`). Root logs in over the server's
 * own Unix socket without a password (--auth-root-authentication-method=normal): `sql()` and
 * `clientHome` use that for setup. Name resolution is off (--skip-name-resolve): accounts are
 * 'user'@'127.0.0.1' or 'user'@'%'.
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SpawnSyncReturns } from 'node:child_process';
import { tempDir } from './cli.js';
import { peer, requirePeer, runPeer } from './peers.js';
import { startServer, type Server } from './process.js';

export interface MariaDbOptions {
  /**
   * An option file (e.g. a guide's my.cnf block) read instead of the system's (`--defaults-file`); the
   * server reads its [mariadbd]/[mysqld]/[server] groups. Without it: --no-defaults.
   */
  readonly defaultsFile?: string;
  /** mariadbd options after the helper's (datadir, socket, port, bind address, user), e.g. `--ssl-cert=…`. */
  readonly args?: readonly string[];
  readonly prefix?: string;
}

export interface MariaDb {
  readonly server: Server;
  /** The folder holding the datadir and the socket. */
  readonly work: string;
  readonly socket: string;
  /**
   * A HOME whose ~/.my.cnf points the `mariadb` client at this server's socket (it wins over the Debian
   * client default, /run/mysqld/mysqld.sock): as `sudo mariadb` reaches the system server.
   */
  readonly clientHome: string;
  /** Runs SQL as root over the socket. */
  sql(statements: string): SpawnSyncReturns<string>;
}

/** What mariadbd logs once it accepts connections, naming its port (proves this server bound it). */
const ready = (port: number) => new RegExp(`ready for connections\\.[\\s\\S]*port: ${port}\\b`);

export async function startMariaDb(options: MariaDbOptions = {}): Promise<MariaDb> {
  const mariadbd = requirePeer('mariadbd');
  requirePeer('mariadb-install-db');
  requirePeer('mariadb');
  const uid = Number(peer('id', ['-u', 'mysql']).trim());
  const gid = Number(peer('id', ['-g', 'mysql']).trim());
  const work = tempDir(options.prefix ?? 'pki-mariadb-');
  chownSync(work, uid, gid); // the socket and pid file are made by mysql
  const data = join(work, 'data');
  const socket = join(work, 'mysqld.sock');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', HOME: work };
  const init = runPeer('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=mysql', '--auth-root-authentication-method=normal', '--skip-test-db'], { env, cwd: work });
  expect(init.status, `mariadb-install-db: ${init.stdout}\n${init.stderr}`).toBe(0);
  const defaults = options.defaultsFile ? `--defaults-file=${options.defaultsFile}` : '--no-defaults'; // must come first
  const server = await startServer({
    program: mariadbd,
    args: (p) => [
      defaults, '--user=mysql', `--datadir=${data}`, `--socket=${socket}`, `--pid-file=${join(work, 'mysqld.pid')}`,
      `--port=${p}`, '--bind-address=127.0.0.1', '--skip-name-resolve', '--skip-log-bin',
      '--innodb-buffer-pool-size=16M', '--innodb-flush-log-at-trx-commit=0', ...(options.args ?? []),
    ],
    ready,
    env,
    cwd: work,
  });
  const clientHome = join(work, 'client-home');
  mkdirSync(clientHome);
  writeFileSync(join(clientHome, '.my.cnf'), `[client]\nsocket=${socket}\n`);
  const sql = (statements: string) => runPeer('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch'], { input: statements, env });
  return { server, work, socket, clientHome, sql };
}
