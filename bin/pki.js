#!/usr/bin/env node
// Entry point. CommonJS (bin/package.json) so that `pki --version` answers from package.json without
// starting Node's ES module loader or commander: start-up is paid on every CI and cron call (issue 5,
// docs/performance.md). Everything else runs the bundled CLI, dist/pki/main.js (scripts/build-cli.mjs),
// and exits with its code once output has drained.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  import('../dist/pki/main.js').then(async ({ main }) => {
    process.exitCode = await main(process.argv);
  });
}
