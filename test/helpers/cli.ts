/**
 * Runs the built CLI (bin/pki.js → dist/) as a real process and captures exit code, stdout and stderr.
 * `npm test` builds first; tests never import the CLI in-process, so exit codes are the real ones.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PKI_BIN = resolve(import.meta.dirname, '../../bin/pki.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly cwd?: string;
}

function environment(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.PKI_DIR;
  if (!extra || !('PKI_PASSWORD' in extra)) delete env.PKI_PASSWORD;
  return env;
}

/**
 * How long one `pki` run may take: a hang guard, as large as vitest's testTimeout. A run that hits it is
 * an error of its own, never mistaken for a process killed on purpose (the crash tests expect exit 128).
 */
export const PKI_RUN_MS = 120_000;

/** Runs `pki …args` synchronously. */
export function pki(args: readonly string[], options: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [PKI_BIN, ...args], {
    encoding: 'utf8',
    env: environment(options.env),
    input: options.input ?? '',
    cwd: options.cwd,
    timeout: PKI_RUN_MS,
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    throw new Error(`pki ${args.join(' ')} did not exit within ${PKI_RUN_MS / 1000} s (killed); stderr so far:\n${r.stderr}`);
  }
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: r.stdout, stderr: r.stderr };
}

/** Runs `pki …args` asynchronously (for concurrency tests). */
export function pkiAsync(args: readonly string[], options: CliOptions = {}): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [PKI_BIN, ...args], { env: environment(options.env), cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) => resolvePromise({ code: code ?? 128, stdout, stderr, signal }));
  });
}

export function tempDir(prefix = 'pki-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh CA home made with `pki init --no-password --insecure` (plus extra flags). */
export function initCa(extra: readonly string[] = []): string {
  const dir = join(tempDir(), 'ca');
  const r = pki(['init', '--no-password', '--insecure', '--dir', dir, ...extra]);
  if (r.code !== 0) throw new Error(`pki init failed: ${r.stderr}`);
  return dir;
}

/**
 * A fingerprint of a folder tree: every path with its type, mode, size, mtime and content hash (links:
 * their target). Equal snapshots mean nothing on disk changed.
 */
/** snapshotTree's lines without mtimes and without ca/snapshots/: path, mode, size, content hash (what a rollback restores). */
export function treeContents(tree: string): string[] {
  return tree
    .split('\n')
    .filter((line) => line && !line.includes('/snapshots'))
    .map((line) => line.split(' ').filter((_, i) => i !== 3).join(' '));
}

export function snapshotTree(root: string): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) lines.push(`${path} -> ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        lines.push(`${path}/ ${(st.mode & 0o7777).toString(8)}`);
        walk(path);
      } else {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
        lines.push(`${path} ${(st.mode & 0o7777).toString(8)} ${st.size} ${st.mtimeMs} ${hash}`);
      }
    }
  };
  walk(root);
  return lines.join('\n');
}

/** Asserts the usual shape of a refusal: exit code, exactly one stderr line, nothing on stdout (unless --json). */
export function expectOneLineError(r: CliResult, code = 1): string {
  const lines = r.stderr.trimEnd().split('\n');
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}: ${r.stderr}`);
  if (lines.length !== 1 || !lines[0]!.startsWith('pki: ')) throw new Error(`expected one "pki: " line on stderr, got:\n${r.stderr}`);
  return lines[0]!;
}
