/**
 * The error contract of the command line: error → one line on stderr (cause, then fix) and an exit
 * code. 2 for usage errors, 1 for every refusal or failure. Only this module decides exit codes.
 */
import type { PkiError, PkiErrorCode } from '../core/errors.js';
import { escapeControls } from './terminal-text.js';

export const ExitCode = { ok: 0, failure: 1, usage: 2, nagiosUnknown: 3 } as const;

/**
 * `pki check --nagios` follows the Nagios plugin contract even when it fails: every error (usage, an
 * unreadable CA home, a bug) is UNKNOWN, exit 3, with a `PKI UNKNOWN - <cause>` status line on stdout, where
 * Nagios reads the plugin's answer. Detected from argv before commander runs, as --json is, so a usage
 * error commander raises itself is covered too.
 */
export function isNagiosMode(args: readonly string[]): boolean {
  return args.includes('--nagios') && args.includes('check');
}

export function nagiosUnknownLine(message: string): string {
  return `PKI UNKNOWN - ${escapeControls(message.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '/'))}`;
}

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

/**
 * What a command reports on stderr after its own output, in order, before it ends with a code (renew --all:
 * each failed certificate, the summary, a failed --exec, the root CRL warning, a CRL not re-published).
 * cli/main.ts writes them: it is the one place `pki: error:` lines are written.
 */
export type ReportLine = { readonly error: Pick<PkiError, 'message' | 'hint'> } | { readonly warning: string };

/** Raised by the CLI layer to end with a code once its output is written (the JSON document, if any, included). */
export class ExitError extends Error {
  readonly exitCode: number;
  readonly lines: readonly ReportLine[];
  constructor(exitCode: number, lines: readonly ReportLine[] = []) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
    this.lines = lines;
  }
}
