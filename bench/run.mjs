#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --only W1,W4] [-- --runs N] [-- --json FILE]`: pki side by side with
 * its openssl counterpart (issue 5). Each workload's commands run interleaved in the same loop (the
 * order rotates every round), each run is a whole process timed with Node's hrtime and, through
 * `/usr/bin/time -f %M`, its peak RSS. Reported: medians with min–max, and the median of the round-by-round
 * ratios pki/reference, so a ratio holds even when the machine's speed drifts during the run.
 *
 * --quick: fewer rounds and smaller inputs (200 CSRs, 10,000 entries) — a smoke test under a minute.
 * PKI_BENCH_BEFORE=/path/to/other/bin/pki.js: a second pki build (e.g. the code before a refactor) runs
 * beside this one in the same interleaved loop — each pki command gets a "[before]" twin, and each workload a
 * row "after/before" — so before and after figures come from the same run on the same machine state.
 *
 * Fixtures (CA, requests, seeded inventories) are made once in $PKI_BENCH_DIR (default
 * $TMPDIR/pki-bench) and reused; delete that folder after changing the inventory schema.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureCa, ensureCsrs, ensureInventory, PKI, ROOT, writeOpensslCaConfig } from './fixtures.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = flag('--quick');
const ONLY = value('--only')?.split(',');
const RUNS = value('--runs') ? Number(value('--runs')) : undefined;
const WORK = process.env.PKI_BENCH_DIR ?? join(tmpdir(), 'pki-bench');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const NODE = process.execPath;
const BEFORE = process.env.PKI_BENCH_BEFORE ? resolve(process.env.PKI_BENCH_BEFORE) : null;
if (BEFORE && !existsSync(BEFORE)) {
  console.error(`bench: PKI_BENCH_BEFORE=${BEFORE} does not exist`);
  process.exit(1);
}
const env = { ...process.env, NO_COLOR: '1' };
delete env.PKI_PASSWORD;
delete env.PKI_DIR;

mkdirSync(WORK, { recursive: true });
const scratch = join(WORK, 'scratch');

/** Runs argv lists one after the other; returns total wall ms and the largest peak RSS (MB). */
function measure(cmds) {
  let ms = 0;
  let rssMb = null;
  for (const argv of cmds) {
    const memFile = join(WORK, 'rss.txt');
    const [file, ...rest] = TIME ? [TIME, '-f', '%M', '-o', memFile, ...argv] : argv;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, rest, { stdio: ['ignore', 'ignore', 'pipe'], env, maxBuffer: 64 << 20 });
    ms += Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ').slice(0, 200)} exited ${r.status ?? r.signal}: ${r.stderr.toString().slice(0, 2000)}`);
    if (TIME) {
      const kb = Number(readFileSync(memFile, 'utf8').trim().split('\n').at(-1));
      if (Number.isFinite(kb)) rssMb = Math.max(rssMb ?? 0, kb / 1024);
    }
  }
  return { ms, rssMb };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const span = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/**
 * Runs a group's commands interleaved: `warmup` uncounted rounds, then `runs` counted ones, rotating the
 * order each round. `prep(round)` runs untimed before each command (fresh output folders, reset databases).
 */
