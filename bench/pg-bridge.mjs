#!/usr/bin/env node
/**
 * `PKI_DATABASE_URL=postgres://USER@127.0.0.1:PORT/EMPTY_DB node bench/pg-bridge.mjs [--calls 1000] [--rounds 5]`:
 * the cost per call of the PostgreSQL inventory's synchronous bridge (issue 14, docs/performance.md).
 * In each round, interleaved: `SELECT 1` through the bridge (post, Atomics.wait, receiveMessageOnPort) and
 * the same query awaited on a plain `pg` Client in this thread (the driver's own round trip: the difference
 * is the bridge); `find()` of an absent serial on the PostgreSQL inventory and on the SQLite inventory;
 * and `nextSequenceNumber()`, a write transaction (BEGIN, the advisory write lock, the upsert, COMMIT: three
 * calls through the bridge). Reported: the median over the rounds of µs per call. Runs dist/ (npm run build).
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CALLS = value('--calls', 1000);
const ROUNDS = value('--rounds', 5);
const url = process.env.PKI_DATABASE_URL;
if (!url) throw new Error('set PKI_DATABASE_URL to an empty PostgreSQL database (the bench creates the inventory schema in it)');

const dist = (p) => pathToFileURL(resolve(import.meta.dirname, '../dist', p)).href;
const { PostgresInventory } = await import(dist('store/inventory/postgres.js'));
const { SqliteInventory } = await import(dist('store/inventory/sqlite.js'));
const { parsePgUrl } = await import(dist('store/inventory/pg-url.js'));
const pg = createRequire(import.meta.url)('pg');

const home = mkdtempSync(join(tmpdir(), 'pki-bench-pg-'));
mkdirSync(join(home, 'db'));
const postgres = new PostgresInventory(parsePgUrl(url, 'PKI_DATABASE_URL'), { home });
const sqlite = new SqliteInventory(join(home, 'db', 'pki.sqlite'), { create: true });
const client = new pg.Client({ connectionString: url });
await client.connect();

const perCall = (fn) => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) fn(i);
  return Number(process.hrtime.bigint() - started) / 1000 / CALLS;
};
const perCallAsync = async (fn) => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await fn(i);
  return Number(process.hrtime.bigint() - started) / 1000 / CALLS;
};

const rows = {
  'SELECT 1 through the bridge (sync)': [],
  'SELECT 1 on a pg Client in this thread (await)': [],
  'find() absent serial, PostgreSQL': [],
  'find() absent serial, SQLite': [],
  'nextSequenceNumber(), PostgreSQL (write transaction)': [],
  'nextSequenceNumber(), SQLite (write transaction)': [],
};
for (let round = 0; round < ROUNDS; round++) {
  rows['SELECT 1 through the bridge (sync)'].push(perCall(() => postgres.bridge.query('SELECT 1')));
  rows['SELECT 1 on a pg Client in this thread (await)'].push(await perCallAsync(() => client.query('SELECT 1')));
  rows['find() absent serial, PostgreSQL'].push(perCall((i) => postgres.find('x509', `FF${i}`)));
  rows['find() absent serial, SQLite'].push(perCall((i) => sqlite.find('x509', `FF${i}`)));
  rows['nextSequenceNumber(), PostgreSQL (write transaction)'].push(perCall(() => postgres.nextSequenceNumber('crl')));
  rows['nextSequenceNumber(), SQLite (write transaction)'].push(perCall(() => sqlite.nextSequenceNumber('crl')));
}
await client.end();
postgres.close();
sqlite.close();
rmSync(home, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(`${CALLS} calls × ${ROUNDS} rounds, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}, node ${process.version}\n`);
for (const [name, xs] of Object.entries(rows)) process.stdout.write(`${name.padEnd(56)} ${median(xs).toFixed(1).padStart(8)} µs/call\n`);
const bridge = median(rows['SELECT 1 through the bridge (sync)']) - median(rows['SELECT 1 on a pg Client in this thread (await)']);
process.stdout.write(`${'bridge overhead per call (difference of the first two)'.padEnd(56)} ${bridge.toFixed(1).padStart(8)} µs/call\n`);
