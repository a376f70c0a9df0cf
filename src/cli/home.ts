/**
 * Opening the CA home from a command: the one place that hands `--insecure` and the warning printer to
 * CaHome.open, so every command checks the home the same way (store/home-check.ts).
 */
import { CaHome, type HomeFolder } from '../store/ca-home.js';
import { warn, type GlobalOptions } from './output.js';
import { issuingCaRef } from '../store/issuing-ca.js';

/**
 * The home named by --dir / PKI_DIR, checked. `narrows`: the folders this command (re)creates with its own
 * mode (init: ca/, db/, crl/), whose too-wide mode is fixed when written instead of refused.
 */
export function openHome(globals: Pick<GlobalOptions, 'dir' | 'insecure'>, narrows: readonly HomeFolder[] = []): CaHome {
  const paths = new CaHome(globals.dir);
  return CaHome.open(globals.dir, { insecure: globals.insecure, warn, narrows: narrows.map((f) => paths.folderPath(f)) });
}

/**
 * The home of the CA `--ca NAME` / `--trust-domain NAME` select (store/issuing-ca.ts): the default
 * intermediate without either, refused in one line when both are given or a name is not a valid one.
 */
export function selectedCaHome(main: CaHome, options: { readonly ca?: string; readonly trustDomain?: string }): CaHome {
  return main.homeOf(issuingCaRef({ ca: options.ca ?? null, trustDomain: options.trustDomain ?? null }));
}
