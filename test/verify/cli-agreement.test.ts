/**
 * A handful of rows of the agreement table (test/verify/agreement-table.ts) through the built CLI,
 * `pki verify --json` and the one-line verdict, so the command gives the engine's verdict with the
 * documented exit codes: 0 valid, 1 invalid. The chains are the table's, built the same way.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki, tempDir } from '../helpers/cli.js';
import { causes, TABLE, type Row } from './agreement-table.js';
import { rfc3339 } from './chain-factory.js';
import { buildChains, type Chains } from './chains.js';

const ROWS = [
  'valid 3-tier p256',
  'valid 2-tier ed25519',
  'expired leaf',
  'wrong host',
  'IPv6 SAN, address written out in full',
  'client certificate used as a server',
  'cross-signed intermediate, second candidate leads to the trusted root',
  'revoked by CRL',
  'CRL signed by the wrong key',
];

let dir: string;
let chains: Chains;

beforeAll(() => {
  dir = tempDir('pki-verify-cli-');
  chains = buildChains(dir, new Date());
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `pki verify` arguments for a row: every file by path, the time fixed at the chains' `now`. */
function argsOf(r: Row): string[] {
  const f = chains.factory;
  const args = ['verify', f.cert(r.leaf).path, '--time', rfc3339(f.now), '--purpose', r.purpose];
  for (const n of r.untrusted) args.push('--untrusted', f.cert(n).path);
  for (const n of r.roots) args.push('--roots', f.cert(n).path);
  if (r.host !== undefined) args.push('--host', r.host);
  if (r.ip !== undefined) args.push('--ip', r.ip);
  if (r.crl) args.push('--crl', chains.crl[r.crl]);
  if (r.crlCheck !== 'none') args.push(r.crlCheck === 'all' ? '--crl-check-all' : '--crl-check');
  return args;
}

interface VerifyJson {
  valid: boolean;
  chain: { subject: string }[];
  error: { code: string; message: string; certificate: string } | null;
}

describe.each(ROWS.map((name) => [name, TABLE.find((r) => r.name === name)!] as const))('pki verify: %s', (_name, r) => {
  it(r.pki === 'ok' ? 'exit 0, valid, OK line' : `exit 1, ${r.pki.code}, invalid line naming the cause`, () => {
    expect(r, 'the row exists in the table').toBeDefined();
    const json = pki([...argsOf(r), '--json'], { cwd: dir });
    const text = pki(argsOf(r), { cwd: dir });
    const doc = JSON.parse(json.stdout) as VerifyJson;
    if (r.pki === 'ok') {
      expect(json.code, json.stderr).toBe(0);
      expect(doc.valid).toBe(true);
      expect(doc.error).toBeNull();
      expect(doc.chain[0]!.subject).toBe(chains.factory.cert(r.leaf).subject);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^OK: ${escape(chains.factory.cert(r.leaf).subject)} `));
      return;
    }
    expect(json.code, json.stderr).toBe(1);
    expect(doc.valid).toBe(false);
    expect(doc.error?.code).toBe(r.pki.code);
    const line = text.stdout.trimEnd();
    expect(text.code).toBe(1);
    expect(line.split('\n')).toHaveLength(1);
    expect(line.startsWith(`invalid: ${doc.error!.certificate}: `), line).toBe(true);
    for (const cause of causes(r.pki, chains.factory)) {
      if (typeof cause === 'string') expect(line).toContain(cause);
      else expect(line).toMatch(cause);
    }
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
