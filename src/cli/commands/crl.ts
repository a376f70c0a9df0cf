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
} from '../../store/crl-publication.js';
import { openInventory } from '../../store/inventory/index.js';
import { emit, type GlobalOptions } from '../output.js';
import { describeCrl, describeRepublication, warnRootCrlDue } from '../crl-text.js';
import { openHome } from '../home.js';
import { passphraseSource, readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';

export interface CrlOptions extends PassphraseOptions {
  readonly nextUpdate?: string;
  readonly der?: boolean;
  readonly root?: boolean;
  readonly ifDue?: boolean;
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
