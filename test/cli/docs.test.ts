/**
 * Issue 10, point 5: the docs match the code. Every `src/…` path docs/architecture.md names exists, every
 * link and repository path in docs/*.md and README.md resolves, docs/inventory.md states the schema version
 * the inventory code defines, docs/configuration.md has a row for every field of the pki.json schema (read
 * from src/store/config.ts itself, not from a list kept here), and every docs/ file the code points to
 * exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** docs/*.md and README.md, repository-relative. */
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Repository paths written out in a text (`src/store/config.ts`, docs/inventory.md, test/helpers/): up to a placeholder or glob. */
function repositoryPaths(text: string, roots = ['src', 'test', 'docs', 'bench', 'scripts']): string[] {
  const pattern = new RegExp(`(?<![\\w./-])(?:${roots.join('|')})/[\\w./-]*`, 'g');
  return [...new Set([...text.matchAll(pattern)].map((m) => m[0].replace(/[.,:]+$/, '')))];
}

/** Relative targets of Markdown links `[text](target)`, without a #fragment. */
function markdownLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.replace(/#.*$/, ''));
}

/** Files under a folder, recursively, repository-relative. */
function filesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    // Dirent.parentPath is Node 20.12+; `path` is its older name (package.json allows 20.10).
    .map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name).slice(ROOT.length + 1));
}

describe('docs/architecture.md', () => {
  const doc = read('docs/architecture.md');

  it('every src/ path it names exists ', () => {
    const paths = repositoryPaths(doc, ['src']);
    expect(paths.length).toBeGreaterThanOrEqual(60);
    const missing = paths.filter((p) => !existsSync(join(ROOT, p)));
    expect(missing).toEqual([]);
  });

  it('names every layer, every command file and the rules the layering test enforces', () => {
    for (const layer of ['src/core/', 'src/store/', 'src/operations/', 'src/cli/', 'src/cli/main.ts']) expect(doc).toContain(layer);
    for (const command of filesUnder('src/cli/commands')) expect(doc).toContain(`\`${command}\``);
    for (const rule of ['node:fs', 'process.env', 'another command', 'pki: error:', 'PassphraseSource']) expect(doc).toContain(rule);
  });
});

describe('links in docs/*.md and README.md', () => {
  it('every relative Markdown link resolves from its file', () => {
    const broken = DOCS.flatMap((file) => markdownLinks(read(file)).filter((target) => !existsSync(resolve(ROOT, dirname(file), target))).map((target) => `${file}: ${target}`));
    expect(broken).toEqual([]);
  });

  it('every repository path they name (docs/…, src/…, test/…, bench/…, scripts/…) exists', () => {
    const named = DOCS.flatMap((file) => repositoryPaths(read(file)).map((path) => ({ file, path })));
    expect(named.length).toBeGreaterThanOrEqual(150);
    const missing = named.filter(({ path }) => !existsSync(join(ROOT, path))).map(({ file, path }) => `${file}: ${path}`);
    expect(missing).toEqual([]);
  });

  it('every source file they name without src/ (`cli/output.ts`, `core/x509/names.ts`) exists under src/', () => {
    const named = DOCS.flatMap((file) => [...read(file).matchAll(/(?<![\w./-])(?:core|store|operations|cli)\/[\w./-]+\.ts\b/g)].map((m) => ({ file, path: `src/${m[0]}` })));
    const missing = named.filter(({ path }) => !existsSync(join(ROOT, path))).map(({ file, path }) => `${file}: ${path}`);
    expect(missing).toEqual([]);
  });

  it('every docs/ file the code names exists (the hints point somewhere)', () => {
    const named = filesUnder('src').flatMap((file) => repositoryPaths(read(file), ['docs']).map((path) => ({ file, path })));
    expect(named.map(({ path }) => path)).toContain('docs/configuration.md');
    const missing = named.filter(({ path }) => !existsSync(join(ROOT, path))).map(({ file, path }) => `${file}: ${path}`);
    expect(missing).toEqual([]);
  });
});

