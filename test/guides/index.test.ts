/**
 * Every guide is run by CI (issue 12, "Done means" 5): each docs/guides/*.md other than README.md has
 * runnable blocks, a test test/guides/<name>.test.ts that loads it and ends with expectEveryBlockRun, and
 * a line in the list of docs/guides/README.md; no test or list line names a guide that is not there.
 * Whatever subset of the guides exists, this holds for each, so a guide without its test fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUIDES_DIR, loadGuide } from '../helpers/guides.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TESTS = import.meta.dirname;
const guides = readdirSync(GUIDES_DIR)
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort();
const index = readFileSync(join(GUIDES_DIR, 'README.md'), 'utf8');
/** The guides the list links to: `- [x.md](x.md): …` lines under "## The guides". */
const listed = [...(index.split(/^## The guides$/m)[1] ?? '').matchAll(/^- \[[^\]]+\]\(([^)#\s]+)\)/gm)].map((m) => m[1]!);

describe('docs/guides', () => {
  it('has guides, and README.md has a list of them', () => {
    expect(guides.length).toBeGreaterThan(0);
    expect(index).toMatch(/^## The guides$/m);
  });

  it.each(guides)('%s has runnable blocks, parses, and is listed in docs/guides/README.md', (guide) => {
    expect(loadGuide(guide).blocks.size, `${guide}: no \`sh run=NAME\` block`).toBeGreaterThan(0);
    expect(listed, `docs/guides/README.md does not list ${guide}`).toContain(guide);
  });

  it.each(guides)('%s has a test that loads it and ends with expectEveryBlockRun', (guide) => {
    const test = join(TESTS, guide.replace(/\.md$/, '.test.ts'));
    expect(existsSync(test), `no ${test.slice(ROOT.length + 1)} for docs/guides/${guide}`).toBe(true);
    const text = readFileSync(test, 'utf8');
    expect(text, `${test.slice(ROOT.length + 1)} never names ${guide}`).toMatch(new RegExp(`['"\`]${guide.replace('.', '\\.')}['"\`]`));
    expect(text).toContain('expectEveryBlockRun(');
  });

  it('names no guide that is not there: every list line and every test/guides/<name>.test.ts has its guide', () => {
    expect(listed.filter((g) => !guides.includes(g))).toEqual([]);
    const tests = readdirSync(TESTS).filter((f) => f.endsWith('.test.ts') && f !== 'index.test.ts');
    expect(tests.filter((t) => !guides.includes(t.replace(/\.test\.ts$/, '.md')))).toEqual([]);
  });

  it('is linked from README.md and docs/testing.md', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](docs/guides/README.md)');
    expect(readFileSync(join(ROOT, 'docs/testing.md'), 'utf8')).toContain('](guides/README.md)');
  });
});
