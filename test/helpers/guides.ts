/**
 * Runs the command blocks of docs/guides/*.md, so that a guide cannot rot (issue 12 point 5).
 *
 * A runnable block is a fenced block whose info string is `sh run=NAME` (NAME: letters, digits, `-`).
 * Other blocks (plain `sh`, `ini`, `conf`…) are prose. A guide's test runs each named block with
 * `runGuideBlock`, in order, doing between blocks what the guide's prose tells the operator to do by
 * hand (start the server with the files just made, on a port of the test's choosing). `expectEveryBlockRun`
 * at the end fails the test if a runnable block was never run — a block added to a guide without its test
 * fails CI.
 *
 * Each block runs as `bash -euo pipefail` in the given folder, with `pki` on PATH (the built CLI, as
 * `npx pki` would run it) and the variables the test passes (e.g. PORT, PGHOST). Guides write
 * `$PORT`-style variables where an operator would write a port of their own, and say so in the prose.
 * PKI_DIR and PKI_PASSWORD of the test runner are never passed on: only the test's own values.
 *
 * Two more kinds of block, so that what the guide shows is exactly what is tested:
 * - `<lang> file=NAME` (`conf file=redis.conf`, `nginx file=mtls.conf`, `ini file=…`): a configuration
 *   file the operator writes. `guideFile`/`writeGuideFile` return or write it verbatim, with only the
 *   `${NAME}` placeholders the test fills (upper-case names; a placeholder left unfilled, or a value given
 *   for a placeholder the file lacks, fails). The guide's prose says what each placeholder stands for.
 * - `sh serve=NAME`: the one command that starts the server in the foreground (`redis-server redis.conf`).
 *   `startGuideServer` runs it (`exec`, so the server's PID is the child's and is stopped by it) on a free
 *   port through startServer (test/helpers/process.ts): retried on a taken port, ready on a log line.
 * `expectEveryBlockRun` covers all three kinds: a file no test wrote or a server no test started fails too.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { PKI_BIN } from './cli.js';
import { startServer, type Server, type ServerOptions } from './process.js';

export const GUIDES_DIR = resolve(import.meta.dirname, '../../docs/guides');

/** How long one block may take (bash and what it starts): a hang guard. */
export const GUIDE_BLOCK_MS = 120_000;

export interface GuideBlock {
  readonly name: string;
  readonly script: string;
  /** 1-based line of the opening fence, for failure messages. */
  readonly line: number;
}

export interface Guide {
  readonly file: string;
  readonly blocks: ReadonlyMap<string, GuideBlock>;
  readonly run: Set<string>;
  /** `<lang> file=NAME` blocks, by NAME (e.g. `redis.conf`). */
  readonly files: ReadonlyMap<string, GuideBlock>;
  /** `sh serve=NAME` blocks, by NAME. */
  readonly servers: ReadonlyMap<string, GuideBlock>;
  /** `file:NAME` and `serve:NAME` entries for the files written and the servers started. */
  readonly used: Set<string>;
}

