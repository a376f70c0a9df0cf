import { expect } from 'vitest';
import { PkiError } from '../../src/core/errors.js';
import { type CliResult, expectOneLineError } from './cli.js';

/** The `code` a function fails with, or 'no error': lets failure tables assert which error, not just that one happened. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? `untyped: ${(e as Error).message}`;
  }
  return 'no error';
}

/** Asserts that `fn` throws a PkiError with `code`, and returns it for further checks (message, hint). */
export function expectPkiError(fn: () => unknown, code: string): PkiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PkiError);
    expect((e as PkiError).code).toBe(code);
    return e as PkiError;
  }
  throw new Error(`expected PkiError ${code}, nothing was thrown`);
}

/**
 * A refused `pki … --json` run (test/helpers/cli.ts): asserts the exit code, exactly one `pki: ` line on
 * stderr and the `--json` `error.code` on stdout — the contract; returns the stderr line for the few tests
 * whose message text is the contract too (hints, names of files).
 */
export function expectCliError(r: CliResult, code: string, exit = 1): string {
  const line = expectOneLineError(r, exit);
  let parsed: { error?: { code?: string } };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new Error(`expected a --json error document on stdout (was --json passed?), got:\n${r.stdout}\nstderr: ${r.stderr}`);
  }
  expect(parsed.error?.code, r.stderr).toBe(code);
  return line;
}