function runGroup(group) {
  const keys = Object.keys(group.commands);
  const samples = Object.fromEntries(keys.map((k) => [k, []]));
  const warmup = group.warmup ?? 1;
  const runs = RUNS ?? group.runs;
  for (let round = 0; round < warmup + runs; round++) {
    const order = keys.map((_, i) => keys[(i + round) % keys.length]);
    for (const k of order) {
      const c = group.commands[k];
      c.prep?.(round);
      const m = measure(c.cmds(round, c.bin ?? PKI));
      if (round >= warmup) samples[k].push(m);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return samples;
}

const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const fmtSpan = (s) => `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)})`;
const fmtRatio = (s) => `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

const rows = [];
/** Runs a group (with its before twins when PKI_BENCH_BEFORE is set) and adds its rows to the table. */
function bench(group) {
  const expanded = withBefore(group);
  report(expanded, runGroup(expanded));
}

function report(group, samples) {
  for (const row of group.rows) {
    const skipped = [row.a, row.b].filter((k) => k && !samples[k]).map((k) => group.skipped?.[k] ?? `${k} did not run`);
    if (skipped.length) {
      rows.push({ id: group.id, workload: row.label, pki: group.labels[row.a], pkiTime: '—', reference: row.b ? group.labels[row.b] : '—', referenceTime: '—', ratio: '—', peakMb: '—', target: row.target?.text ?? '', met: `skipped: ${skipped.join('; ')}`, raw: null });
      continue;
    }
    const a = samples[row.a];
    const b = row.b ? samples[row.b] : null;
    const ta = span(a.map((s) => s.ms));
    const tb = b ? span(b.map((s) => s.ms)) : null;
    const ratio = b ? span(a.map((s, i) => s.ms / b[i].ms)) : null;
    const rssA = a[0].rssMb === null ? null : Math.max(...a.map((s) => s.rssMb));
    const rssB = b && b[0].rssMb !== null ? Math.max(...b.map((s) => s.rssMb)) : null;
    let met = null;
    if (row.target?.ratioMax !== undefined && ratio) met = ratio.median <= row.target.ratioMax;
    if (row.target?.msMax !== undefined) met = ta.median < row.target.msMax;
    if (met !== null && row.target?.rssMaxMb !== undefined && rssA !== null) met = met && rssA < row.target.rssMaxMb;
    const extra = row.perSecond ? ` — ${Math.round(row.perSecond / (ta.median / 1000))}/s vs ${Math.round(row.perSecond / (tb.median / 1000))}/s` : '';
    rows.push({
      id: group.id,
      workload: row.label,
      pki: group.labels[row.a],
      pkiTime: fmtSpan(ta),
      reference: row.b ? group.labels[row.b] : '—',
      referenceTime: tb ? fmtSpan(tb) : '—',
      ratio: ratio ? fmtRatio(ratio) + extra : '—',
      peakMb: `${rssA === null ? '?' : rssA.toFixed(0)} / ${rssB === null ? '—' : rssB.toFixed(0)}`,
      target: row.target?.text ?? '',
      met: met === null ? '' : met ? 'met' : 'NOT met',
      raw: { pkiMs: ta, referenceMs: tb, ratio, rssA, rssB },
    });
  }
}

// ---------------------------------------------------------------------------------------------------

const fresh = (dir) => () => rmSync(dir, { recursive: true, force: true });
/** A pki command line; commands marked `pki: true` get `bin` (this build, or PKI_BENCH_BEFORE's) from runGroup. */
const pkiCmd = (bin, ...a) => [NODE, bin, ...a];

const helpCache = new Map();
/** Whether a build's `pki <command> --help` lists `flag` (a row needing a newer flag is skipped, not failed). */
function knows(bin, command, flag) {
  const key = `${bin} ${command}`;
  if (!helpCache.has(key)) helpCache.set(key, spawnSync(NODE, [bin, ...command.split(' '), '--help'], { encoding: 'utf8', env }).stdout ?? '');
  return new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm').test(helpCache.get(key));
}

/**
 * With PKI_BENCH_BEFORE: every pki command gets a twin `<key>Before` running the other build in the same
 * loop, every row on a pki command a twin row for the before build, and each pki command a row after/before.
 * A command whose `needs: [command, flag]` its build does not list is left out; rows on it say why.
 */
function withBefore(group) {
  const commands = {};
  const labels = {};
  const skipped = {};
  const add = (key, c, bin, suffix) => {
    labels[key] = `${c.label}${suffix}`;
    if (c.needs && !knows(bin, ...c.needs)) skipped[key] = `${suffix ? 'the before build' : 'this build'} does not know \`pki ${c.needs.join(' ')}\``;
    else commands[key] = { ...c, bin };
  };
  for (const [k, c] of Object.entries(group.commands)) {
    add(k, c, PKI, '');
    if (BEFORE && c.pki) add(`${k}Before`, c, BEFORE, ' [before]');
  }
  const rows = [];
  for (const row of group.rows) {
    rows.push(row);
    const twin = (k) => (k && group.commands[k].pki ? `${k}Before` : k);
    if (BEFORE && group.commands[row.a].pki) rows.push({ ...row, label: `${row.label} — before build`, a: twin(row.a), b: twin(row.b), target: undefined });
  }
  if (BEFORE) {
    for (const [k, c] of Object.entries(group.commands)) {
      const row = group.rows.find((r) => r.a === k);
      if (c.pki && row) rows.push({ label: `${row.label}: after/before`, a: k, b: `${k}Before` });
    }
  }
  return { ...group, commands, labels, skipped, rows };
}

