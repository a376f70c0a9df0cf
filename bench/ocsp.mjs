#!/usr/bin/env node
/**
 * `node bench/ocsp.mjs [--duration S] [--rounds N] [--json FILE]`: the OCSP workload of issue 13 (done-means 6).
 * `pki serve`'s responder side by side with `openssl ocsp -index index.txt -port P -rsigner … -rkey … -CA …`
 * on the same certificates (the index written by `pki db export-index`), in the same run, the order of the
 * two rotating every round. Load: 64 keep-alive clients (node:http Agent keepAlive, bench/ocsp-load.mjs, in two
 * processes), each POSTing pre-built nonce-less requests one at a time (`openssl ocsp -reqout -no_nonce`): one request over and over
 * ("same"), and a round-robin mix over 64 serials, 8 of them revoked ("mix"). Reported: responses/s and
 * p50/p99 latency, the server's CPU time per response (/proc utime+stime: robust when the machine is
 * shared, where responses/s mostly measures the share of CPU each process got), medians over the rounds,
 * and the medians of the round-by-round ratios pki/openssl.
 * Both answers are checked with `openssl ocsp` before the load (good and revoked as expected).
 * Not wrk: OpenSSL 3.0's responder never answered wrk's connections here (0 requests, curl and node:http fine).
 *
 * The fixture (a CA home, 64 leaves) is made afresh in $PKI_BENCH_DIR/ocsp (default $TMPDIR/pki-bench).
 * `pki serve`'s access log (one JSON line per request) is written to /dev/null: it is part of its cost.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCsrs, PKI } from './fixtures.mjs';

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const DURATION = Number(value('--duration') ?? 10);
const ROUNDS = Number(value('--rounds') ?? 3);
const JSON_OUT = value('--json');
const CONNECTIONS = 64;
/** Load processes: one Node client process cannot keep 64 connections busy against a fast server. */
const GENERATORS = Number(value('--generators') ?? 2);
const LOAD = join(import.meta.dirname, 'ocsp-load.mjs');
const LEAVES = 64;
const REVOKED = 8;
const WORK = join(process.env.PKI_BENCH_DIR ?? join(tmpdir(), 'pki-bench'), 'ocsp');
const env = { ...process.env, NO_COLOR: '1' };
delete env.PKI_PASSWORD;
delete env.PKI_DIR;

