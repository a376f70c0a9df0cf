/**
 * The one-line verdict of path validation, as `pki verify` and `pki inspect --tls` print it:
 * `OK: <leaf subject> — chain <leaf> ← <intermediate> ← <root> (valid until <leaf notAfter>)` or
 * `invalid: <subject of the failing certificate>: <cause> (<hint>)`. Times are RFC 3339, as in the causes.
 */
import type { PathValidationResult } from '../core/verify/types.js';

/** `names`: a short name per chain entry (core/verify/chain-names.ts); the subjects when absent. */
export function verdictLine(result: Pick<PathValidationResult, 'valid' | 'chain' | 'error'>, names?: readonly string[]): string {
  if (result.valid && result.chain.length > 0) {
    const leaf = result.chain[0]!;
    return `OK: ${leaf.subject} — chain ${(names ?? result.chain.map((e) => e.subject)).join(' ← ')} (valid until ${leaf.notAfter})`;
  }
  const error = result.error;
  if (!error) return `invalid: ${result.chain[0]?.subject ?? 'the certificate'}: no valid path was found`;
  return `invalid: ${error.certificate}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
}