async function w1() {
  const specs = [
    { label: 'EC P-256', pki: ['--kty', 'EC', '--crv', 'P-256'], openssl: 'ec', runs: QUICK ? 3 : 9, target: { ratioMax: 1.0, text: '≤ 1.0×' } },
    { label: 'RSA-2048', pki: ['--kty', 'RSA', '--size', '2048'], openssl: 'rsa2048', runs: QUICK ? 2 : 7 },
    { label: 'RSA-4096', pki: ['--kty', 'RSA', '--size', '4096'], openssl: 'rsa4096', runs: QUICK ? 1 : 9, warmup: 0, target: { ratioMax: 0.6, text: '≤ 0.6×' } },
  ];
  for (const s of specs) {
    const pkiDir = join(scratch, 'w1-pki');
    const initDir = join(scratch, 'w1-pki-init');
    const sslDir = join(scratch, 'w1-openssl');
    const group = {
      id: 'W1',
      runs: s.runs,
      warmup: s.warmup ?? 1,
      commands: {
        pki: {
          label: 'pki init + pki generate redis main',
          prep: fresh(pkiDir),
          pki: true,
          cmds: (_, bin) => [pkiCmd(bin, 'init', '--no-password', '--insecure', '--dir', pkiDir, ...s.pki), pkiCmd(bin, 'generate', 'redis', 'main', '--dir', pkiDir)],
        },
        // One process from nothing (issue 10, point 7); skipped, with a note, on a build without --init.
        oneProcess: {
          label: 'pki generate redis main --init',
          prep: fresh(initDir),
          pki: true,
          needs: ['generate', '--init'],
          cmds: (_, bin) => [pkiCmd(bin, 'generate', 'redis', 'main', '--init', '--no-password', '--insecure', '--dir', initDir, ...s.pki)],
        },
        openssl: { label: 'bench/openssl-redis-bundle.sh (8 openssl commands)', prep: fresh(sslDir), cmds: () => [['/bin/sh', join(ROOT, 'bench/openssl-redis-bundle.sh'), sslDir, s.openssl]] },
      },
      rows: [
        { label: `redis bundle, ${s.label}`, a: 'pki', b: 'openssl', target: s.target },
        { label: `redis bundle, ${s.label}, one process`, a: 'oneProcess', b: 'openssl', target: { ratioMax: 1.0, text: '≤ 1.0×' } },
        { label: `redis bundle, ${s.label}: one process vs two`, a: 'oneProcess', b: 'pki' },
      ],
    };
    bench(group);
  }
}

