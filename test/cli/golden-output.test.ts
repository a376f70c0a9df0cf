/**
 * Golden output (issue 10, done-means 1): a recorded sequence of commands on a fixed clock, with stdout,
 * stderr and exit code of each compared byte for byte with test/fixtures/golden/, after masking only what
 * is random (serials, key material, signatures, fingerprints, key ids, the temp folder). The fixtures were
 * recorded with the code before the refactor (commit 8f355fe); a refactor must not change one byte.
 *
 * Re-record only when a change of output is the point of a commit, and say why in that commit:
 *   PKI_GOLDEN_RECORD=1 npx vitest run test/cli/golden-output.test.ts
 * PKI_GOLDEN_BIN=/path/to/bin/pki.js runs (or records) another build instead of this checkout's bin/pki.js.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PKI_BIN, PKI_RUN_MS, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

const BIN = process.env.PKI_GOLDEN_BIN ? resolve(process.env.PKI_GOLDEN_BIN) : PKI_BIN;
const RECORD = process.env.PKI_GOLDEN_RECORD === '1';
const FIXTURES = resolve(import.meta.dirname, '../fixtures/golden');

/** The clock of the recording; `LATER` is past two thirds of a 90-day leaf's life, so leaves are due. */
const NOW = '2026-01-15T10:00:00Z';
const LATER = '2026-03-20T10:00:00Z';
const NEXT_DAY = '2026-03-21T10:00:00Z';

const work = tempDir('pki-golden-');
const home = join(work, 'ca');
const bundle = join(home, 'services/redis/main/certs');

// ---------------------------------------------------------------------------------------------------
// Masks: one regex per kind of random value, applied identically to the recording and to this run.

const MASKS: ReadonlyArray<readonly [kind: string, pattern: RegExp, replacement: string]> = [
  ['PEM body (keys, certificates, signatures)', /(-----BEGIN ([A-Z0-9 ]+)-----\n)[A-Za-z0-9+/=\n]+?(\n?-----END \2-----)/g, '$1<base64>$3'],
  ['OpenSSH public key blob', /\b((?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) )AAAA[A-Za-z0-9+/]+=*/g, '$1<ssh key>'],
  ['OpenSSH SHA-256 fingerprint', /\bSHA256:[A-Za-z0-9+/]{43}\b/g, 'SHA256:<fingerprint>'],
  ['SHA-256 fingerprint (64 hex)', /\b[0-9A-F]{64}\b/g, '<fingerprint>'],
  ['key identifier (40 hex)', /\b[0-9A-F]{40}\b/g, '<key id>'],
  ['X.509 serial (32 hex)', /\b[0-9A-F]{32}\b/g, '<serial>'],
  ['OpenSSH serial (6–20 decimal digits after "serial"; 64 random bits)', /(\b[Ss]erials? +)\d{6,20}\b/g, '$1<ssh serial>'],
];

