/**
 * Bundles the CLI (src/cli/main.ts and every lazily imported command) with esbuild into one CommonJS file,
 * dist/pki/main.cjs; tsc still type-checks and emits dist/ (the library's `dist/core` and its types).
 *
 * Why (issue 5, docs/performance.md): start-up is paid on every CI and cron call. Unbundled, Node's ES
 * module loader resolved and compiled ~100 files per command. Measured whole-process on `pki generate`
 * and `pki inspect`, one CommonJS file costs ~15% less CPU than an ESM bundle split into lazy chunks:
 * CommonJS skips the ES module loader, and esbuild still wraps each lazily imported module in an init
 * function, so a command's modules run only when that command is chosen.
 */
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/**
 * commander require()s node:child_process when it loads, for executable subcommands, which pki does not
 * use; loading it (and node:net, node:stream behind it) cost ~10 ms of every call. Hand commander a proxy
 * that loads the real module on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes(`${sep}node_modules${sep}commander${sep}`) ? { path: 'child_process', namespace: 'pki-lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pki-lazy' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

const root = resolve(import.meta.dirname, '..');
const outfile = resolve(root, 'dist/pki/main.cjs');
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  write: false,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // A native module: loaded from node_modules at run time, only by the commands that open the inventory.
  external: ['better-sqlite3', 'pg', 'pkcs11js'],
  // main.ts finds package.json from import.meta.url, which CommonJS lacks: give it this file's URL.
  define: { 'import.meta.url': '__pkiModuleUrl' },
  banner: { js: "const __pkiModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [lazyChildProcessForCommander],
  legalComments: 'none',
  logLevel: 'warning',
});
// The PostgreSQL inventory's worker thread (src/store/inventory/pg-worker.ts), a file of its own beside
// main.cjs since a Worker loads a file: found by pg-bridge.ts as ./pg-worker.cjs from the bundle. pg stays
// external, loaded from node_modules by the worker only.
const worker = await build({
  absWorkingDir: root,
  entryPoints: ['src/store/inventory/pg-worker.ts'],
  write: false,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['pg'],
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = [
  [outfile, result.outputFiles[0].contents],
  [resolve(root, 'dist/pki/pg-worker.cjs'), worker.outputFiles[0].contents],
];
// Replaced by one rename: tests and other builds running meanwhile (npm test builds first) never see a
// missing or half-written bundle.
mkdirSync(resolve(root, 'dist/pki'), { recursive: true });
for (const [file, contents] of outputs) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}