async function w2(ca) {
  const count = QUICK ? 200 : 1000;
  const csrs = await ensureCsrs(WORK, count);
  const pkiHome = join(scratch, 'w2-pki');
  const sslDir = join(scratch, 'w2-openssl');
  const group = {
    id: 'W2',
    runs: QUICK ? 2 : 5,
    commands: {
      pki: {
        label: `pki sign <${count} CSRs> --out-dir DIR`,
        prep: () => {
          rmSync(pkiHome, { recursive: true, force: true });
          cpSync(ca.dir, pkiHome, { recursive: true });
          copyFileSync(ca.pristineDb, join(pkiHome, 'db/pki.sqlite'));
          for (const suffix of ['-wal', '-shm']) rmSync(join(pkiHome, `db/pki.sqlite${suffix}`), { force: true });
        },
        pki: true,
        cmds: (_, bin) => [pkiCmd(bin, 'sign', ...csrs, '--out-dir', join(pkiHome, 'out'), '--profile', 'server', '--dir', pkiHome)],
      },
      openssl: {
        label: `openssl ca -batch -infiles <${count} CSRs>`,
        prep: () => {
          rmSync(sslDir, { recursive: true, force: true });
          writeOpensslCaConfig(sslDir, ca.dir);
          writeFileSync(join(sslDir, 'index.txt'), '');
          writeFileSync(join(sslDir, 'index.txt.attr'), 'unique_subject = no\n');
        },
        cmds: () => [['openssl', 'ca', '-batch', '-notext', '-config', join(sslDir, 'openssl-ca.cnf'), '-out', join(sslDir, 'all.pem'), '-infiles', ...csrs]],
      },
    },
    rows: [{ label: `sign ${count} P-256 CSRs in one process`, a: 'pki', b: 'openssl', perSecond: count, target: { ratioMax: 1.0, text: '≤ 1.0× time (≥ 1.0× throughput)' } }],
  };
  bench(group);
}

async function w3(ca) {
  for (const count of QUICK ? [10_000] : [10_000, 100_000]) {
    const inv = await ensureInventory(WORK, ca, count, 'revoked');
    const cnf = join(inv.home, 'openssl/openssl-ca.cnf');
    const group = {
      id: 'W3',
      runs: QUICK ? 2 : 5,
      commands: {
        pki: { label: 'pki crl', pki: true, cmds: (_, bin) => [pkiCmd(bin, 'crl', '--dir', inv.home)] },
        openssl: { label: 'openssl ca -gencrl (index.txt)', cmds: () => [['openssl', 'ca', '-gencrl', '-config', cnf, '-out', join(inv.home, 'openssl/crl.pem')]] },
      },
      rows: [
        {
          label: `CRL of ${count.toLocaleString('en')} revoked`,
          a: 'pki',
          b: 'openssl',
          target: count === 100_000 ? { ratioMax: 1.0, rssMaxMb: 300, text: '≤ 1.0×, < 300 MB' } : undefined,
        },
      ],
    };
    bench(group);
  }
}

async function w4(ca) {
  const group = {
    id: 'W4',
    runs: QUICK ? 5 : 21,
    warmup: 2,
    commands: {
      node: { label: 'node -e ""', cmds: () => [[NODE, '-e', '']] },
      version: { label: 'pki --version', pki: true, cmds: (_, bin) => [pkiCmd(bin, '--version')] },
      inspect: { label: 'pki inspect leaf.crt', pki: true, cmds: (_, bin) => [pkiCmd(bin, 'inspect', ca.leaf)] },
      openssl: { label: 'openssl x509 -text -noout', cmds: () => [['openssl', 'x509', '-text', '-noout', '-in', ca.leaf]] },
    },
    rows: [
      { label: 'start-up', a: 'version', b: 'node', target: { ratioMax: 1.2, text: '≤ 1.2× node' } },
      { label: 'inspect a certificate', a: 'inspect', b: 'node', target: { ratioMax: 1.5, text: '≤ 1.5× node' } },
      { label: 'inspect a certificate', a: 'inspect', b: 'openssl' },
    ],
  };
  bench(group);
}

