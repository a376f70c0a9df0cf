/**
 * The one-line verdict of path validation, as `pki verify` and `pki inspect --tls` print it:
 * `OK: <leaf> — chain <leaf> ← <intermediate> ← <root> (valid until …)` or
 * `invalid: <subject of the failing certificate>: <cause> (<hint>)`.
 */
import type { PathValidationResult } from '../core/verify/types.js';
import { colors } from './output.js';

/** `2026-10-01T00:00:00Z` → `2026-10-01 00:00:00 UTC`. */
const utc = (time: string) => time.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');

export function verdictLine(result: PathValidationResult): string {
  const c = colors();
  if (result.valid) {
    const leaf = result.chain[0];
    // The path stops validating when its first certificate expires.
    const until = result.chain.map((e) => e.notAfter).sort()[0];
    return `${c.green('OK')}: ${leaf?.subject ?? ''} — chain ${result.chain.map((e) => e.subject).join(' ← ')}${until ? ` (valid until ${utc(until)})` : ''}`;
  }
  const e = result.error;
  if (!e) return `${c.red('invalid')}: no verdict`;
  return `${c.red('invalid')}: ${e.certificate}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
}
