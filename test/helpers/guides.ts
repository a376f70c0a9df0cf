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
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { PKI_BIN } from './cli.js';

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
}

const FENCE = /^(`{3,})\s*sh\s+run=([A-Za-z0-9-]+)\s*$/;

/** The runnable blocks of one guide file (name relative to docs/guides/, e.g. `postgresql.md`). */
export function loadGuide(name: string): Guide {
  const file = join(GUIDES_DIR, name);
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = new Map<string, GuideBlock>();
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trimEnd() !== open[1]) body.push(lines[j++]!);
    if (j >= lines.length) throw new Error(`${name}:${i + 1}: runnable block "${open[2]}" is never closed`);
    if (blocks.has(open[2]!)) throw new Error(`${name}:${i + 1}: runnable block "${open[2]}" appears twice`);
    blocks.set(open[2]!, { name: open[2]!, script: body.join('\n'), line: i + 1 });
    i = j;
  }
  return { file, blocks, run: new Set() };
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
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env, PATH: `${pkiShimDir()}:${options.env?.PATH ?? process.env.PATH}` };
  delete env.PKI_PASSWORD;
  if (options.env?.PKI_PASSWORD !== undefined) env.PKI_PASSWORD = options.env.PKI_PASSWORD;
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block.script], { cwd: options.cwd, env, encoding: 'utf8', timeout: GUIDE_BLOCK_MS });
  const result = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (options.expectFailure) {
    expect(result.code, `${guide.file}:${block.line} block "${name}" was expected to fail`).not.toBe(0);
  } else if (result.code !== 0) {
    throw new Error(`${guide.file}:${block.line} block "${name}" exited ${result.code}${r.error ? ` (${r.error.message})` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}

/** Fails unless every runnable block of the guide was run by this test. */
export function expectEveryBlockRun(guide: Guide): void {
  const missed = [...guide.blocks.keys()].filter((name) => !guide.run.has(name));
  expect(missed, `${guide.file}: runnable blocks no test ran`).toEqual([]);
  expect(guide.blocks.size, `${guide.file} has no runnable block`).toBeGreaterThan(0);
}

/** A fresh working folder for one guide run. */
export function guideWorkdir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pki-guide-${prefix}-`));
}
