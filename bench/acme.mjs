#!/usr/bin/env node
/**
 * `node bench/acme.mjs [--accounts N] [--orders K] [--rounds R] [--only pebble|pki]`: ACME issuance
 * throughput (issue 13, done-means 6, first half). N concurrent acme-client accounts, each placing K orders
 * one after another (one name each, http-01), against `pki serve` and against Debian's pebble in the same
 * run, rounds interleaved (pebble, pki, pki, pebble, …) so a drift in the machine's speed hits both.
 * Reported per server: certificates/s over each round (median of rounds), and p50/p99 per ACME step over
 * every order: newAccount, newOrder, authz (fetch the authorization), challenge (POST until the
 * authorization is valid: validation), finalize (POST the CSR until the order is valid: issuance), cert
 * (download). CSRs and keys are made before the clock starts. Everything is on 127.0.0.1: pebble resolves
 * through pebble-challtestsrv (every name → 127.0.0.1), pki serve through --acme-resolve; both validate
 * on the same port, answered by this process. Both poll with the same client backoff (50 ms … 1 s).
 * pki serve runs on a fresh CA home per run and persists every step in SQLite (WAL, synchronous);
 * pebble keeps everything in memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { Agent } from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const ROOT = resolve(import.meta.dirname, '..');
const PKI = join(ROOT, 'bin/pki.js');
const acme = createRequire(import.meta.url)('acme-client');

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const ACCOUNTS = Number(value('--accounts', '8'));
const ORDERS = Number(value('--orders', '5'));
const ROUNDS = Number(value('--rounds', '3'));
const ONLY = value('--only', null);
const STEPS = ['newAccount', 'newOrder', 'authz', 'challenge', 'finalize', 'cert'];
const work = mkdtempSync(join(tmpdir(), 'pki-bench-acme-'));
const children = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Spawns a server and resolves once its log matches `ready` (30 s deadline). */
function start(program, argv, ready, env = { PATH: process.env.PATH }) {
  const child = spawn(program, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  let log = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${program} not ready within 30 s:\n${log}`)), 30_000);
    const on = (d) => {
      log += d;
      const m = ready.exec(log);
      if (m) {
        clearTimeout(timer);
        res({ child, match: m });
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => rej(new Error(`${program} exited (${code}):\n${log}`)));
  });
}

function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);

async function startPebble(httpPort, tlsPort) {
  const o = (a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = (n) => join(work, n);
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('tls-root.key'), '-out', p('tls-root.pem'), '-subj', '/CN=bench TLS root', '-days', '2']);
  o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('tls.key'), '-out', p('tls.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('tls.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  o(['x509', '-req', '-in', p('tls.csr'), '-CA', p('tls-root.pem'), '-CAkey', p('tls-root.key'), '-out', p('tls.pem'), '-days', '2', '-extfile', p('tls.ext')]);
  const [dns, mgmt, listen, pmgmt] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await start('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${mgmt}`], /Starting challenge servers/);
  const config = { pebble: { listenAddress: `127.0.0.1:${listen}`, managementListenAddress: `127.0.0.1:${pmgmt}`, certificate: p('tls.pem'), privateKey: p('tls.key'), httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false } };
  writeFileSync(p('pebble.json'), JSON.stringify(config));
  const env = { PATH: process.env.PATH, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };
  await start('pebble', ['-config', p('pebble.json'), '-dnsserver', `127.0.0.1:${dns}`], new RegExp(`Listening on: 127\\.0\\.0\\.1:${listen}\\b`), env);
  return { name: 'pebble', directoryUrl: `https://127.0.0.1:${listen}/dir`, ca: readFileSync(p('tls-root.pem')) };
}