async function w5(ca) {
  const count = QUICK ? 10_000 : 100_000;
  const inv = await ensureInventory(WORK, ca, count, 'valid');
  const cnf = join(inv.home, 'openssl/openssl-ca.cnf');
  const index = join(inv.home, 'openssl/index.txt');
  const pristineIndex = `${index}.pristine`;
  if (!existsSync(pristineIndex)) copyFileSync(index, pristineIndex);
  const group = {
    id: 'W5',
    runs: QUICK ? 2 : 5,
    commands: {
      renew: { label: 'pki renew --all (none due)', pki: true, cmds: (_, bin) => [pkiCmd(bin, 'renew', '--all', '--dir', inv.home)] },
      list: { label: 'pki list --expiring 30d', pki: true, cmds: (_, bin) => [pkiCmd(bin, 'list', '--expiring', '30d', '--dir', inv.home)] },
      openssl: { label: 'openssl ca -updatedb (index.txt)', prep: () => copyFileSync(pristineIndex, index), cmds: () => [['openssl', 'ca', '-updatedb', '-config', cnf]] },
    },
    rows: [
      { label: `renew --all over ${count.toLocaleString('en')}`, a: 'renew', b: 'openssl', target: { msMax: 1000, text: '< 1 s' } },
      { label: `list --expiring over ${count.toLocaleString('en')}`, a: 'list', b: 'openssl', target: { msMax: 1000, text: '< 1 s' } },
    ],
  };
  bench(group);
}

/**
 * Issue 11: `pki verify` of a 3-tier chain (the leaf alone, --untrusted intermediate, --roots root) against
 * `openssl verify` of the same files, whole processes. `node -e ""` runs in the same loop: what pki costs
 * above Node's own start-up.
 */
async function w6(ca) {
  const leaf = join(WORK, 'verify-leaf.crt');
  const pem = readFileSync(ca.leaf, 'utf8');
  writeFileSync(leaf, pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26));
  const intermediate = join(ca.dir, 'ca/intermediate_ca.crt');
  const root = join(ca.dir, 'ca/root_ca.crt');
  const group = {
    id: 'W6',
    runs: QUICK ? 5 : 21,
    warmup: 2,
    commands: {
      verify: {
        label: 'pki verify leaf --untrusted inter --roots root',
        pki: true,
        needs: ['verify', '--untrusted'],
        cmds: (_, bin) => [pkiCmd(bin, 'verify', leaf, '--untrusted', intermediate, '--roots', root)],
      },
      openssl: { label: 'openssl verify -CAfile root -untrusted inter leaf', cmds: () => [['openssl', 'verify', '-CAfile', root, '-untrusted', intermediate, leaf]] },
      node: { label: 'node -e ""', cmds: () => [[NODE, '-e', '']] },
    },
    rows: [
      { label: 'verify a 3-tier chain', a: 'verify', b: 'openssl', target: { ratioMax: 1.5, text: '≤ 1.5× openssl' } },
      { label: 'verify a 3-tier chain', a: 'verify', b: 'node' },
      { label: 'Node start-up alone', a: 'node', b: 'openssl' },
    ],
  };
  bench(group);
}

/**
 * W7 (issue 11): `pki check --prometheus` over W5's inventory of valid records, with every recorded file on
 * disk (matching its record), so the run compares 100,000 files with the inventory and writes the textfile.
 * The target is absolute (< 2 s); `openssl ca -updatedb` over the same index.txt is context only, as in W5.
 */
