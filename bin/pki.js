#!/usr/bin/env node
// Entry point. CommonJS (bin/package.json), like the bundled CLI it loads (dist/pki/main.cjs, built by
// scripts/build-cli.mjs): Node's ES module loader is never started. A bare `--version` answers from
// package.json without loading the CLI at all. Start-up is paid on every CI and cron call (issue 5,
// docs/performance.md). Exits with the CLI's code once output has drained.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  require('../dist/pki/main.cjs')
    .main(process.argv)
    .then((code) => {
      process.exitCode = code;
    });
}
