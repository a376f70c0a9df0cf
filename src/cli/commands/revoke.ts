/**
 * `pki revoke <serial | cert-file>`: marks a certificate revoked in the inventory and re-publishes the CRL
 * in the same inventory transaction (operations/revoke.ts), so a revocation is never recorded without its
 * CRL (or vice versa).
 */
import { revokeCertificate } from '../../operations/revoke.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { passphraseSource, readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';
import { describeCrl } from '../crl-text.js';

export interface RevokeOptions extends PassphraseOptions {
  readonly reason?: string;
}

export async function runRevoke(target: string, options: RevokeOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  const revoked = await revokeCertificate(
    home,
    { target, ...(options.reason !== undefined ? { reason: options.reason } : {}) },
    { now, passphrase: passphraseSource(options), rootPassphrase: () => readExistingPassphrase(options, 'root CA key'), onWarning: warn },
  );
  // The --json shape of both kinds: what was revoked and the CRL that now lists it (null: the root's CRL is still to be signed).
  const { serial, subject, revokedAt, reason } = revoked;
  if (revoked.kind === 'intermediate') {
    emit(globals, { serial, subject, revokedAt, reason, crl: revoked.crl, role: revoked.role }, (r) =>
      [
        `Revoked the intermediate CA ${r.serial} (${r.subject}), reason ${r.reason}. pki will not issue or publish CRLs with it again; ${
          revoked.role.retired
            ? 'it had been retired by "pki ca rotate": the current intermediate keeps issuing, and renew re-issues what the revoked one signed.'
            : revoked.role.ca !== 'default'
              ? `issue from another CA (--ca), or add a new one with "pki ca add".`
              : 'replace the CA with "pki init --force" and redeploy its root.'
        }`,
        r.crl ? describeCrl(r.crl) : `The root CRL still lists it as valid: bring the root key back to ${revoked.rootKeyPath}, run "pki crl --root", then move the key offline again.`,
      ].join('\n'),
    );
    return;
  }
  if (revoked.kind === 'root-issued') {
    // A leaf of an imported CA: the root signed it, so the root's CRL is the one clients check for it.
    emit(globals, { serial, subject, revokedAt, reason, crl: revoked.crl }, (r) =>
      [
        `Revoked ${r.serial} (${r.subject}), reason ${r.reason}; the root CA issued it, so the root's CRL lists it.`,
        r.crl ? describeCrl(r.crl) : `The root CRL still lists it as valid: bring the root key back to ${revoked.rootKeyPath}, run "pki crl --root", then move the key offline again.`,
      ].join('\n'),
    );
    return;
  }
  emit(globals, { serial, subject, revokedAt, reason, crl: revoked.crl }, (r) => `Revoked ${r.serial} (${r.subject}), reason ${r.reason}.\n${describeCrl(r.crl)}`);
}