async function w7(ca) {
  const count = QUICK ? 10_000 : 100_000;
  const inv = await ensureInventory(WORK, ca, count, 'valid', { files: true });
  const cnf = join(inv.home, 'openssl/openssl-ca.cnf');
  const index = join(inv.home, 'openssl/index.txt');
  const pristineIndex = `${index}.pristine`;
  if (!existsSync(pristineIndex)) copyFileSync(index, pristineIndex);
  const prom = join(scratch, 'w7-textfile', 'pki.prom');
  mkdirSync(join(scratch, 'w7-textfile'), { recursive: true });
  const group = {
    id: 'W7',
    runs: QUICK ? 2 : 5,
    commands: {
      prometheus: { label: 'pki check --prometheus FILE --quiet', pki: true, needs: ['check', '--prometheus'], cmds: (_, bin) => [pkiCmd(bin, 'check', '--dir', inv.home, '--quiet', '--prometheus', prom)] },
      table: { label: 'pki check --prometheus FILE (table to /dev/null)', pki: true, needs: ['check', '--prometheus'], cmds: (_, bin) => [pkiCmd(bin, 'check', '--dir', inv.home, '--prometheus', prom)] },
      openssl: { label: 'openssl ca -updatedb (index.txt)', prep: () => copyFileSync(pristineIndex, index), cmds: () => [['openssl', 'ca', '-updatedb', '-config', cnf]] },
    },
    rows: [
      { label: `check --prometheus over ${count.toLocaleString('en')}`, a: 'prometheus', b: 'openssl', target: { msMax: 2000, text: '< 2 s' } },
      { label: `check --prometheus + table over ${count.toLocaleString('en')}`, a: 'table', b: 'openssl', target: { msMax: 2000, text: '< 2 s' } },
    ],
  };
  bench(group);
}

/**
 * W8 (issue 12): `pki export <bundle> --p12` against `openssl pkcs12 -export` with the same algorithms and the
 * same 600,000 iterations (OpenSSL 3.0's `-iter` sets the PBKDF2 and the MAC count alike; its `-maciter` is a
 * no-op kept for old scripts), and `pki export --fullchain` against what nginx guides do by hand (`cat leaf
 * intermediate > F`) and its openssl spelling (`openssl x509` twice). The iteration counts each side really
 * wrote are read back once from its file (`openssl pkcs12 -info`) and shown in the row's label.
 */
