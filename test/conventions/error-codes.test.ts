/**
 * The error contract's bookkeeping (issue 10, point 4): every code in core/errors.ts's PkiErrorCode union is
 * raised somewhere in src/ (a code nobody raises is a promise scripts cannot rely on), and `pki: error:` lines
 * are written in one place, cli/main.ts, with their format in cli/errors.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const files = sources(SRC).map((path) => ({ path: relative(SRC, path), text: readFileSync(path, 'utf8') }));
const union = (() => {
  const text = files.find((f) => f.path === 'core/errors.ts')!.text;
  const body = text.slice(text.indexOf('export type PkiErrorCode'), text.indexOf(';', text.indexOf('export type PkiErrorCode')));
  return [...body.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
})();

describe('error codes', () => {
  it('the union is read from core/errors.ts', () => {
    expect(union.length).toBeGreaterThan(40);
    expect(union).toContain('ERR_USAGE');
  });

  it('every code in PkiErrorCode is raised somewhere in src/ (outside the union and the exit-code table)', () => {
    const elsewhere = files.filter((f) => f.path !== 'core/errors.ts' && f.path !== 'cli/errors.ts');
    const unraised = union.filter((code) => !elsewhere.some((f) => f.text.includes(`'${code}'`)));
    expect(unraised).toEqual([]);
  });

  it('pki: error: lines are written only by cli/main.ts (formatted by cli/errors.ts)', () => {
    const writers = files.filter((f) => !['cli/main.ts', 'cli/errors.ts'].includes(f.path) && (/pki: error:/.test(f.text) || /formatErrorLine\(/.test(f.text)));
    expect(writers.map((f) => f.path)).toEqual([]);
  });
});
