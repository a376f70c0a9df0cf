/**
 * A real PostgreSQL server on 127.0.0.1 with TLS, for the tests that prove pki's files against it (the
 * CRL relying-party test, `inspect --tls --starttls postgres`). PostgreSQL refuses to run as root: the
 * server runs as the postgres user (setpriv), on files it owns (the key 0600), in a fresh cluster.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { pki, tempDir } from './cli.js';
import { peer, requirePeer, runPeer } from './peers.js';
import { startServer, type Server } from './process.js';

export interface TlsPostgresOptions {
  /** Files copied into the server's folder by name (server.crt and server.key at least, unless `conf`), e.g. { 'root.crt': ca.crt }. */
  readonly files?: Readonly<Record<string, string>>;
  /**
   * Lines appended to the cluster's postgresql.conf, as an operator edits it (a guide's block): the TLS
   * settings (ssl, ssl_cert_file, ssl_key_file…) then come from here, not from copied server.crt/server.key.
   */
  readonly conf?: string;
  /** Extra `-c name=value` settings after listen_addresses, ssl, ssl_cert_file and ssl_key_file (paths: use `work`). */
  readonly settings?: (work: string) => readonly string[];
  /** pg_hba.conf / pg_ident.conf contents; initdb's defaults when absent. */
  readonly hba?: string;
  readonly ident?: string;
  readonly prefix?: string;
}

export interface TlsPostgres {
  /** The running server; replaced by restart(). */
  server: Server;
  /** Starts the (stopped) server again on the same data folder and port, as after a crash or a maintenance stop. */
  restart(): Promise<void>;
  /** The folder holding the copied files and the Unix socket. */
  readonly work: string;
}

export async function startTlsPostgres(options: TlsPostgresOptions): Promise<TlsPostgres> {
  const setpriv = requirePeer('setpriv');
  const initdb = requirePeer('initdb');
  const postgres = requirePeer('postgres');
  const uid = Number(peer('id', ['-u', 'postgres']).trim());
  const gid = Number(peer('id', ['-g', 'postgres']).trim());
  const work = tempDir(options.prefix ?? 'pki-postgres-');
  chownSync(work, uid, gid);
  const asPostgres = ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--'];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  const data = join(work, 'data');
  const init = runPeer('setpriv', [...asPostgres, initdb, '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions'], { env, cwd: work });
  expect(init.status, init.stderr).toBe(0);
  for (const [name, source] of Object.entries(options.files ?? {})) {
    const target = join(work, name);
    copyFileSync(source, target);
    chownSync(target, uid, gid);
    chmodSync(target, name.endsWith('.key') ? 0o600 : 0o644);
  }
  if (options.hba !== undefined) writeFileSync(join(data, 'pg_hba.conf'), options.hba);
  if (options.ident !== undefined) writeFileSync(join(data, 'pg_ident.conf'), options.ident);
  if (options.conf !== undefined) appendFileSync(join(data, 'postgresql.conf'), `\n${options.conf}\n`);
  // -c wins over postgresql.conf: with `conf`, the TLS settings are left to it.
  const tls = options.conf !== undefined ? [] : ['ssl=on', `ssl_cert_file=${join(work, 'server.crt')}`, `ssl_key_file=${join(work, 'server.key')}`];
  const settings = ['listen_addresses=127.0.0.1', ...tls, 'fsync=off', ...(options.settings?.(work) ?? [])];
  const start = (port?: number) =>
    startServer({
      program: setpriv,
      args: (p) => [...asPostgres, postgres, '-D', data, '-k', work, '-p', String(p), ...settings.flatMap((s) => ['-c', s])],
      ready: /database system is ready to accept connections/,
      env,
      cwd: work,
      stopSignal: 'SIGINT', // fast shutdown: the postmaster ends its children and removes its socket
      ...(port === undefined ? {} : { pickPort: async () => port, attempts: 1 }),
    });
  const result: TlsPostgres = {
    server: await start(),
    work,
    restart: async () => {
      result.server = await start(result.server.port);
    },
  };
  return result;
}

/**
 * A PostgreSQL server without TLS for the inventory tests (issue 14): trust authentication for local and
 * 127.0.0.1 connections unless `hba` says otherwise. `createDatabase` makes a fresh database per test.
 */
export async function startPostgres(options: Omit<TlsPostgresOptions, 'conf' | 'files'> = {}): Promise<TlsPostgres> {
  return startTlsPostgres({ ...options, conf: '', prefix: options.prefix ?? 'pki-postgres-plain-' });
}

/** Runs `sql` with psql as the postgres superuser over the server's Unix socket; returns psql's stdout (tuples only, unaligned). */
export function psql(pg: TlsPostgres, sql: string, database = 'postgres'): string {
  const r = runPeer('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', pg.work, '-p', String(pg.server.port), '-U', 'postgres', '-d', database, '-c', sql], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', PGCONNECT_TIMEOUT: '10' },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

let databases = 0;
/** A fresh, empty database owned by the postgres user: its name (pki_test_<n>_<pid>). */
export function createDatabase(pg: TlsPostgres, owner = 'postgres'): string {
  const name = `pki_test_${++databases}_${process.pid}`;
  psql(pg, `CREATE DATABASE ${name} OWNER ${owner}`);
  return name;
}

/**
 * Two CA hosts on one PostgreSQL inventory (issue 14): `pki init` on a fresh database of `db`, then a copy
 * of the home (`cp -a`, as a second CA host gets it: pki.json names the database). Returns both homes,
 * the database and the root certificate's path.
 */
export function twoCaHostsOnPostgres(db: TlsPostgres): { homes: [string, string]; database: string; rootFile: string } {
  const database = createDatabase(db);
  const home = join(tempDir(), 'ca');
  const init = pki(['init', '--no-password', '--insecure', '--dir', home], { env: { PKI_DATABASE_URL: `postgres://postgres@127.0.0.1:${db.server.port}/${database}` } });
  if (init.code !== 0) throw new Error(`pki init on PostgreSQL failed: ${init.stderr}`);
  const copy = join(tempDir(), 'ca');
  execFileSync('cp', ['-a', home, copy]);
  return { homes: [home, copy], database, rootFile: join(home, 'ca', 'root_ca.crt') };
}
