/** The text a CRL publication prints, shared by `pki crl`, `pki revoke` and `pki renew --all`. */
import type { CrlDueness, CrlRepublication, PublishedCrl } from '../operations/publish-crl.js';
import { warn } from './output.js';

export function describeCrl(crl: PublishedCrl): string {
  const also = [crl.derPath, crl.chainPath].filter((p): p is string => p !== null);
  return `Published CRL #${crl.crlNumber} with ${crl.entries} revoked certificate${crl.entries === 1 ? '' : 's'} to ${crl.path}${also.length ? ` (and ${also.join(', ')})` : ''}; next update by ${crl.nextUpdate}`;
}

/** One line for a cron run's CRL step (renew --all, crl --if-due). */
export function describeRepublication(r: CrlRepublication): string {
  if (r.status === 'published' && r.crl) return `${describeCrl(r.crl)} (it was ${r.dueness.reason === 'due' ? 'due' : r.dueness.reason})`;
  if (r.status === 'failed') return `CRL not re-published: ${r.error?.message ?? 'failed'}`;
  return `CRL not due: ${r.dueness.path} is valid until ${r.dueness.nextUpdate ?? '(no nextUpdate)'}, due from ${r.dueness.dueAt ?? '-'}; nothing changed.`;
}

/** The warning a cron run prints while the root's CRL needs the root key (it is never signed unattended). */
export function rootCrlDueWarning(root: CrlDueness | null): string | null {
  if (!root?.due) return null;
  return `the root CRL ${root.path} is ${root.reason === 'expired' ? 'EXPIRED' : 'due'} (next update ${root.nextUpdate ?? 'unknown'}): bring the root key back, run "pki crl --root", then move the key offline again`;
}

export function warnRootCrlDue(root: CrlDueness | null): void {
  const warning = rootCrlDueWarning(root);
  if (warning !== null) warn(warning);
}
