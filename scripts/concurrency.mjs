#!/usr/bin/env node
// Concurrency check (issue 6 point 5): N parallel issuers × M commands each against one CA home, plus a
// revoker and a CRL publisher running all the while. Then: every certificate recorded exactly once, no
// duplicate serial, every recorded path holds that serial, PRAGMA integrity_check ok, every CRL Number
// distinct and the published CRL carrying the highest, every revocation on it. Prints the figures
// (docs/security.md, "Concurrency figures"); exits 1 when a check fails.
//
//   node scripts/concurrency.mjs [--n 8] [--m 25] [--homes 1] [--json]
//
// Issuer i alternates `pki sign <csr> --out` (one certificate) and `pki generate` (a bundle: two).
// With PKI_DATABASE_URL set (issue 14), the inventory is that PostgreSQL database, and `--homes 2` copies
// the CA home after init so that issuers, revoker and publisher alternate between two CA hosts' homes
// sharing it; the checks then read the database (schema_version instead of integrity_check) and the CRL
// with the highest number among the homes'. The publisher's own CRL Numbers must be strictly increasing.
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = option('n', 8);
const M = option('m', 25);
const HOMES = option('homes', 1);
const json = args.includes('--json');
const databaseUrl = process.env.PKI_DATABASE_URL || null;
if (HOMES > 1 && !databaseUrl) throw new Error('--homes 2 needs PKI_DATABASE_URL: two homes share only a PostgreSQL inventory');
const keep = args.includes('--keep');
const PKI = resolve(import.meta.dirname, '../bin/pki.js');

const work = mkdtempSync(join(tmpdir(), 'pki-concurrency-'));
const ca = join(work, 'ca');
const homes = Array.from({ length: HOMES }, (_, i) => (i === 0 ? ca : join(work, `ca${i + 1}`)));
let turn = 0;

function run(argv, home = homes[turn++ % homes.length]) {
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [PKI, ...argv, '--dir', home], { env: { ...process.env, NO_COLOR: '1', PKI_DIR: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ argv, code, stdout, stderr, ms: performance.now() - started }));
  });
}

