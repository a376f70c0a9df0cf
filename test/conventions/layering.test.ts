/**
 * The layer rules of docs/architecture.md, checked on src/ (issue 10, done-means 2 and 5): every import
 * (static `import … from`, `export … from`, `import()`, `require()`) and every use of the `process` and
 * `console` globals is read from the TypeScript syntax tree, so comments and strings never count.
 *
 * - core/ imports only core/ and `node:` built-ins other than fs, child_process, process and console, and
 *   does not touch the `process` or `console` globals;
 * - store/ never imports cli/ or operations/;
 * - operations/ never imports cli/, node:fs, node:child_process, readline or tty, and never touches
 *   process.env/argv/stdin/stdout/stderr/exit or console;
 * - net/ (network transport, issue 11) imports only core/, net/ and `node:` built-ins other than fs,
 *   child_process, process and console, and does not touch the `process` or `console` globals;
 * - serve/ (the online CA, issue 13) never imports cli/, node:fs or node:child_process, and never touches
 *   process.env/argv/stdin/stdout/stderr/exit or console (the command owns the process);
 * - a file in cli/commands/ never imports another file in cli/commands/;
 * - no file under src/ over 350 lines; no function over 80 lines unless the comment lines right above it
 *   include a `//` line containing "one piece" (the marker, docs/testing.md), saying why it must be one.
 *
 * `checkTree` takes any root, so the red checks below run each rule against a throwaway tree.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');
const MAX_FILE_LINES = 350;
const MAX_FUNCTION_LINES = 80;
const ONE_PIECE_MARKER = 'one piece';
const CORE_FORBIDDEN_MODULES = ['fs', 'fs/promises', 'child_process', 'process', 'console'];
// The disk is store/'s (operations reach it through CaHome and store/fs/); children are the CLI's (--exec).
const OPERATIONS_FORBIDDEN_MODULES = ['fs', 'fs/promises', 'child_process', 'readline', 'tty'];
// Sockets are net/'s; the disk stays store/'s and children the CLI's, as for core/.
const NET_FORBIDDEN_MODULES = CORE_FORBIDDEN_MODULES;
const OPERATIONS_FORBIDDEN_PROCESS = ['env', 'argv', 'stdin', 'stdout', 'stderr', 'exit', 'exitCode'];

function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk(root);
  return out;
}

interface Facts {
  readonly imports: { spec: string; line: number }[];
  readonly globals: { name: 'process' | 'console'; member: string; line: number }[];
  readonly functions: { name: string; lines: number; line: number; marked: boolean }[];
  readonly lineCount: number;
}

function functionName(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

/** The `//` comment lines directly above line `index` (0-based); a JSDoc block between is skipped over. */
function markedAbove(lines: readonly string[], index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const text = lines[i]!.trim();
    if (text.startsWith('//')) {
      if (text.includes(ONE_PIECE_MARKER)) return true;
    } else if (!(text.startsWith('*') || text.startsWith('/*') || text.startsWith('@'))) return false;
  }
  return false;
}