const pki = (...a) => execFileSync(process.execPath, [PKI, ...a], { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const openssl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A fresh CA home with LEAVES leaves, REVOKED of them revoked; one nonce-less request per leaf. */
async function fixture() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const dir = join(WORK, 'ca');
  pki('init', '--no-password', '--insecure', '--dir', dir);
  const csrs = (await ensureCsrs(join(WORK, '..'), 200)).slice(0, LEAVES);
  const out = join(WORK, 'leaves');
  pki('sign', '--dir', dir, '--insecure', '--out-dir', out, ...csrs);
  const intermediate = join(dir, 'ca/intermediate_ca.crt');
  const leaves = csrs.map((c) => join(out, `${c.split('/').pop().replace(/\.csr$/, '')}.crt`));
  for (const leaf of leaves.slice(LEAVES - REVOKED)) pki('revoke', '--dir', dir, '--insecure', leaf, '--reason', 'keyCompromise');
  const requests = leaves.map((leaf, i) => {
    const file = join(WORK, `req${String(i).padStart(3, '0')}.der`);
    openssl('ocsp', '-issuer', intermediate, '-cert', leaf, '-no_nonce', '-reqout', file);
    return file;
  });
  pki('db', 'export-index', '--dir', dir, '--insecure', '--out', join(WORK, 'index.txt'), '--force');
  return { dir, intermediate, root: join(dir, 'ca/root_ca.crt'), key: join(dir, 'ca/intermediate_ca.key'), leaves, requests };
}

function startPkiServe(dir) {
  const child = spawn(process.execPath, [PKI, 'serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /ocsp: (http:\/\/\S+)\)/.exec(err);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`pki serve exited ${code}: ${err}`)));
  });
}

async function startOpensslOcsp(f) {
  const port = await freePort();
  const child = spawn('openssl', ['ocsp', '-index', join(WORK, 'index.txt'), '-port', String(port), '-rsigner', f.intermediate, '-rkey', f.key, '-CA', f.intermediate, '-ndays', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  for (let deadline = Date.now() + 10_000; !/waiting for OCSP client connections/.test(err); ) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`openssl ocsp did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.stderr.removeAllListeners('data');
  child.stderr.resume(); // it logs a line per request: drained, not kept
  return { child, url: `http://127.0.0.1:${port}/` };
}

/** Every leaf asked once through `openssl ocsp`: good, and revoked for the revoked ones. */
function check(f, url) {
  f.leaves.forEach((leaf, i) => {
    const r = spawnSync('openssl', ['ocsp', '-issuer', f.intermediate, '-cert', leaf, '-url', url, '-CAfile', f.root, '-no_nonce'], { encoding: 'utf8' });
    const want = i >= LEAVES - REVOKED ? 'revoked' : 'good';
    if (!`${r.stdout}${r.stderr}`.includes('Response verify OK') || !r.stdout.includes(`: ${want}`)) throw new Error(`${url}: ${leaf} is not ${want}:\n${r.stdout}${r.stderr}`);
  });
}

/**
 * One measurement: GENERATORS load processes (bench/ocsp-load.mjs) sharing CONNECTIONS clients, started
 * together; responses/s over the run, p50/p99 from the merged latency histograms.
 */
/** utime + stime of a process, seconds (Linux /proc; the clock tick is 100 Hz on Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function load(url, files, seconds, serverPid) {
  const cpuBefore = cpuSeconds(serverPid);
  const runs = Array.from({ length: GENERATORS }, () => {
    const child = spawn(process.execPath, [LOAD, url, String(CONNECTIONS / GENERATORS), String(seconds), ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`)))));
  });
  const started = Date.now();
  const results = await Promise.all(runs);
  const elapsed = (Date.now() - started) / 1000;
  const histogram = new Map();
  for (const r of results) for (const [b, n] of r.histogram) histogram.set(b, (histogram.get(b) ?? 0) + n);
  const total = results.reduce((a, r) => a + r.responses, 0);
  const percentile = (q) => {
    let seen = 0;
    for (const [b, n] of [...histogram].sort((x, y) => x[0] - y[0])) if ((seen += n) >= q * total) return b / 100;
    return NaN;
  };
  const cpuUs = ((cpuSeconds(serverPid) - cpuBefore) / total) * 1e6;
  return { rps: total / elapsed, cpuUs, reconnects: results.reduce((a, r) => a + r.reconnects, 0), p50: percentile(0.5), p99: percentile(0.99), non2xx: results.reduce((a, r) => a + r.non200, 0), errors: results.reduce((a, r) => a + r.errors, 0) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const f = await fixture();
  const serve = await startPkiServe(f.dir);
  const ossl = await startOpensslOcsp(f);
  const targets = { pki: serve.url, openssl: ossl.url };
  const pids = { pki: serve.child.pid, openssl: ossl.child.pid };
  try {
    for (const url of Object.values(targets)) check(f, url);
    const workloads = { same: [f.requests[0]], mix: f.requests };
    for (const t of Object.keys(targets)) await load(targets[t], workloads.mix, 2, pids[t]); // warm-up: fills pki's cache, JIT
    const samples = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [w, files] of Object.entries(workloads)) {
        const order = round % 2 ? ['openssl', 'pki'] : ['pki', 'openssl'];
        for (const t of order) (samples[`${w}/${t}`] ??= []).push(await load(targets[t], files, DURATION, pids[t]));
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');
    report(samples, Object.keys(workloads));
  } finally {
    serve.child.kill('SIGTERM');
    ossl.child.kill('SIGTERM');
  }
}

function report(samples, workloads) {
  const ver = openssl('version').trim();
  console.log(
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}, ${ver}; ${CONNECTIONS} keep-alive clients in ${GENERATORS} load processes, ${DURATION} s per run, ${ROUNDS} rounds; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end.\n`,
  );
  console.log('| workload | server | responses/s (median, min–max) | p50 ms | p99 ms | server CPU µs/response | non-200 / errors / reconnects | pki/openssl responses/s | pki/openssl responses per CPU-second | target |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const json = {};
  for (const w of workloads) {
    const pkiS = samples[`${w}/pki`];
    const osS = samples[`${w}/openssl`];
    const ratios = pkiS.map((s, i) => s.rps / osS[i].rps);
    const ratio = median(ratios);
    const cpuRatios = pkiS.map((s, i) => osS[i].cpuUs / s.cpuUs);
    const cpuRatio = median(cpuRatios);
    const span = (xs, digits) => `${median(xs).toFixed(digits)}× (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
    for (const [name, s] of [['pki serve', pkiS], ['openssl ocsp', osS]]) {
      const rps = s.map((x) => x.rps);
      const p99 = median(s.map((x) => x.p99));
      const isPki = name === 'pki serve';
      const met = isPki ? `${ratio >= 20 ? 'met' : 'missed'} ≥ 20×; ${p99 < 5 ? 'met' : 'missed'} p99 < 5 ms` : '';
      const sum = (k) => s.reduce((a, x) => a + x[k], 0);
      console.log(
        `| ${w} | ${name} | ${Math.round(median(rps))} (${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))}) | ${median(s.map((x) => x.p50)).toFixed(2)} | ${p99.toFixed(2)} | ${Math.round(median(s.map((x) => x.cpuUs)))} | ${sum('non2xx')} / ${sum('errors')} / ${sum('reconnects')} | ${isPki ? span(ratios, 1) : ''} | ${isPki ? span(cpuRatios, 1) : ''} | ${met} |`,
      );
    }
    json[w] = { pki: pkiS, openssl: osS, ratio, cpuRatio };
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(json, null, 2));
}

if (!existsSync(PKI)) {
  console.error('bench/ocsp.mjs: build first (npm run build)');
  process.exit(1);
}
await main();
