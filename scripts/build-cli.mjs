/**
 * Bundles the CLI (src/cli/main.ts and every lazily imported command) with esbuild into dist/pki/: one
 * ESM file per lazy chunk, so `pki --version` parses commander and nothing else, and `pki inspect` never
 * sees zod or SQLite. tsc still type-checks and emits dist/ (the library's `dist/core` and its types).
 * Why: start-up is paid on every CI and cron call (issue 5); Node's ESM loader costs per module file, and
 * the unbundled tree is ~100 files plus zod's ~80.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const outdir = resolve(root, 'dist/pki');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // A native module: loaded from node_modules at run time, only by the commands that open the inventory.
  external: ['better-sqlite3'],
  // commander is CommonJS and require()s node built-ins; an ESM bundle needs a real `require` for them.
  banner: { js: "import { createRequire as __pkiCreateRequire } from 'node:module'; const require = __pkiCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