function factsOf(file: string): Facts {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const facts: Facts = { imports: [], globals: [], functions: [], lineCount: text.endsWith('\n') ? lines.length - 1 : lines.length };
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      facts.imports.push({ spec: node.moduleSpecifier.text, line: lineOf(node.getStart()) + 1 });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      facts.imports.push({ spec: node.moduleReference.expression.text, line: lineOf(node.getStart()) + 1 });
    } else if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        facts.imports.push({ spec: node.arguments[0].text, line: lineOf(node.getStart()) + 1 });
      }
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && (node.expression.text === 'process' || node.expression.text === 'console')) {
      facts.globals.push({ name: node.expression.text, member: node.name.text, line: lineOf(node.getStart()) + 1 });
    }
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
      if (node.body) {
        const first = lineOf(node.getStart());
        // An arrow or function expression starts on its declaration's line: the marker sits above that.
        const statement = ts.isArrowFunction(node) || ts.isFunctionExpression(node) ? lineOf(node.parent.getStart()) : first;
        facts.functions.push({ name: functionName(node), lines: lineOf(node.getEnd()) - first + 1, line: first + 1, marked: markedAbove(lines, Math.min(first, statement)) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return facts;
}

/** Every violation under `root` (a src/ tree), as `rule: file[:function] (detail)`. */
function checkTree(root: string): string[] {
  const out: string[] = [];
  const rel = (file: string) => relative(root, file).split(sep).join('/');
  for (const file of sourceFiles(root)) {
    const path = rel(file);
    const layer = path.split('/')[0];
    const facts = factsOf(file);
    for (const { spec, line } of facts.imports) {
      const target = spec.startsWith('.') ? rel(resolve(dirname(file), spec)) : null;
      const targetLayer = target?.split('/')[0];
      if (layer === 'core') {
        const builtin = spec.startsWith('node:') ? spec.slice(5) : null;
        if (target !== null ? targetLayer !== 'core' : builtin === null || CORE_FORBIDDEN_MODULES.includes(builtin)) {
          out.push(`core-imports: ${path} (line ${line}: '${spec}')`);
        }
      } else if (layer === 'net') {
        const builtin = spec.startsWith('node:') ? spec.slice(5) : null;
        if (target !== null ? targetLayer !== 'core' && targetLayer !== 'net' : builtin === null || NET_FORBIDDEN_MODULES.includes(builtin)) {
          out.push(`net-imports: ${path} (line ${line}: '${spec}')`);
        }
      } else if (layer === 'store' && (targetLayer === 'cli' || targetLayer === 'operations')) {
        out.push(`store-imports-up: ${path} (line ${line}: '${spec}')`);
      } else if (layer === 'operations' && targetLayer === 'cli') {
        out.push(`operations-imports-cli: ${path} (line ${line}: '${spec}')`);
      } else if (layer === 'operations' && OPERATIONS_FORBIDDEN_MODULES.includes(spec.replace(/^node:/, ''))) {
        out.push(`operations-imports-io: ${path} (line ${line}: '${spec}')`);
      } else if (layer === 'serve' && (targetLayer === 'cli' || OPERATIONS_FORBIDDEN_MODULES.includes(spec.replace(/^node:/, '')))) {
        out.push(`serve-imports: ${path} (line ${line}: '${spec}')`);
      }
      if (path.startsWith('cli/commands/') && target?.startsWith('cli/commands/') && target.replace(/\.js$/, '') !== path.replace(/\.ts$/, '')) {
        out.push(`command-imports-command: ${path} (line ${line}: '${spec}')`);
      }
    }
    for (const { name, member, line } of facts.globals) {
      if (layer === 'core') out.push(`core-uses-global: ${path} (line ${line}: ${name}.${member})`);
      else if (layer === 'net') out.push(`net-uses-global: ${path} (line ${line}: ${name}.${member})`);
      else if (layer === 'operations' && (name === 'console' || OPERATIONS_FORBIDDEN_PROCESS.includes(member))) {
        out.push(`operations-uses-global: ${path} (line ${line}: ${name}.${member})`);
      } else if (layer === 'serve' && (name === 'console' || OPERATIONS_FORBIDDEN_PROCESS.includes(member))) {
        out.push(`serve-uses-global: ${path} (line ${line}: ${name}.${member})`);
      }
    }
    if (facts.lineCount > MAX_FILE_LINES) out.push(`file-too-long: ${path} (${facts.lineCount} lines)`);
    for (const f of facts.functions) {
      if (f.lines > MAX_FUNCTION_LINES && !f.marked) out.push(`function-too-long: ${path}:${f.name} (${f.lines} lines from line ${f.line})`);
    }
  }
  return out;
}

/** `rule: file[:function]`: a violation without its line numbers (the throwaway-tree checks compare these). */
const key = (violation: string) => violation.replace(/ \(.*\)$/, '');

describe('layering and size rules on src/', () => {
  const violations = checkTree(SRC);

  it('no violation', () => {
    expect(violations, `layer or size rules broken (docs/architecture.md, docs/testing.md):\n${violations.join('\n')}`).toEqual([]);
  });
});

describe('each rule fails on a throwaway tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'pki-layering-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const longBody = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

  it.each([
    ['core/a.ts', "import { readFileSync } from 'node:fs';\n", 'core-imports: core/a.ts'],
    ['core/b.ts', "import { spawn } from 'child_process';\n", 'core-imports: core/b.ts'],
    ['core/c.ts', "export async function f() { return import('node:child_process'); }\n", 'core-imports: core/c.ts'],
    ['core/d.ts', "const p = require('node:process');\n", 'core-imports: core/d.ts'],
    ['core/e.ts', "import { x } from '../store/ca-home.js';\n", 'core-imports: core/e.ts'],
    ['core/f.ts', "import { z } from 'zod';\n", 'core-imports: core/f.ts'],
    ['core/g.ts', 'export const home = () => process.env.HOME;\n', 'core-uses-global: core/g.ts'],
    ['core/h.ts', "export const say = () => console.log('x');\n", 'core-uses-global: core/h.ts'],
    ['store/a.ts', "import { x } from '../cli/main.js';\n", 'store-imports-up: store/a.ts'],
    ['store/b.ts', "export { y } from '../operations/issue-leaf.js';\n", 'store-imports-up: store/b.ts'],
    ['operations/a.ts', "import { x } from '../cli/output.js';\n", 'operations-imports-cli: operations/a.ts'],
    ['operations/b.ts', 'export const dir = () => process.env.PKI_DIR;\n', 'operations-uses-global: operations/b.ts'],
    ['operations/c.ts', 'export const args = () => process.argv;\n', 'operations-uses-global: operations/c.ts'],
    ['operations/d.ts', "export const say = () => console.error('x');\n", 'operations-uses-global: operations/d.ts'],
    ['operations/e.ts', "import { unlinkSync } from 'node:fs';\n", 'operations-imports-io: operations/e.ts'],
    ['operations/f.ts', "import { spawnSync } from 'child_process';\n", 'operations-imports-io: operations/f.ts'],
    ['cli/commands/a.ts', "import { crl } from './crl.js';\n", 'command-imports-command: cli/commands/a.ts'],
    ['serve/a.ts', "import { x } from '../cli/output.js';\n", 'serve-imports: serve/a.ts'],
    ['serve/b.ts', "import { readFileSync } from 'node:fs';\n", 'serve-imports: serve/b.ts'],
    ['serve/c.ts', 'export const dir = () => process.env.PKI_DIR;\n', 'serve-uses-global: serve/c.ts'],
    ['serve/d.ts', "export const say = () => console.log('x');\n", 'serve-uses-global: serve/d.ts'],
    ['net/a.ts', "import { x } from '../store/trust-roots.js';\n", 'net-imports: net/a.ts'],
    ['net/b.ts', "import { x } from '../operations/inspect-tls.js';\n", 'net-imports: net/b.ts'],
    ['net/c.ts', "import { x } from '../cli/output.js';\n", 'net-imports: net/c.ts'],
    ['net/d.ts', "import { readFileSync } from 'node:fs';\n", 'net-imports: net/d.ts'],
    ['net/e.ts', "import { z } from 'zod';\n", 'net-imports: net/e.ts'],
    ['net/f.ts', 'export const proxy = () => process.env.HTTPS_PROXY;\n', 'net-uses-global: net/f.ts'],
    ['net/g.ts', "export const say = () => console.log('x');\n", 'net-uses-global: net/g.ts'],
    ['store/long.ts', `${'// line\n'.repeat(351)}`, 'file-too-long: store/long.ts'],
    ['store/fn.ts', `export function big() {\n${longBody(80)}\n}\n`, 'function-too-long: store/fn.ts:big'],
    ['store/arrow.ts', `export const big = () => {\n${longBody(80)}\n};\n`, 'function-too-long: store/arrow.ts:big'],
  ])('%s', (path, text, expected) => {
    write(path, text);
    try {
      expect(checkTree(root).map(key)).toContain(expected);
    } finally {
      rmSync(join(root, path));
    }
  });

  it('allowed: core using node:crypto and core/, a marked long function, a comment or string naming process', () => {
    write('core/ok.ts', "import { createHash } from 'node:crypto';\nimport { x } from './der/pem.js';\n// process.env in a comment\nexport const s = 'console.log';\n");
    write('store/ok.ts', `/** A table. */\n// one piece: a table read top to bottom\nexport function big() {\n${longBody(80)}\n}\n`);
    write('net/ok.ts', "import { connect } from 'node:tls';\nimport { PkiError } from '../core/errors.js';\nimport { x } from './tls-records.js';\n");
    write('cli/commands/ok.ts', "import { y } from '../crl-text.js';\nimport { z } from '../../operations/issue-leaf.js';\n");
    write('store/exact.ts', `export function edge() {\n${longBody(78)}\n}\n${'// line\n'.repeat(350 - 80)}`);
    try {
      expect(checkTree(root)).toEqual([]);
    } finally {
      for (const f of ['core/ok.ts', 'net/ok.ts', 'store/ok.ts', 'cli/commands/ok.ts', 'store/exact.ts']) rmSync(join(root, f));
    }
  });
});
