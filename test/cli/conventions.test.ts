/**
 * Command-line conventions an operator meets in the first hour (issue 9, point 21): bare `pki` shows the
 * help, --quiet keeps the data, Ctrl-C at a prompt exits 130 with the terminal restored, a typo at the
 * passphrase prompt can be retried, and a wrong passphrase names the source it came from.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { pkiInPty } from '../helpers/pty.js';

const PASSPHRASE = 'correct horse battery';
const PROMPT = 'Passphrase for the intermediate CA key: ';

describe('bare commands print their help on stdout, exit 0 (as step does)', () => {
  it.each([[[]], [['ssh']], [['db']]])('pki %j', (args) => {
    const r = pki(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: pki${args.length ? ` ${args[0]}` : ''} \\[options\\] \\[command\\]`));
    expect(r.stderr).toBe('');
  });
});

describe('--quiet silences chatter, never the data a command exists to print', () => {
  let dir: string;
  beforeAll(() => {
    dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
  });

  it('-q list still prints the table, identical to list', () => {
    const q = pki(['-q', 'list', '--dir', dir]);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/^SERIAL\s+SUBJECT/);
    expect(q.stdout).toBe(pki(['list', '--dir', dir]).stdout);
    expect(pki(['list', '--quiet', '--dir', dir]).stdout).toBe(q.stdout);
  });

  it('-q inspect still prints the report', () => {
    const file = join(dir, 'services/redis/main/certs/redis.crt');
    const q = pki(['inspect', '-q', file]);
    expect(q.code).toBe(0);
    expect(q.stdout).toBe(pki(['inspect', file]).stdout);
    expect(q.stdout).toMatch(/^Certificate/);
  });

  it('-q crl prints nothing: "Wrote …" is success chatter', () => {
    const r = pki(['crl', '-q', '--dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(pki(['crl', '--dir', dir]).stdout).not.toBe('');
  });
});

describe('passphrase sources: a wrong passphrase names the source actually used', () => {
  let dir: string;
  beforeAll(() => {
    dir = join(tempDir(), 'ca');
    expect(pki(['init', '--dir', dir], { env: { PKI_PASSWORD: PASSPHRASE } }).code).toBe(0);
  });

  it('--password-file FILE', () => {
    const file = join(tempDir(), 'wrong-pass');
    writeFileSync(file, 'not the passphrase\n');
    chmodSync(file, 0o600);
    const before = snapshotTree(dir);
    const r = pki(['crl', '--json', '--password-file', file, '--dir', dir]);
    expect(r.code).toBe(1);
    const { error } = JSON.parse(r.stdout);
    expect(error.code).toBe('ERR_BAD_PASSWORD');
    expect(error.message).toContain(`--password-file ${file}`);
    expect(error.hint).toContain(file);
    expect(error.hint).not.toContain('PKI_PASSWORD');
    expect(snapshotTree(dir)).toBe(before);
  });

  it('PKI_PASSWORD', () => {
    const r = pki(['crl', '--json', '--dir', dir], { env: { PKI_PASSWORD: 'not the passphrase' } });
    expect(r.code).toBe(1);
    const { error } = JSON.parse(r.stdout);
    expect(error.code).toBe('ERR_BAD_PASSWORD');
    expect(error.message).toContain('PKI_PASSWORD');
    expect(error.hint).toContain('PKI_PASSWORD');
    expect(error.hint).not.toContain('--password-file');
  });
});

describe('the interactive prompt, on a real terminal', () => {
  let dir: string;
  beforeAll(() => {
    dir = join(tempDir(), 'ca');
    expect(pki(['init', '--dir', dir], { env: { PKI_PASSWORD: PASSPHRASE } }).code).toBe(0);
  });

  it('Ctrl-C at the passphrase prompt exits 130, echo and line mode restored, nothing written', () => {
    const before = snapshotTree(dir);
    const r = pkiInPty(['crl', '--dir', dir], [{ expect: PROMPT, send: '\x03' }]);
    expect(r.timedOut).toBe(false);
    expect(r.stepsDone).toBe(1);
    expect(r.code).toBe(130);
    expect(r.echo).toBe(true);
    expect(r.canonical).toBe(true);
    expect(r.output).not.toMatch(/Error|at .*\.cjs/);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('two typos, then the right passphrase: the command succeeds (3 tries)', () => {
    const r = pkiInPty(
      ['crl', '--dir', dir],
      [
        { expect: PROMPT, send: 'typo one\r' },
        { expect: PROMPT, send: 'typo two\r' },
        { expect: PROMPT, send: `${PASSPHRASE}\r` },
      ],
    );
    expect(r.timedOut).toBe(false);
    expect(r.code, r.output).toBe(0);
    expect(r.output.match(/Wrong passphrase, try again/g)).toHaveLength(2);
    expect(r.output).toMatch(/Published CRL .*intermediate_ca\.crl/);
    expect(r.output).not.toContain(PASSPHRASE); // no echo
  });

  it('three wrong passphrases: ERR_BAD_PASSWORD, exit 1, the hint names the prompt, nothing written', () => {
    const before = snapshotTree(dir);
    const r = pkiInPty(
      ['crl', '--json', '--dir', dir],
      [
        { expect: PROMPT, send: 'wrong 1\r' },
        { expect: PROMPT, send: 'wrong 2\r' },
        { expect: PROMPT, send: 'wrong 3\r' },
      ],
    );
    expect(r.timedOut).toBe(false);
    expect(r.stepsDone).toBe(3);
    expect(r.code).toBe(1);
    const error = JSON.parse(r.output.slice(r.output.indexOf('{"error"')).split('\n')[0]!).error;
    expect(error.code).toBe('ERR_BAD_PASSWORD');
    expect(error.message).toMatch(/at the prompt/);
    expect(r.output.split(PROMPT)).toHaveLength(4);
    expect(r.echo).toBe(true);
    expect(snapshotTree(dir)).toBe(before);
  });
});