const init = execFileSync(process.execPath, [PKI, 'init', '--no-password', '--insecure', '--dir', ca], { encoding: 'utf8' });
void init;
// The second CA host: a copy of the home (keys, pki.json, crl/), sharing the inventory.
for (const home of homes.slice(1)) execFileSync('cp', ['-a', ca, home]);
// Requests made beforehand, so the timed part is pki alone.
const csrs = [];
for (let i = 0; i < N; i++) {
  for (let j = 0; j < M; j += 2) {
    const base = join(work, `w${i}-${j}`);
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=w${i}-${j}.example.com`], { stdio: 'ignore' });
    csrs.push(base);
  }
}

const results = [];
const signed = []; // serials available to the revoker
const expectedPaths = [];
let issuersDone = false;
// The revoker sleeps until a serial is signed or the issuers are done (an event, not a polling interval).
let wakeRevoker = () => {};
const revokerWoken = () => new Promise((resolve) => (wakeRevoker = resolve));

async function issuer(i) {
  for (let j = 0; j < M; j++) {
    let r;
    if (j % 2 === 0) {
      const base = join(work, `w${i}-${j}`);
      expectedPaths.push(`${base}.crt`);
      r = await run(['sign', `${base}.csr`, '--out', `${base}.crt`, '--json'], homes[(i + j) % homes.length]);
      if (r.code === 0) {
        signed.push(JSON.parse(r.stdout)[0]?.serial ?? JSON.parse(r.stdout).serial);
        wakeRevoker();
      }
    } else {
      const home = homes[(i + j) % homes.length];
      const certs = join(home, 'services', `w${i}-${j}`, 'main', 'certs');
      expectedPaths.push(join(certs, `w${i}-${j}.crt`), join(certs, 'client.crt'));
      r = await run(['generate', `w${i}-${j}`, 'main'], home);
    }
    results.push({ kind: r.argv[0], ...r });
  }
}

const crlNumbers = []; // in completion order, per publication
const publisherNumbers = []; // the publisher's own, one after the other: must be strictly increasing
const revoked = [];
async function revoker() {
  while (!issuersDone || signed.length > 0) {
    const serial = signed.shift();
    if (serial === undefined) {
      await revokerWoken();
      continue;
    }
    if (revoked.length >= Math.max(1, Math.floor((N * M) / 10))) break; // about one in ten
    const r = await run(['revoke', serial, '--reason', 'superseded', '--json']);
    results.push({ kind: 'revoke', ...r });
    if (r.code === 0) {
      revoked.push(serial);
      crlNumbers.push(BigInt(JSON.parse(r.stdout).crl.crlNumber));
    }
    signed.splice(0, 1); // skip one so revokes spread over the run
  }
}
async function publisher() {
  while (!issuersDone) {
    const r = await run(['crl', '--json']);
    results.push({ kind: 'crl', ...r });
    if (r.code === 0) {
      crlNumbers.push(BigInt(JSON.parse(r.stdout).crlNumber));
      publisherNumbers.push(BigInt(JSON.parse(r.stdout).crlNumber));
    }
  }
}

const started = performance.now();
const issuers = Promise.all(Array.from({ length: N }, (_, i) => issuer(i))).then(() => {
  issuersDone = true;
  wakeRevoker();
});
await Promise.all([issuers, revoker(), publisher()]);
const wallMs = performance.now() - started;

// Checks.
const failures = results.filter((r) => r.code !== 0);
const busy = results.filter((r) => /ERR_INVENTORY_BUSY|stayed locked/.test(r.stderr)).length;
const LEAVES = "SELECT serial, status, certificate_path AS path FROM certificates WHERE profile NOT IN ('root', 'intermediate')";
let integrity;
let rows;
if (databaseUrl) {
  const pg = require('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const version = (await client.query('SELECT max(version) AS v FROM schema_version')).rows[0].v;
  integrity = version >= 8 ? 'ok' : `schema_version ${version}`;
  rows = (await client.query(LEAVES)).rows;
  await client.end();
} else {
  const db = new Database(join(ca, 'db', 'pki.sqlite'), { readonly: true });
  integrity = db.pragma('integrity_check', { simple: true });
  rows = db.prepare(LEAVES).all();
  db.close();
}
const serials = new Set(rows.map((r) => r.serial));
// The inventory stores paths inside the CA home relative to it (schema v5, docs/inventory.md): a bundle
// path is relative, the same on every host; compare in that form.
const stored = (p) => {
  for (const home of homes) if (p.startsWith(`${home}/`)) return p.slice(home.length + 1);
  return p;
};
for (let k = 0; k < expectedPaths.length; k++) expectedPaths[k] = stored(expectedPaths[k]);
const paths = rows.map((r) => r.path);
const duplicatePaths = paths.length - new Set(paths).size;
const missingRows = expectedPaths.filter((p) => !paths.includes(p)).length;
const extraRows = paths.filter((p) => !expectedPaths.includes(p)).length;
let mismatched = 0;
for (const { serial, path } of rows) {
  // With two homes a bundle path exists in each; the certificate is in one of them.
  const files = path.startsWith('/') ? [path] : homes.map((home) => join(home, path)).filter((f) => existsSync(f));
  if (files.length === 0 || !files.some((f) => new X509Certificate(readFileSync(f)).serialNumber.replace(/^0+/, '') === serial.replace(/^0+/, ''))) mismatched++;
}
// The CRL with the highest number among the homes' (each host publishes its own file).
const crls = homes.map((home) => {
  const text = execFileSync('openssl', ['crl', '-in', join(home, 'crl', 'intermediate_ca.crl'), '-noout', '-text'], { encoding: 'utf8' });
  return { text, number: BigInt(/CRL Number:\s*\n?\s*((?:0x)?[0-9A-F]+)/i.exec(text)[1]) }; // openssl: decimal, or 0x… hex when large
});
const newest = crls.reduce((a, b) => (b.number > a.number ? b : a));
const crlText = newest.text;
const publishedNumber = newest.number;
const maxNumber = crlNumbers.reduce((a, b) => (b > a ? b : a), 0n);
const revokedMissingFromCrl = revoked.filter((s) => !new RegExp(`Serial Number: 0*${s.replace(/^0+/, '')}\\b`, 'i').test(crlText)).length;
const latencies = results.filter((r) => r.kind === 'sign' || r.kind === 'generate').map((r) => r.ms).sort((a, b) => a - b);
const pct = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]);

const figures = {
  command: `node scripts/concurrency.mjs --n ${N} --m ${M}${HOMES > 1 ? ` --homes ${HOMES}` : ''}`,
  cpus: cpus().length,
  issuers: N,
  commandsPerIssuer: M,
  certificatesExpected: expectedPaths.length,
  inventoryRows: rows.length,
  lostRows: missingRows,
  extraRows,
  duplicateRows: duplicatePaths,
  duplicateSerials: rows.length - serials.size,
  rowsNotMatchingFile: mismatched,
  integrityCheck: integrity,
  revocations: revoked.length,
  crlPublications: crlNumbers.length,
  duplicateCrlNumbers: crlNumbers.length - new Set(crlNumbers.map(String)).size,
  publisherCrlNumbersNotIncreasing: publisherNumbers.filter((n, k) => k > 0 && n <= publisherNumbers[k - 1]).length,
  homes: HOMES,
  backend: databaseUrl ? 'postgres' : 'sqlite',
  publishedCrlNumberIsHighest: publishedNumber === maxNumber,
  revokedMissingFromCrl,
  failedCommands: failures.length,
  busyErrors: busy,
  wallSeconds: Number((wallMs / 1000).toFixed(1)),
  issuanceLatencyMs: { p50: pct(0.5), p95: pct(0.95), max: pct(1) },
};
const ok =
  figures.lostRows === 0 && figures.extraRows === 0 && figures.duplicateRows === 0 && figures.duplicateSerials === 0 && figures.rowsNotMatchingFile === 0 &&
  integrity === 'ok' && figures.duplicateCrlNumbers === 0 && figures.publisherCrlNumbersNotIncreasing === 0 && figures.publishedCrlNumberIsHighest && revokedMissingFromCrl === 0 && failures.length === 0;

if (json) process.stdout.write(`${JSON.stringify({ ok, ...figures, failures: failures.slice(0, 5).map((f) => `${f.argv.join(' ')}: ${f.stderr.trim()}`) })}\n`);
else {
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(30)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
  for (const f of failures.slice(0, 5)) process.stdout.write(`FAILED ${f.argv.join(' ')}: ${f.stderr.trim()}\n`);
  process.stdout.write(ok ? 'OK\n' : 'FAILED\n');
}
if (!keep) rmSync(work, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
