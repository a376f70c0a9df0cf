/**
 * The worker thread behind the PostgreSQL inventory (issue 14, docs/decisions.md): it owns the `pg` pool
 * and runs one request at a time from pg-bridge.ts, which waits for each answer on a shared Int32Array
 * (Atomics.wait) so the Inventory stays synchronous. The answer is posted first and the flag set after:
 * the waiting thread reads it with receiveMessageOnPort as soon as it wakes.
 *
 * Built by scripts/build-cli.mjs into dist/pki/pg-worker.cjs (pg stays external, as in the CLI bundle).
 * Transactions: `begin` takes a pooled connection, BEGIN, and the inventory's write lock (an advisory
 * lock, waited for up to LOCK_TIMEOUT); nested `begin`s are savepoints; queries in between run on that
 * connection; `commit` / `rollback` end it. Outside a transaction a query runs on any pooled connection.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';
import { ADVISORY_LOCK, migratePostgres } from './pg-schema.js';
import { lookupPassword } from './pg-password.js';
import type { PgTarget } from './pg-url.js';
import type { PgRequest, PgResponse, SerializedError } from './pg-bridge.js';

/** How long a writer waits for another host's write transaction (SQLite's busy timeout). */
const LOCK_TIMEOUT = '10s';

const { port, signal, target } = workerData as { port: MessagePort; signal: Int32Array; target: PgTarget };

function tlsOptions(t: PgTarget): pg.ClientConfig['ssl'] {
  if (t.sslmode === 'disable') return false;
  const read = (path: string | null, what: string, secret = false) => {
    if (path === null) return undefined;
    try {
      // As libpq: a client key others can read is refused.
      const mode = secret ? statSync(path).mode : 0;
      if ((mode & 0o077) !== 0) {
        return Object.assign(new Error(`${what} ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: a key must be readable by its owner only`), { code: 'PKI_TLS_FILE', hint: `chmod 600 ${path}` });
      }
      return readFileSync(path, 'utf8');
    } catch (e) {
      return Object.assign(new Error(`${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code}`), { code: 'PKI_TLS_FILE', hint: `fix ${what} in the URL` });
    }
  };
  const files = [read(t.sslrootcert, 'sslrootcert'), read(t.sslcert, 'sslcert'), read(t.sslkey, 'sslkey', true)];
  const problem = files.find((f) => f instanceof Error);
  if (problem) throw problem;
  const [ca, cert, key] = files as (string | undefined)[];
  const verifyChain = t.sslmode !== 'require' || ca !== undefined; // libpq: require with a root certificate verifies the chain
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert, key } : {}),
    rejectUnauthorized: verifyChain,
    ...(isIP(t.host) === 0 ? { servername: t.host } : {}),
    // pg hands tls.connect no host, so Node would check an IP address target as "localhost": check the host the URL names.
    checkServerIdentity: (_: string, peer: PeerCertificate) => (t.sslmode === 'verify-full' ? checkServerIdentity(t.host, peer) : undefined),
  };
}

let pool: pg.Pool | undefined;
let client: pg.PoolClient | null = null;
let depth = 0;

function openPool(): pg.Pool {
  const p = new pg.Pool({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    ssl: tlsOptions(target),
    password: async () => lookupPassword(target),
    application_name: 'pki',
    max: 2,
    connectionTimeoutMillis: target.connectTimeoutS * 1000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  // An idle connection the server dropped (a restart): the pool replaces it; the next query reports if it cannot.
  p.on('error', () => undefined);
  return p;
}

const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `pki_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name;
}

async function runQuery(r: Extract<PgRequest, { op: 'query' }>): Promise<unknown> {
  const on = client ?? pool!;
  const values = [...r.params];
  // Named: each connection parses a statement once and then only binds it (a third of a small query's time).
  const name = statementName(r.sql);
  const result = r.array ? await on.query({ name, text: r.sql, values, rowMode: 'array' }) : await on.query({ name, text: r.sql, values });
  return { rows: result.rows, rowCount: result.rowCount ?? 0 };
}

async function begin(): Promise<void> {
  if (depth > 0) {
    await client!.query(`SAVEPOINT pki_${depth}`);
    depth++;
    return;
  }
  const c = await pool!.connect();
  try {
    // One round trip (the simple query protocol takes several statements); the values are constants.
    await c.query(`BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.WRITE})`);
  } catch (e) {
    c.release(true);
    throw e;
  }
  client = c;
  depth = 1;
}

async function end(commit: boolean): Promise<void> {
  if (depth === 0 || client === null) return;
  depth--;
  if (depth > 0) {
    await client.query(commit ? `RELEASE SAVEPOINT pki_${depth}` : `ROLLBACK TO SAVEPOINT pki_${depth}`);
    return;
  }
  const c = client;
  client = null;
  try {
    await c.query(commit ? 'COMMIT' : 'ROLLBACK');
    c.release();
  } catch (e) {
    c.release(true); // a broken connection is not handed out again
    if (commit) throw e;
  }
}

async function handle(r: PgRequest): Promise<unknown> {
  switch (r.op) {
    case 'open': {
      pool = openPool();
      const c = await pool.connect();
      try {
        await migratePostgres(c, target.display);
      } finally {
        c.release();
      }
      return null;
    }
    case 'query':
      return runQuery(r);
    case 'begin':
      return begin();
    case 'commit':
      return end(true);
    case 'rollback':
      return end(false);
    case 'close':
      await end(false).catch(() => undefined);
      await pool?.end();
      pool = undefined;
      return null;
  }
}

/** An error as plain data (it crosses the port): pg's SQLSTATE, Node's errno code, a PkiError's hint. */
function serialize(e: unknown): SerializedError {
  const err = e as Error & { code?: unknown; constraint?: string; hint?: string; errors?: unknown[] };
  // Node's happy-eyeballs connect to a name with several addresses throws an AggregateError with no message of its own.
  if (err && Array.isArray(err.errors) && err.errors.length > 0 && !err.message) return serialize(err.errors[0]);
  return {
    name: err?.name ?? 'Error',
    message: err?.message ?? String(e),
    code: typeof err?.code === 'string' ? err.code : undefined,
    constraint: err?.constraint,
    hint: err?.hint,
  };
}

function answer(response: PgResponse): void {
  port.postMessage(response);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on('message', (r: PgRequest) => {
  handle(r).then(
    (result) => answer({ ok: true, result }),
    (e: unknown) => answer({ ok: false, error: serialize(e) }),
  );
});
process.on('uncaughtException', (e) => answer({ ok: false, error: serialize(e) }));