function mask(text: string): string {
  let out = text.split(work).join('<TMP>');
  for (const [, pattern, replacement] of MASKS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Orders that follow from random serials, made canonical after masking: `list` sorts rows by expiry and
 * then serial, so rows with the same expiry come in random order; `db export-index` likewise. Each run of
 * rows with the same expiry is sorted by its masked text; the runs themselves keep pki's order.
 */
type Canonical = 'list-rows' | 'list-json' | 'index-rows';

function canonical(text: string, how: Canonical | undefined): string {
  if (!how || text === '') return text;
  if (how === 'index-rows') return `${sortRuns(text.trimEnd().split('\n'), (row) => row.split('\t')[1] ?? row, (row) => row).join('\n')}\n`;
  if (how === 'list-json') {
    // Only when pki's text is exactly JSON.stringify(…, null, 2): any change of formatting stays visible.
    const rows = JSON.parse(text) as Array<{ notAfter: string }>;
    if (`${JSON.stringify(rows, null, 2)}\n` !== text) return text;
    return `${JSON.stringify(sortRuns(rows, (r) => r.notAfter, (r) => JSON.stringify(r)), null, 2)}\n`;
  }
  const [header, ...rows] = text.trimEnd().split('\n');
  const expiry = (row: string) => row.match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/)?.[0] ?? row;
  return `${[header, ...sortRuns(rows, expiry, (row) => row)].join('\n')}\n`;
}

/** Sorts each run of consecutive items with the same `tie` key by `text`; the runs keep pki's order. */
function sortRuns<T>(items: readonly T[], tie: (item: T) => string, text: (item: T) => string): T[] {
  const runs: T[][] = [];
  for (const item of items) {
    const last = runs.at(-1);
    if (last && tie(last[0]!) === tie(item)) last.push(item);
    else runs.push([item]);
  }
  return runs.flatMap((run) => run.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------------
// The recorded sequence. Steps run in order and share the CA home; `before` prepares peer-made inputs.

interface Step {
  readonly name: string;
  readonly args: readonly string[];
  readonly now?: string;
  readonly before?: () => void;
  readonly order?: Canonical;
}

const dir = ['--dir', home];
const STEPS: readonly Step[] = [
  { name: 'init', args: ['init', '--no-password', '--insecure', ...dir] },
  { name: 'refuse-init-again', args: ['init', '--no-password', '--insecure', ...dir] },
  { name: 'generate-redis', args: ['generate', 'redis', 'main', '--client', 'app', ...dir] },
  { name: 'generate-again-converges', args: ['generate', 'redis', 'main', '--client', 'app', ...dir] },
  {
    name: 'sign-openssl-csr',
    before: () =>
      peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'web.key'), '-out', join(work, 'web.csr'), '-subj', '/CN=web.example.com', '-addext', 'subjectAltName=DNS:web.example.com']),
    args: ['sign', join(work, 'web.csr'), '--out', join(work, 'web.crt'), ...dir],
  },
  { name: 'sign-to-stdout', args: ['sign', join(work, 'web.csr'), '--profile', 'client', '--not-after', '30d', ...dir] },
  { name: 'refuse-sign-existing-out', args: ['sign', join(work, 'web.csr'), '--out', join(work, 'web.crt'), ...dir] },
  { name: 'refuse-sign-missing-csr', args: ['sign', join(work, 'missing.csr'), ...dir] },
  { name: 'revoke', args: ['revoke', join(work, 'web.crt'), '--reason', 'keyCompromise', ...dir] },
  { name: 'refuse-revoke-again', args: ['revoke', join(work, 'web.crt'), ...dir] },
  { name: 'refuse-revoke-unknown-json', args: ['revoke', '0x1234', '--json', ...dir] },
  { name: 'crl', args: ['crl', ...dir] },
  { name: 'crl-if-due', args: ['crl', '--if-due', ...dir] },
  { name: 'renew-not-due', args: ['renew', join(bundle, 'redis.crt'), ...dir] },
  { name: 'renew-one-due', now: LATER, args: ['renew', join(bundle, 'redis.crt'), ...dir] },
  { name: 'renew-all', now: NEXT_DAY, args: ['renew', '--all', ...dir] },
  { name: 'renew-all-none-due', now: NEXT_DAY, args: ['renew', '--all', ...dir] },
  { name: 'list', now: NEXT_DAY, args: ['list', ...dir], order: 'list-rows' },
  { name: 'list-all', now: NEXT_DAY, args: ['list', '--all', ...dir], order: 'list-rows' },
  { name: 'list-json', now: NEXT_DAY, args: ['list', '--json', ...dir], order: 'list-json' },
  { name: 'inspect-certificate', args: ['inspect', join(work, 'web.crt')] },
  { name: 'inspect-csr', args: ['inspect', join(work, 'web.csr')] },
  { name: 'inspect-crl', args: ['inspect', join(home, 'crl/intermediate_ca.crl')] },
  { name: 'inspect-key', args: ['inspect', join(bundle, 'app.key')] },
  { name: 'refuse-inspect-not-a-file', args: ['inspect', join(work, 'missing.pem')] },
  { name: 'ssh-init', args: ['ssh', 'init', '--no-password', '--insecure', ...dir] },
  {
    name: 'ssh-sign-user',
    before: () => peer('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@example', '-f', join(work, 'alice')]),
    args: ['ssh', 'sign', join(work, 'alice.pub'), '--user', '--principal', 'alice', ...dir],
  },
  { name: 'refuse-ssh-sign-no-kind', args: ['ssh', 'sign', join(work, 'alice.pub'), '--principal', 'alice', '--force', ...dir] },
  { name: 'inspect-ssh-certificate', args: ['inspect', join(work, 'alice-cert.pub')] },
  { name: 'ssh-revoke', args: ['ssh', 'revoke', join(work, 'alice-cert.pub'), ...dir] },
  { name: 'ssh-krl', args: ['ssh', 'krl', ...dir] },
  { name: 'inspect-krl', args: ['inspect', join(home, 'ssh/revoked_keys')] },
  { name: 'db-export-index', now: NEXT_DAY, args: ['db', 'export-index', ...dir], order: 'index-rows' },
  { name: 'refuse-generate-without-ca', args: ['generate', 'redis', 'main', '--dir', join(work, 'no-ca')] },
  { name: 'refuse-unknown-option', args: ['list', '--colour', ...dir] },
  { name: 'refuse-bad-test-clock', now: 'tomorrow', args: ['list', ...dir] },
];

/** One step's transcript: the command line, exit code, stdout and stderr, masked. */
function run(step: Step): string {
  step.before?.();
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PKI_TEST_NOW: step.now ?? NOW, TZ: 'UTC', LC_ALL: 'C' };
  delete env.PKI_DIR;
  delete env.PKI_PASSWORD;
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...step.args], { encoding: 'utf8', env, input: '', cwd: work, timeout: PKI_RUN_MS });
  if (r.error) throw r.error;
  const stdout = canonical(mask(r.stdout), step.order);
  return [`$ pki ${mask(step.args.join(' '))}`, `clock ${step.now ?? NOW}`, `exit ${r.status ?? r.signal}`, '--- stdout', stdout, '--- stderr', mask(r.stderr)].join('\n');
}

const fixture = (i: number, step: Step) => join(FIXTURES, `${String(i + 1).padStart(2, '0')}-${step.name}.txt`);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe(`golden output of ${BIN === PKI_BIN ? 'this build' : BIN}${RECORD ? ' (recording)' : ''}`, () => {
  if (RECORD) {
    mkdirSync(FIXTURES, { recursive: true });
    for (const name of readdirSync(FIXTURES)) if (/^\d\d-.*\.txt$/.test(name)) rmSync(join(FIXTURES, name));
  }
  STEPS.forEach((step, i) => {
    it(`${i + 1}. pki ${step.name}`, () => {
      const actual = run(step);
      if (RECORD) writeFileSync(fixture(i, step), actual);
      else expect(actual).toBe(readFileSync(fixture(i, step), 'utf8'));
    });
  });
});
