import { expect } from 'vitest';
import { PkiError } from '../../src/core/errors.js';

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
