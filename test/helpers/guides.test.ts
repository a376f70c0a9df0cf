/**
 * The guide runner's own rules (test/helpers/guides.ts): file blocks are written verbatim but for the
 * `${NAME}` placeholders the test fills, a placeholder without a value (or a value without a placeholder)
 * fails, nginx's lower-case variables are left alone, and expectEveryBlockRun fails on a file block no
 * test wrote and a serve block no test started, as on a runnable block no test ran.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './cli.js';
import { GUIDES_DIR, expectEveryBlockRun, guideFile, loadGuide, runGuideBlock, startGuideServer } from './guides.js';

/** A guide file outside docs/guides/, loaded through its path relative to docs/guides/. */
function guideOf(markdown: string) {
  const file = join(tempDir('pki-guide-helper-'), 'example.md');
  writeFileSync(file, markdown);
  return loadGuide(relative(GUIDES_DIR, file));
}

const EXAMPLE = [
  '# Example',
  '',
  '```sh run=hello',
  'echo "hello $WHO"',
  '```',
  '',
  '```nginx file=site.conf',
  'listen ${LISTEN} ssl;',
  'return 200 "$ssl_client_s_dn ${ssl_protocol}";',
  '```',
  '',
  '```sh serve=server',
  'sleep 600',
  '```',
  '',
].join('\n');

describe('test/helpers/guides.ts', () => {
  it('reads the three kinds of block, with their lines', () => {
    const guide = guideOf(EXAMPLE);
    expect([...guide.blocks.keys()]).toEqual(['hello']);
    expect([...guide.files.keys()]).toEqual(['site.conf']);
    expect([...guide.servers.keys()]).toEqual(['server']);
    expect(guide.files.get('site.conf')!.line).toBe(7);
  });

  it('fills ${NAME} placeholders only, and refuses a missing or an unused value', () => {
    const guide = guideOf(EXAMPLE);
    expect(guideFile(guide, 'site.conf', { LISTEN: '127.0.0.1:8443' })).toBe('listen 127.0.0.1:8443 ssl;\nreturn 200 "$ssl_client_s_dn ${ssl_protocol}";\n');
    expect(() => guideFile(guide, 'site.conf')).toThrow(/placeholders without a value: \[LISTEN\]/);
    expect(() => guideFile(guide, 'site.conf', { LISTEN: '1', PORT: '2' })).toThrow(/values without a placeholder: \[PORT\]/);
    expect(() => guideFile(guide, 'other.conf')).toThrow(/no file block "other.conf"/);
  });

  it('expectEveryBlockRun fails while a file block is unwritten or a serve block unstarted', async () => {
    const guide = guideOf(EXAMPLE);
    const work = tempDir('pki-guide-helper-run-');
    expect(runGuideBlock(guide, 'hello', { cwd: work, env: { WHO: 'operator' } }).stdout).toBe('hello operator\n');
    expect(() => expectEveryBlockRun(guide)).toThrow(/file blocks no test wrote, serve blocks no test started/);
    guideFile(guide, 'site.conf', { LISTEN: '1' });
    expect(() => expectEveryBlockRun(guide)).toThrow(/serve:server/);
    // `sleep` never listens: startServer gives up after its (short, here) deadline and stops it by its PID.
    await expect(startGuideServer(guide, 'server', { cwd: work, env: () => ({}), readyTimeoutMs: 500 })).rejects.toThrow(/nothing listens/);
    expectEveryBlockRun(guide);
  });

  it('a block never sees the runner\'s PKI_DIR or PKI_PASSWORD, only the test\'s', () => {
    const guide = guideOf('```sh run=env\necho "${PKI_DIR-unset} ${PKI_PASSWORD-unset}"\n```\n');
    const saved = { dir: process.env.PKI_DIR, password: process.env.PKI_PASSWORD };
    process.env.PKI_DIR = '/somewhere/else';
    process.env.PKI_PASSWORD = 'runner secret';
    try {
      expect(runGuideBlock(guide, 'env', { cwd: tempDir() }).stdout).toBe('unset unset\n');
      expect(runGuideBlock(guide, 'env', { cwd: tempDir(), env: { PKI_DIR: 'mine' } }).stdout).toBe('mine unset\n');
    } finally {
      for (const [name, value] of [['PKI_DIR', saved.dir], ['PKI_PASSWORD', saved.password]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