const FENCE = /^(`{3,})\s*sh\s+run=([A-Za-z0-9-]+)\s*$/;
const FILE_FENCE = /^(`{3,})\s*[A-Za-z0-9-]+\s+file=([A-Za-z0-9._-]+)\s*$/;
const SERVE_FENCE = /^(`{3,})\s*sh\s+serve=([A-Za-z0-9-]+)\s*$/;
/** A placeholder in a file block: `${PORT}`. Lower-case `$name`/`${name}` (nginx variables) are left alone. */
const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

/** The runnable, file and serve blocks of one guide file (name relative to docs/guides/, e.g. `postgresql.md`). */
export function loadGuide(name: string): Guide {
  const file = join(GUIDES_DIR, name);
  const lines = readFileSync(file, 'utf8').split('\n');
  const kinds = [
    { fence: FENCE, kind: 'runnable block', blocks: new Map<string, GuideBlock>() },
    { fence: FILE_FENCE, kind: 'file block', blocks: new Map<string, GuideBlock>() },
    { fence: SERVE_FENCE, kind: 'serve block', blocks: new Map<string, GuideBlock>() },
  ];
  for (let i = 0; i < lines.length; i++) {
    const kind = kinds.find((k) => k.fence.test(lines[i]!));
    if (!kind) continue;
    const open = kind.fence.exec(lines[i]!)!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trimEnd() !== open[1]) body.push(lines[j++]!);
    if (j >= lines.length) throw new Error(`${name}:${i + 1}: ${kind.kind} "${open[2]}" is never closed`);
    if (kind.blocks.has(open[2]!)) throw new Error(`${name}:${i + 1}: ${kind.kind} "${open[2]}" appears twice`);
    kind.blocks.set(open[2]!, { name: open[2]!, script: body.join('\n'), line: i + 1 });
    i = j;
  }
  return { file, blocks: kinds[0]!.blocks, run: new Set(), files: kinds[1]!.blocks, servers: kinds[2]!.blocks, used: new Set() };
}

/**
 * The text of a `<lang> file=NAME` block with its `${NAME}` placeholders filled from `values` (and a final
 * newline). Throws when a placeholder has no value or a value no placeholder: the test and the guide agree.
 */
export function guideFile(guide: Guide, name: string, values: Readonly<Record<string, string>> = {}): string {
  const block = guide.files.get(name);
  if (!block) throw new Error(`${guide.file}: no file block "${name}" (file blocks: ${[...guide.files.keys()].join(', ')})`);
  const named = new Set([...block.script.matchAll(PLACEHOLDER)].map((m) => m[1]!));
  const unfilled = [...named].filter((p) => !(p in values));
  const unused = Object.keys(values).filter((p) => !named.has(p));
  if (unfilled.length || unused.length) {
    throw new Error(`${guide.file}:${block.line} file block "${name}": placeholders without a value: [${unfilled.join(', ')}], values without a placeholder: [${unused.join(', ')}]`);
  }
  guide.used.add(`file:${name}`);
  return `${block.script.replace(PLACEHOLDER, (_m, p: string) => values[p]!)}\n`;
}

/** Writes `guideFile(…)` to `path` (mode 0644) and returns the path. */
export function writeGuideFile(guide: Guide, name: string, path: string, values: Readonly<Record<string, string>> = {}): string {
  writeFileSync(path, guideFile(guide, name, values), { mode: 0o644 });
  return path;
}

export interface GuideServerOptions {
  readonly cwd: string;
  /** The block's variables for a given port (PORT at least, when the guide uses it). */
  readonly env: (port: number) => NodeJS.ProcessEnv;
  /** Called with each port tried, before the server starts: write the config files that name the port. */
  readonly beforeStart?: (port: number) => void;
  readonly ready?: ServerOptions['ready'];
  readonly readyTimeoutMs?: number;
  readonly stopSignal?: NodeJS.Signals;
}

/**
 * Starts the server of a `sh serve=NAME` block: `exec <block>` under bash, in `cwd`, with `pki` on PATH
 * and the test's variables, on a free port (a fresh one when the port was taken meanwhile). The block is
 * one foreground command; stop it with the returned server's stop().
 */
export function startGuideServer(guide: Guide, name: string, options: GuideServerOptions): Promise<Server> {
  const block = guide.servers.get(name);
  if (!block) throw new Error(`${guide.file}: no serve block "${name}" (serve blocks: ${[...guide.servers.keys()].join(', ')})`);
  guide.used.add(`serve:${name}`);
  let env: NodeJS.ProcessEnv = {};
  return startServer({
    program: 'bash',
    args: (port) => {
      options.beforeStart?.(port);
      env = blockEnvironment(options.env(port));
      return ['-euo', 'pipefail', '-c', `exec ${block.script.trim()}`];
    },
    // startServer spawns with `env` right after calling args(port): the variables of this attempt's port.
    get env() {
      return env;
    },
    cwd: options.cwd,
    ready: options.ready,
    readyTimeoutMs: options.readyTimeoutMs,
    stopSignal: options.stopSignal,
  });
}

/** A block's environment: the test's, `pki` first on PATH, never the runner's PKI_DIR or PKI_PASSWORD. */
function blockEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra, PATH: `${pkiShimDir()}:${extra.PATH ?? process.env.PATH}` };
  for (const own of ['PKI_DIR', 'PKI_PASSWORD']) {
    delete env[own];
    if (extra[own] !== undefined) env[own] = extra[own];
  }
  return env;
}

let shimDir: string | undefined;

/** A folder holding a `pki` executable that runs the built CLI. */
export function pkiShimDir(): string {
  if (shimDir) return shimDir;
  shimDir = mkdtempSync(join(tmpdir(), 'pki-guide-bin-'));
  const shim = join(shimDir, 'pki');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${PKI_BIN}" "$@"\n`);
  chmodSync(shim, 0o755);
  return shimDir;
}

export interface BlockResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one runnable block. By default a non-zero exit fails the test with the block's name, line and
 * output; `expectFailure: true` returns the result instead (for blocks the guide says must fail).
 */
export function runGuideBlock(guide: Guide, name: string, options: { cwd: string; env?: NodeJS.ProcessEnv; expectFailure?: boolean }): BlockResult {
  const block = guide.blocks.get(name);
  if (!block) throw new Error(`${guide.file}: no runnable block "${name}" (blocks: ${[...guide.blocks.keys()].join(', ')})`);
  guide.run.add(name);
  const env = blockEnvironment(options.env);
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block.script], { cwd: options.cwd, env, encoding: 'utf8', timeout: GUIDE_BLOCK_MS });
  const result = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (options.expectFailure) {
    expect(result.code, `${guide.file}:${block.line} block "${name}" was expected to fail`).not.toBe(0);
  } else if (result.code !== 0) {
    throw new Error(`${guide.file}:${block.line} block "${name}" exited ${result.code}${r.error ? ` (${r.error.message})` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}

/** Fails unless every runnable block of the guide was run, every file block written and every serve block started by this test. */
export function expectEveryBlockRun(guide: Guide): void {
  const missed = [...guide.blocks.keys()].filter((name) => !guide.run.has(name));
  expect(missed, `${guide.file}: runnable blocks no test ran`).toEqual([]);
  const unused = [...[...guide.files.keys()].map((n) => `file:${n}`), ...[...guide.servers.keys()].map((n) => `serve:${n}`)].filter((k) => !guide.used.has(k));
  expect(unused, `${guide.file}: file blocks no test wrote, serve blocks no test started`).toEqual([]);
  expect(guide.blocks.size, `${guide.file} has no runnable block`).toBeGreaterThan(0);
}

/** A fresh working folder for one guide run. */
export function guideWorkdir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pki-guide-${prefix}-`));
}
