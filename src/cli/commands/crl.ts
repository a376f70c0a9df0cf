/**
 * `pki crl`: publishes the intermediate's CRL from the inventory: every revoked, unexpired certificate,
 * the next CRL Number, thisUpdate now and nextUpdate `--next-update` (default pki.json crl.nextUpdate, 7d).
 */
import { parseDuration } from '../../core/validity.js';
import type { PkiConfig } from '../../store/config.js';
import { publishCrl, type PublishedCrl } from '../../store/crl-publication.js';
import { openInventory } from '../../store/inventory/index.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';

export interface CrlOptions extends PassphraseOptions {
  readonly nextUpdate?: string;
  readonly der?: boolean;
}

/** The CRL lifetime: the flag, else pki.json, else 7 days. */
export function crlLifetimeMs(config: PkiConfig, flag?: string): number {
  return parseDuration(flag ?? config.crl?.nextUpdate ?? '7d');
}

export function describeCrl(crl: PublishedCrl): string {
  return `Published CRL #${crl.crlNumber} with ${crl.entries} revoked certificate${crl.entries === 1 ? '' : 's'} to ${crl.path}${crl.derPath ? ` (and ${crl.derPath})` : ''}; next update by ${crl.nextUpdate}`;
}

export async function runCrl(options: CrlOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  const config = home.readConfig();
  const nextUpdateMs = crlLifetimeMs(config, options.nextUpdate);
  const inventory = await openInventory(home);
  try {
    const issuer = await home.loadIssuer(passphraseSource(options), now, inventory);
    const crl = inventory.exclusive(() => publishCrl(home, inventory, issuer, { now, nextUpdateMs, der: options.der === true }));
    emit(globals, crl, describeCrl);
  } finally {
    inventory.close();
  }
}
