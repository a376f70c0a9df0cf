/**
 * Human vs --json output. A command builds one result value; with --json it is printed as exactly one
 * JSON document on stdout, otherwise the command's human renderer formats it. Colour as NO_COLOR and
 * FORCE_COLOR say, else only on a TTY (colorEnabled).
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { escapeControls, jsonText } from './terminal-text.js';

export { escapeControls, jsonText } from './terminal-text.js';

export interface GlobalOptions {
  readonly dir: string;
  readonly json: boolean;
  readonly debug: boolean;
  readonly quiet: boolean;
  /** Go on with a warning where pki would refuse an unsafe CA home; at init, also allows --no-password. */
  readonly insecure: boolean;
}

let cachedChalk: ChalkInstance | undefined;

/**
 * Whether stdout gets colour, from the environment (docs/completion.md): NO_COLOR set and not empty turns
 * it off, even on a TTY and even with FORCE_COLOR (no-color.org: the user's "never"); else FORCE_COLOR set
 * and not empty decides ("0" or "false" off, anything else on, even in a pipe); else colour only on a TTY
 * whose TERM is not "dumb".
 */
export function colorEnabled(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  return stdoutIsTty && env.TERM !== 'dumb';
}

/** A chalk that colours as colorEnabled decides (basic 16 colours: all pki uses). */
export function colors(): ChalkInstance {
  cachedChalk ??= new Chalk({ level: colorEnabled(process.env, process.stdout.isTTY === true) ? 1 : 0 });
  return cachedChalk;
}

/** Every string inside a result (plain objects and arrays), escaped for a terminal; other values as they are. */
function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v)])) as T;
  }
  return value;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${jsonText(value, 2)}\n`);
}

/**
 * Prints a command's report: JSON with --json, else the human text. --quiet drops it: it is progress or
 * success chatter ("Wrote …", "Revoked …"); data a command exists to print goes through emitData. The one
 * output point of human results: the renderer gets the value with every string escaped (escapeControls),
 * so a name from a request or a file cannot drive the terminal, while the renderer's own colours still can.
 */
export function emit<T>(options: Pick<GlobalOptions, 'json' | 'quiet'>, value: T, human: (value: T) => string): void {
  if (options.json) {
    printJson(value);
    return;
  }
  if (options.quiet) return;
  const text = human(escapeStrings(value));
  if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Prints the data a command exists to print (`list`, `inspect`): JSON with --json, else the human text,
 * with --quiet too — quiet silences chatter, never the answer (as `git -q` and `step` behave).
 */
export function emitData<T>(options: Pick<GlobalOptions, 'json'>, value: T, human: (value: T) => string): void {
  emit({ json: options.json, quiet: false }, value, human);
}

/** A warning on stderr (not part of --json output), escaped for the terminal. */
export function warn(message: string): void {
  process.stderr.write(`pki: warning: ${escapeControls(message)}\n`);
}

/** Days between now and a date, rounded down (negative once past). */
export function daysUntil(date: Date | string, now: Date): number {
  return Math.floor((new Date(date).getTime() - now.getTime()) / 86_400_000);
}

/** `2027-02-23 14:13:19 UTC (89 days left)`, red when expired, yellow under 30 days. */
export function formatExpiry(notAfter: string, now: Date): string {
  const c = colors();
  const days = daysUntil(notAfter, now);
  const when = notAfter.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  if (days < 0) return `${when} ${c.red(`(expired ${-days} days ago)`)}`;
  if (days < 30) return `${when} ${c.yellow(`(${days} days left)`)}`;
  return `${when} (${days} days left)`;
}