describe('docs/inventory.md', () => {
  const doc = read('docs/inventory.md');

  /** `SCHEMA_VERSION` as the inventory code defines it, wherever under src/store/inventory/ it lives. */
  function schemaVersion(): number {
    const found = filesUnder('src/store/inventory').flatMap((file) => [...read(file).matchAll(/export const SCHEMA_VERSION = (\d+);/g)].map((m) => Number(m[1])));
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  it('states the schema version the code defines, and no other', () => {
    const version = schemaVersion();
    expect(doc).toContain(`## Schema (PRAGMA user_version = ${version})`);
    expect([...doc.matchAll(/user_version = (\d+)/g)].map((m) => Number(m[1]))).toEqual([version]);
    const tableVersions = [...doc.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));
    expect(tableVersions).toEqual(Array.from({ length: version }, (_, i) => i + 1));
  });

  it('describes the journal protocol: journal first, then the files, then the record, settled by the next run', () => {
    expect(doc).toContain('**journal first, then the files, then the record**');
    expect(doc).toContain('**Settled by the next run.**');
    for (const step of ['journal:written', 'journal:recorded', 'journal:removed']) {
      expect(doc).toContain(step);
      expect(read('src/store/inventory/journal.ts')).toContain(`crashPoint('${step}')`);
    }
    expect(doc).not.toMatch(/files (are written )?first,? (and )?recorded afterwards/i);
  });
});

/** The field paths of the pki.json schema: the property names of `ConfigSchema`'s nested z.strictObject shapes. */
function configSchemaFields(): string[] {
  const source = ts.createSourceFile('config.ts', read('src/store/config.ts'), ts.ScriptTarget.ES2022, true);
  let schema: ts.Expression | undefined;
  source.forEachChild(function find(node) {
    if (ts.isVariableDeclaration(node) && node.name.getText() === 'ConfigSchema') schema = node.initializer;
    node.forEachChild(find);
  });
  if (!schema) throw new Error('src/store/config.ts declares no ConfigSchema');
  /** The shape of the object schema an expression is, unwrapping z.optional(…) and z._default(…). */
  const shapeOf = (e: ts.Expression): ts.ObjectLiteralExpression | undefined => {
    if (!ts.isCallExpression(e) || e.arguments.length === 0) return undefined;
    const first = e.arguments[0]!;
    if (/\b(strictObject|object)$/.test(e.expression.getText())) return ts.isObjectLiteralExpression(first) ? first : undefined;
    return /\b(optional|_default|nullable)$/.test(e.expression.getText()) ? shapeOf(first) : undefined;
  };
  const fields = (shape: ts.ObjectLiteralExpression, prefix: string): string[] =>
    shape.properties.flatMap((p) => {
      if (!ts.isPropertyAssignment(p)) throw new Error(`unexpected schema member ${p.getText()}`);
      const path = `${prefix}${p.name.getText()}`;
      const nested = shapeOf(p.initializer);
      return nested ? fields(nested, `${path}.`) : [path];
    });
  const top = shapeOf(schema);
  if (!top) throw new Error('ConfigSchema is not a z.strictObject');
  return fields(top, '');
}

describe('docs/configuration.md', () => {
  it('has a row for every field of the pki.json schema in src/store/config.ts', () => {
    const fields = configSchemaFields();
    expect(fields).toEqual(expect.arrayContaining(['version', 'key.kty', 'maxSans', 'crl.rootNextUpdate', 'nameConstraints.permittedUri']));
    expect(fields.length).toBeGreaterThanOrEqual(20);
    const doc = read('docs/configuration.md');
    expect(fields.filter((field) => !doc.includes(`| \`${field}\` |`))).toEqual([]);
  });

  it('is where the config error hint points', () => {
    expect(read('src/store/config.ts')).toContain("hint: 'fix the field in pki.json (see docs/configuration.md)'");
  });
});