async function w8(ca) {
  const pem = readFileSync(ca.leaf, 'utf8');
  const leaf = join(WORK, 'export-leaf.crt');
  writeFileSync(leaf, pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26));
  const intermediate = join(ca.dir, 'ca/intermediate_ca.crt');
  const key = join(ca.dir, 'services/redis/main/certs/redis.key');
  const cn = new X509Certificate(pem).subject.match(/^CN=(.*)$/m)?.[1] ?? 'redis';
  const password = join(WORK, 'export-p12.pass');
  writeFileSync(password, 'bench-password\n', { mode: 0o600 });
  chmodSync(password, 0o600);
  const out = join(scratch, 'w8');
  mkdirSync(out, { recursive: true });
  const iterations = 600_000;
  const p12 = {
    pki: { label: 'pki export redis main --p12 F --password-file P --force', pki: true, needs: ['export', '--p12'], cmds: (_, bin) => [pkiCmd(bin, 'export', 'redis', 'main', '--dir', ca.dir, '--p12', join(out, 'pki.p12'), '--password-file', password, '--force')] },
    openssl: {
      label: `openssl pkcs12 -export -iter ${iterations.toLocaleString('en')} -macalg sha256 -keypbe/-certpbe AES-256-CBC`,
      cmds: () => [['openssl', 'pkcs12', '-export', '-inkey', key, '-in', leaf, '-certfile', intermediate, '-name', cn, '-passout', `file:${password}`, '-iter', String(iterations), '-macalg', 'sha256', '-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-out', join(out, 'openssl.p12')]],
    },
  };
  // One untimed run of each, to read back the counts they wrote (a build without export: no label).
  const counts = (file) => {
    const info = spawnSync('openssl', ['pkcs12', '-info', '-noout', '-in', file, '-passin', `file:${password}`], { encoding: 'utf8' }).stderr ?? '';
    const mac = info.match(/^MAC: (\S+), Iteration (\d+)/m);
    const bags = [...info.matchAll(/PBKDF2, ([^,]+), Iteration (\d+), PRF (\S+)/g)].map((m) => `${m[1]} ×${Number(m[2]).toLocaleString('en')} ${m[3]}`);
    return mac ? `MAC ${mac[1]} ×${Number(mac[2]).toLocaleString('en')}; bags ${[...new Set(bags)].join(', ')}` : 'not read';
  };
  let label = `PKCS#12 of key + leaf + intermediate`;
  if (knows(PKI, 'export', '--p12')) {
    measure(p12.pki.cmds(0, PKI));
    measure(p12.openssl.cmds(0));
    label += ` (pki: ${counts(join(out, 'pki.p12'))} — openssl: ${counts(join(out, 'openssl.p12'))})`;
  }
  bench({ id: 'W8', runs: QUICK ? 3 : 9, commands: p12, rows: [{ label, a: 'pki', b: 'openssl' }] });

  const full = join(out, 'fullchain.pem');
  const q = (f) => `'${f.replaceAll("'", "'\\''")}'`;
  bench({
    id: 'W8',
    runs: QUICK ? 5 : 21,
    warmup: 2,
    commands: {
      pki: { label: 'pki export redis main --fullchain F --force', pki: true, needs: ['export', '--fullchain'], cmds: (_, bin) => [pkiCmd(bin, 'export', 'redis', 'main', '--dir', ca.dir, '--fullchain', full, '--force')] },
      cat: { label: 'sh -c "cat leaf inter > F"', cmds: () => [['/bin/sh', '-c', `cat ${q(leaf)} ${q(intermediate)} > ${q(full)}`]] },
      x509: { label: 'sh -c "openssl x509 -in leaf > F; openssl x509 -in inter >> F"', cmds: () => [['/bin/sh', '-c', `openssl x509 -in ${q(leaf)} > ${q(full)} && openssl x509 -in ${q(intermediate)} >> ${q(full)}`]] },
      node: { label: 'node -e ""', cmds: () => [[NODE, '-e', '']] },
    },
    rows: [
      { label: 'full chain PEM', a: 'pki', b: 'cat' },
      { label: 'full chain PEM', a: 'pki', b: 'x509' },
      { label: 'full chain PEM', a: 'pki', b: 'node' },
    ],
  });
}

// ---------------------------------------------------------------------------------------------------

if (!existsSync(join(ROOT, 'dist/core/index.js'))) {
  console.error('bench: build first (npm run build)');
  process.exit(1);
}
const opensslVersion = spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim();
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), node ${process.version}, ${opensslVersion}`;
console.error(`bench: ${machine}${QUICK ? ', --quick' : ''}; fixtures in ${WORK}`);
const ca = ensureCa(WORK);
const workloads = { W1: w1, W2: w2, W3: w3, W4: w4, W5: w5, W6: w6, W7: w7, W8: w8 };
for (const [id, fn] of Object.entries(workloads)) {
  if (ONLY && !ONLY.includes(id)) continue;
  console.error(`bench: ${id}`);
  await fn(ca);
}
rmSync(scratch, { recursive: true, force: true });

const header = ['', 'workload', 'pki', 'median (min–max)', 'reference', 'median (min–max)', 'ratio pki/ref', 'peak MB pki/ref', 'target', ''];
const table = [
  `Machine: ${machine}. ${QUICK ? 'Quick mode (smaller inputs, fewer rounds). ' : ''}Medians of interleaved whole-process runs; ratio = median of round-by-round pki/reference.`,
  '',
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${[r.id, r.workload, r.pki, r.pkiTime, r.reference, r.referenceTime, r.ratio, r.peakMb, r.target, r.met].join(' | ')} |`),
];
console.log(table.join('\n'));
const jsonOut = value('--json');
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ machine, quick: QUICK, date: new Date().toISOString(), rows }, null, 2)}\n`);
