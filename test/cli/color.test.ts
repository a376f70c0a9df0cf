/**
 * Issue 12, point 4: NO_COLOR and FORCE_COLOR, through the real CLI (docs/completion.md). In a pipe there
 * is no colour unless FORCE_COLOR asks for it; on a pseudo-terminal there is, unless NO_COLOR (not empty)
 * or TERM=dumb says no; NO_COLOR wins over FORCE_COLOR; --json is never coloured.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { pkiInPty } from '../helpers/pty.js';

/** An SGR escape sequence, as chalk writes it (ESC [ … m). */
const ANSI = /\x1b\[[0-9;]*m/;

let dir: string;
beforeAll(() => {
  dir = initCa();
});

/** `pki list` through a pipe with exactly these colour variables (the helper's default NO_COLOR=1 removed). */
function listInPipe(env: NodeJS.ProcessEnv) {
  const r = pki(['list', '--dir', dir], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm', ...env } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('CN=pki Root CA');
  return r.stdout;
}

function listOnTerminal(env: NodeJS.ProcessEnv) {
  const r = pkiInPty(['list', '--dir', dir], [], { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm', ...env });
  expect(r.code, r.output).toBe(0);
  expect(r.output).toContain('CN=pki Root CA');
  return r.output;
}

describe('in a pipe', () => {
  it('no colour by default', () => {
    expect(listInPipe({})).not.toMatch(ANSI);
  });

  it('FORCE_COLOR=1 colours (the header is bold)', () => {
    const out = listInPipe({ FORCE_COLOR: '1' });
    expect(out).toMatch(ANSI);
    expect(out).toContain('\x1b[1mSERIAL');
  });

  it('FORCE_COLOR=0 and FORCE_COLOR=false do not', () => {
    expect(listInPipe({ FORCE_COLOR: '0' })).not.toMatch(ANSI);
    expect(listInPipe({ FORCE_COLOR: 'false' })).not.toMatch(ANSI);
  });

  it('NO_COLOR wins over FORCE_COLOR', () => {
    expect(listInPipe({ FORCE_COLOR: '1', NO_COLOR: '1' })).not.toMatch(ANSI);
  });

  it('--json is never coloured, even with FORCE_COLOR=1', () => {
    const r = pki(['list', '--dir', dir, '--json'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

describe('on a terminal', () => {
  it('colours by default', () => {
    expect(listOnTerminal({})).toContain('\x1b[1mSERIAL');
  });

  it('NO_COLOR=1 (any non-empty value) turns colour off', () => {
    expect(listOnTerminal({ NO_COLOR: '1' })).not.toMatch(ANSI);
    expect(listOnTerminal({ NO_COLOR: 'yes' })).not.toMatch(ANSI);
  });

  it('an empty NO_COLOR counts as unset (no-color.org)', () => {
    expect(listOnTerminal({ NO_COLOR: '' })).toMatch(ANSI);
  });

  it('FORCE_COLOR=0 and TERM=dumb turn it off', () => {
    expect(listOnTerminal({ FORCE_COLOR: '0' })).not.toMatch(ANSI);
    expect(listOnTerminal({ TERM: 'dumb' })).not.toMatch(ANSI);
  });
});
