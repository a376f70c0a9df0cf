/**
 * Issue 12, point 4 / done-means 6: the progress line appears on a pseudo-terminal (stderr a TTY) for
 * RSA-4096 key generation (init), a sign batch of 30 requests, renew --all and check over a 30-certificate
 * inventory, and is wiped before the result; it never appears in a pipe, with --json or --quiet on a
 * terminal, or with check --nagios. The line's own rules (at most one draw per 100 ms, wiped at the end,
 * no counter for small batches) are checked on cli/progress.ts with a fake terminal.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_BATCH, startProgress } from '../../src/cli/progress.js';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';
import { pkiInPty } from '../helpers/pty.js';

/** Any trace of a progress line: its prefix or a carriage return (pki writes \r for nothing else). */
const hasProgress = (text: string) => /pki: (signing|checking|renewing|generating)|\r(?!\n)/.test(text);

let ca: string;
let csrs: string[];
let outDir: string;

beforeAll(() => {
  ca = initCa();
  const work = tempDir('pki-progress-');
  const key = join(work, 'k.pem');
  peer('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  csrs = Array.from({ length: 30 }, (_, i) => {
    const out = join(work, `host${i}.csr`);
    peer('openssl', ['req', '-new', '-key', key, '-subj', `/CN=host${i}.internal`, '-addext', `subjectAltName=DNS:host${i}.internal`, '-out', out]);
    return out;
  });
  outDir = join(work, 'issued');
  mkdirSync(outDir);
});

describe('sign, check and renew --all over 30 certificates', () => {
  it('sign: the n/30 counter on a terminal, wiped before the report', () => {
    const r = pkiInPty(['sign', '--dir', ca, '--out-dir', outDir, ...csrs], []);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/pki: signing \d+\/30/);
    const wiped = r.output.lastIndexOf('\r                 ');
    expect(wiped).toBeGreaterThan(r.output.lastIndexOf('pki: signing'));
    expect(r.output.indexOf('Signed 30 requests')).toBeGreaterThan(wiped);
  });

  it('sign: nothing of it in a pipe (stderr empty) or with --json on a terminal', () => {
    const piped = pki(['sign', '--dir', ca, '--out-dir', outDir, '--force', ...csrs]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toContain('Signed 30 requests');
    const json = pkiInPty(['sign', '--dir', ca, '--out-dir', outDir, '--force', '--json', ...csrs], []);
    expect(json.code, json.output).toBe(0);
    expect(hasProgress(json.output), json.output).toBe(false);
    expect(JSON.parse(json.output)).toHaveLength(30);
  });

  it('check: the counter on a terminal; none in a pipe, with --quiet or --nagios', () => {
    const tty = pkiInPty(['check', '--dir', ca], []);
    expect(tty.output).toMatch(/pki: checking \d+\/\d+/);
    expect(tty.output).toContain('checked:');
    const piped = pki(['check', '--dir', ca]);
    expect(piped.stdout).toContain('checked:');
    expect(piped.stderr).toBe('');
    expect(hasProgress(pkiInPty(['check', '--dir', ca, '--quiet'], []).output)).toBe(false);
    const nagios = pkiInPty(['check', '--dir', ca, '--nagios'], []);
    expect(nagios.output).toMatch(/^PKI OK - /);
    expect(hasProgress(nagios.output)).toBe(false);
  });

  it('renew --all: the counter on a terminal; none in a pipe', () => {
    const tty = pkiInPty(['renew', '--all', '--force', '--dir', ca], []);
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toMatch(/pki: renewing \d+\/\d+/);
    expect(tty.output).toMatch(/\d+ renewed, 0 not due, 0 failed/);
    const piped = pki(['renew', '--all', '--force', '--dir', ca]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(hasProgress(piped.stderr + piped.stdout)).toBe(false);
  });
});

describe('RSA key generation', () => {
  it('init --kty RSA --size 4096: a spinner on a terminal, wiped before the report', () => {
    const dir = join(tempDir(), 'ca');
    const r = pkiInPty(['init', '--no-password', '--insecure', '--kty', 'RSA', '--size', '4096', '--dir', dir], [], {}, 180);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/pki: generating 2 RSA-4096 keys [|/\\-]/);
    expect(r.output.indexOf('Created')).toBeGreaterThan(r.output.lastIndexOf('pki: generating'));
  });

  it('init --kty RSA --size 3072: nothing of it in a pipe, or with --json on a terminal', () => {
    const piped = pki(['init', '--no-password', '--insecure', '--kty', 'RSA', '--size', '3072', '--dir', join(tempDir(), 'ca')]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(hasProgress(piped.stderr)).toBe(false);
    const json = pkiInPty(['init', '--no-password', '--insecure', '--kty', 'RSA', '--size', '3072', '--json', '--dir', join(tempDir(), 'ca')], [], {}, 180);
    expect(json.code, json.output).toBe(0);
    expect(hasProgress(json.output), json.output).toBe(false);
    expect(() => JSON.parse(json.output)).not.toThrow();
  });
});

/** A fake terminal that records what is written. */
function fakeTerminal(isTTY = true) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

/** What wiping a line of this text writes. */
const wipe = (text: string) => `\r${' '.repeat(text.length)}\r`;

describe('cli/progress.ts', () => {
  it('draws a counter at most once per 100 ms and wipes it at the end', () => {
    const t = fakeTerminal();
    const p = startProgress('signing', { json: false, quiet: false }, { stream: t.stream });
    for (let i = 1; i <= 1000; i++) p.update(i, 1000); // well under 100 ms
    expect(t.writes).toEqual(['\rpki: signing 1/1000']);
    p.end();
    p.end();
    expect(t.writes).toEqual(['\rpki: signing 1/1000', wipe('pki: signing 1/1000')]);
  });

  it('no counter for a batch under MIN_BATCH, none when not a terminal, with --json or with --quiet', () => {
    const small = fakeTerminal();
    startProgress('signing', { json: false, quiet: false }, { stream: small.stream }).update(1, MIN_BATCH - 1);
    expect(small.writes).toEqual([]);
    for (const [isTTY, json, quiet] of [[false, false, false], [true, true, false], [true, false, true]] as const) {
      const t = fakeTerminal(isTTY);
      const p = startProgress('checking', { json, quiet }, { stream: t.stream, spinner: true });
      p.update(1, 100);
      p.end();
      expect(t.writes).toEqual([]);
    }
  });

  it('wipes the line while a wrapped prompt runs and draws it again after', async () => {
    const t = fakeTerminal();
    const p = startProgress('renewing', { json: false, quiet: false }, { stream: t.stream });
    p.update(3, 20);
    const ask = p.pausing(async () => {
      t.writes.push('PROMPT');
      return 'secret';
    });
    expect(await ask()).toBe('secret');
    p.end();
    expect(t.writes).toEqual(['\rpki: renewing 3/20', wipe('pki: renewing 3/20'), 'PROMPT', '\rpki: renewing 3/20', wipe('pki: renewing 3/20')]);
  });
});
