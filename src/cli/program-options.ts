/** Helpers every command group of the program (program.ts, program-diagnose.ts) shares. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { GlobalOptions } from './output.js';

/** commander collector for repeatable flags. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The global flags as every command receives them (PKI_DIR is read here, once). */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { dir?: string; json?: boolean; debug?: boolean; quiet?: boolean; insecure?: boolean };
  return { dir: o.dir ?? process.env.PKI_DIR ?? './pki', json: o.json === true, debug: o.debug === true, quiet: o.quiet === true, insecure: o.insecure === true };
}

/** The version `pki --version` prints (package.json's). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
