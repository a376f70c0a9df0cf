/**
 * The error contract of the command line: error → one line on stderr (cause, then fix) and an exit
 * code. 2 for usage errors, 1 for every refusal or failure. Only this module decides exit codes.
 */
import type { PkiError, PkiErrorCode } from '../core/errors.js';
import { escapeControls } from './terminal-text.js';

export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE_CODES: ReadonlySet<PkiErrorCode> = new Set(['ERR_USAGE']);

export function exitCodeFor(code: PkiErrorCode): number {
  return USAGE_CODES.has(code) ? ExitCode.usage : ExitCode.failure;
}

/**
 * One line: `pki: <cause> (<fix>)`. Newlines inside messages are folded so the contract holds, and what is
 * left of control characters (names from requests, certificates, file names) is escaped for the terminal.
 */
export function formatErrorLine(error: Pick<PkiError, 'message' | 'hint'>): string {
  const oneLine = (s: string) => escapeControls(s.replace(/\s*\n\s*/g, ' '));
  return `pki: error: ${oneLine(error.message)}${error.hint ? ` (${oneLine(error.hint)})` : ''}`;
}

/** Raised by the CLI layer to end with a code after it has already reported (e.g. renew --all summaries). */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}