/** A fresh CA home and `pki serve` on it (one per round: every round starts from an empty database). */
async function startPkiServe(httpPort, tlsPort, round) {
  const dir = join(work, `ca-${round}`);
  execFileSync(process.execPath, [PKI, 'init', '--no-password', '--insecure', '--dir', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const argv = [PKI, 'serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0', '--acme-allow', '*.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(httpPort), '--acme-tls-port', String(tlsPort)];
  const { child, match } = await start(process.execPath, argv, /\(acme: (\S+), ocsp:/, { PATH: process.env.PATH });
  return { name: 'pki serve', directoryUrl: match[1], ca: readFileSync(join(dir, 'ca/root_ca.crt')), child };
}

const tokens = new Map();
async function serveChallenges(port) {
  const server = createServer((req, res) => {
    const answer = tokens.get((req.url ?? '').split('/').pop());
    if (answer === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
  });
  await new Promise((res) => server.listen(port, '127.0.0.1', res));
  return server;
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** One account: newAccount, then ORDERS orders in sequence, each step timed. */
async function account(target, worker, round, csrs, samples) {
  const client = new acme.Client({ directoryUrl: target.directoryUrl, accountKey: csrs.accountKey, backoffMin: 50, backoffMax: 1000, backoffAttempts: 30 });
  let t = process.hrtime.bigint();
  await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:bench@y.test'] });
  samples.newAccount.push(ms(t));
  for (let k = 0; k < ORDERS; k++) {
    const name = `b${round}-${worker}-${k}.test`;
    t = process.hrtime.bigint();
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] });
    samples.newOrder.push(ms(t));
    t = process.hrtime.bigint();
    const [authz] = await client.getAuthorizations(order);
    samples.authz.push(ms(t));
    const challenge = authz.challenges.find((c) => c.type === 'http-01');
    tokens.set(challenge.token, await client.getChallengeKeyAuthorization(challenge));
    t = process.hrtime.bigint();
    await client.completeChallenge(challenge);
    await client.waitForValidStatus(authz);
    samples.challenge.push(ms(t));
    tokens.delete(challenge.token);
    t = process.hrtime.bigint();
    const finalized = await client.finalizeOrder(order, csrs.byName.get(name));
    const valid = finalized.status === 'valid' ? finalized : await client.waitForValidStatus(finalized);
    samples.finalize.push(ms(t));
    t = process.hrtime.bigint();
    const pem = await client.getCertificate(valid);
    samples.cert.push(ms(t));
    if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`${target.name}: no certificate for ${name}`);
  }
}

async function prepare(round) {
  const accounts = [];
  for (let w = 0; w < ACCOUNTS; w++) {
    const byNameMap = new Map();
    for (let k = 0; k < ORDERS; k++) {
      const name = `b${round}-${w}-${k}.test`;
      const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      byNameMap.set(name, csr);
    }
    accounts.push({ accountKey: await acme.crypto.createPrivateEcdsaKey('P-256'), byName: byNameMap });
  }
  return accounts;
}

async function round(target, r) {
  const prepared = await prepare(`${target.name === 'pebble' ? 'p' : 'k'}${r}`);
  const samples = Object.fromEntries(STEPS.map((s) => [s, []]));
  const t0 = process.hrtime.bigint();
  await Promise.all(prepared.map((csrs, w) => account(target, w, `${target.name === 'pebble' ? 'p' : 'k'}${r}`, csrs, samples)));
  const seconds = ms(t0) / 1000;
  return { perSecond: (ACCOUNTS * ORDERS) / seconds, seconds, samples };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const median = (xs) => pct(xs, 50);

async function main() {
  const [httpPort, tlsPort] = [await freePort(), await freePort()];
  await serveChallenges(httpPort);
  const targets = [];
  if (ONLY !== 'pki') targets.push({ name: 'pebble', open: async () => startPebble(httpPort, tlsPort), persistent: true });
  if (ONLY !== 'pebble') targets.push({ name: 'pki serve', open: async (r) => startPkiServe(httpPort, tlsPort, r), persistent: false });
  const opened = new Map();
  const cas = [];
  const results = new Map(targets.map((t) => [t.name, { rates: [], samples: Object.fromEntries(STEPS.map((s) => [s, []])) }]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      let target = t.persistent ? opened.get(t.name) : null;
      if (!target) {
        target = await t.open(r);
        if (t.persistent) opened.set(t.name, target);
        cas.push(target.ca);
        acme.axios.defaults.httpsAgent = new Agent({ ca: cas, keepAlive: true });
      }
      const result = await round(target, r);
      const into = results.get(t.name);
      into.rates.push(result.perSecond);
      for (const s of STEPS) into.samples[s].push(...result.samples[s]);
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${t.name}: ${result.perSecond.toFixed(1)} certificates/s (${ACCOUNTS * ORDERS} in ${result.seconds.toFixed(2)} s)\n`);
      if (!t.persistent) target.child.kill('SIGTERM');
    }
  }
  const lines = [
    `ACME issuance, ${ACCOUNTS} concurrent acme-client accounts × ${ORDERS} orders, ${ROUNDS} interleaved rounds; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`,
    '',
    `| server | certificates/s (median of rounds; min–max) | ${STEPS.map((s) => `${s} p50 / p99 ms`).join(' | ')} |`,
    `|---|---|${STEPS.map(() => '---').join('|')}|`,
  ];
  for (const [name, r] of results) {
    const rates = `${median(r.rates).toFixed(1)} (${Math.min(...r.rates).toFixed(1)}–${Math.max(...r.rates).toFixed(1)})`;
    lines.push(`| ${name} | ${rates} | ${STEPS.map((s) => `${median(r.samples[s]).toFixed(1)} / ${pct(r.samples[s], 99).toFixed(1)}`).join(' | ')} |`);
  }
  if (results.size === 2) {
    const [a, b] = [...results.values()];
    lines.push('', `pki serve / pebble certificates/s: ${(median(b.rates) / median(a.rates)).toFixed(2)}×`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => {
    stopAll();
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`bench acme: ${e.stack ?? e}\n`);
    stopAll();
    process.exit(1);
  },
);
