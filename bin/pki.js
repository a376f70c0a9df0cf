#!/usr/bin/env node
// Entry point: run the compiled CLI and exit with its code once output has drained.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
