/**
 * `pki crl`: publishes the intermediate's CRL from the inventory: every revoked, unexpired certificate,
 * the next CRL Number, thisUpdate now and nextUpdate `--next-update` (default pki.json crl.nextUpdate, 7d).
 * `--if-due` publishes only when the current one is within a third of its lifetime of nextUpdate (cron);
 * `--root` re-signs the root's CRL instead, with the root key brought back for the occasion. Either also
 * rewrites crl/chain.crl.pem (operations/publish-crl.ts, store/crl-publication.ts).
 */
import { PkiError, type PkiErrorCode } from '../../core/errors.js';
import { publishCrls } from '../../operations/publish-crl.js';
import { emit, type GlobalOptions } from '../output.js';
import { describeCrl, describeRepublication, warnRootCrlDue } from '../crl-text.js';
import { openHome, selectedCaHome } from '../home.js';
import { passphraseSource, readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';

export interface CrlOptions extends PassphraseOptions {
  readonly nextUpdate?: string;
  readonly der?: boolean;
  readonly root?: boolean;
  readonly ifDue?: boolean;
  readonly trustDomain?: string;
  readonly ca?: string;
}

export async function runCrl(options: CrlOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.root && options.ifDue) {
    throw new PkiError('ERR_USAGE', '--root and --if-due do not go together: the root CRL is re-signed by hand, with the root key brought back', {
      hint: 'run "pki crl --if-due" from cron and "pki crl --root" in the root key ceremony',
    });
  }
  if (options.root && options.der) throw new PkiError('ERR_USAGE', '--der applies to the intermediate CRL only', { hint: 'drop --der' });
  const main = openHome(globals);
  const home = selectedCaHome(main, options);
  const result = await publishCrls(
    home,
    { root: options.root === true, ifDue: options.ifDue === true, der: options.der === true, ...(options.nextUpdate !== undefined ? { nextUpdate: options.nextUpdate } : {}) },
    { now, passphrase: passphraseSource(options), rootPassphrase: () => readExistingPassphrase(options, 'root CA key') },
  );
  if (result.kind === 'root') {
    // A root key on a token stays there: nothing to move.
    emit(globals, result.crl, (c) => (result.rootKeyPath.startsWith('pkcs11:') ? describeCrl(c) : `${describeCrl(c)}\nThe root key is no longer needed: move ${result.rootKeyPath} offline again.`));
  } else if (result.kind === 'if-due') {
    // The further CAs' CRLs (`pki ca add`, trust domains) ride along: one line each that was published.
    emit(globals, { ...result.republication, others: result.others }, (r) =>
      [describeRepublication(r), ...r.others.filter((o) => o.status === 'published').map((o) => describeRepublication(o))].join('\n'),
    );
    const failed = result.others.find((o) => o.status === 'failed' && o.error);
    if (failed) throw new PkiError(failed.error!.code as PkiErrorCode, `the CRL of ${failed.trustDomain ? `trust domain ${failed.trustDomain}` : `CA ${failed.ca}`} is due but was not re-published: ${failed.error!.message}`, failed.error!.hint ? { hint: failed.error!.hint } : {});
    warnRootCrlDue(result.republication.root);
  } else {
    emit(globals, result.crl, describeCrl);
  }
}
