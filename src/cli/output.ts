/**
 * Human vs --json output. A command builds one result value; with --json it is printed as exactly one
 * JSON document on stdout, otherwise the command's human renderer formats it. Colour only on a TTY and
 * never with NO_COLOR (no-color.org).
 */
import { Chalk, type ChalkInstance } from 'chalk';

export interface GlobalOptions {
  readonly dir: string;
  readonly json: boolean;
  readonly debug: boolean;
  readonly quiet: boolean;
  /** Go on with a warning where pki would refuse an unsafe CA home; at init, also allows --no-password. */
  readonly insecure: boolean;
}

let cachedChalk: ChalkInstance | undefined;

/** A chalk that colours only when stdout is a TTY and NO_COLOR is unset. */
export function colors(): ChalkInstance {
  if (!cachedChalk) {
    const enabled = process.stdout.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
    cachedChalk = new Chalk({ level: enabled ? 1 : 0 });
  }
  return cachedChalk;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints the result: JSON with --json, else the human text (nothing with --quiet). */
export function emit<T>(options: Pick<GlobalOptions, 'json' | 'quiet'>, value: T, human: (value: T) => string): void {
  if (options.json) {
    printJson(value);
    return;
  }
  if (options.quiet) return;
  const text = human(value);
  if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A warning on stderr (not part of --json output). */
export function warn(message: string): void {
  process.stderr.write(`pki: warning: ${message}\n`);
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
