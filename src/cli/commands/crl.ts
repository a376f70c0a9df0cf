/**
 * `pki crl`: publishes the intermediate's CRL from the inventory: every revoked, unexpired certificate,
 * the next CRL Number, thisUpdate now and nextUpdate `--next-update` (default pki.json crl.nextUpdate, 7d).
 * `--if-due` publishes only when the current one is within a third of its lifetime of nextUpdate (cron);
 * `--root` re-signs the root's CRL instead, with the root key brought back for the occasion. Either also
 * rewrites crl/chain.crl.pem (store/crl-publication.ts).
 */
import { PkiError } from '../../core/errors.js';
import {
  crlLifetimeMs,
  loadRootIssuer,
  publishCrl,
  publishCrlIfDue,
  publishRootCrl,
  rootCrlLifetimeMs,
  type CrlDueness,
  type CrlRepublication,
  type PublishedCrl,
} from '../../store/crl-publication.js';
import { openInventory } from '../../store/inventory/index.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { passphraseSource, readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';

export { crlLifetimeMs };

export interface CrlOptions extends PassphraseOptions {
  readonly nextUpdate?: string;
  readonly der?: boolean;
  readonly root?: boolean;
  readonly ifDue?: boolean;
}

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
export function warnRootCrlDue(root: CrlDueness | null): void {
  if (root?.due) {
    warn(`the root CRL ${root.path} is ${root.reason === 'expired' ? 'EXPIRED' : 'due'} (next update ${root.nextUpdate ?? 'unknown'}): bring the root key back, run "pki crl --root", then move the key offline again`);
  }
}

export async function runCrl(options: CrlOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.root && options.ifDue) {
    throw new PkiError('ERR_USAGE', '--root and --if-due do not go together: the root CRL is re-signed by hand, with the root key brought back', {
      hint: 'run "pki crl --if-due" from cron and "pki crl --root" in the root key ceremony',
    });
  }
  if (options.root && options.der) throw new PkiError('ERR_USAGE', '--der applies to the intermediate CRL only', { hint: 'drop --der' });
  const home = openHome(globals);
  const config = home.readConfig();
  const nextUpdateMs = options.root ? rootCrlLifetimeMs(config, options.nextUpdate) : crlLifetimeMs(config, options.nextUpdate);
  const inventory = await openInventory(home);
  try {
    if (options.root) {
      const root = await loadRootIssuer(home, () => readExistingPassphrase(options, 'root CA key'), now);
      const crl = inventory.exclusive(() => publishRootCrl(home, inventory, root, { now, nextUpdateMs }));
      emit(globals, crl, (c) => `${describeCrl(c)}\nThe root key is no longer needed: move ${home.rootKeyPath} offline again.`);
      return;
    }
    if (options.ifDue) {
      const result = await publishCrlIfDue(home, inventory, { now, nextUpdateMs, loadIssuer: () => home.loadIssuer(passphraseSource(options), now, inventory) });
      emit(globals, result, describeRepublication);
      warnRootCrlDue(result.root);
      return;
    }
    const issuer = await home.loadIssuer(passphraseSource(options), now, inventory);
    const crl = inventory.exclusive(() => publishCrl(home, inventory, issuer, { now, nextUpdateMs, der: options.der === true }));
    emit(globals, crl, describeCrl);
  } finally {
    inventory.close();
  }
}
