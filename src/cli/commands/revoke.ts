/**
 * `pki revoke <serial | cert-file>`: marks a certificate revoked in the inventory and re-publishes the CRL
 * in the same inventory transaction, so a revocation is never recorded without its CRL (or vice versa).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { parseCertificate } from '../../core/x509/certificate-fields.js';
import { PkiError } from '../../core/errors.js';
import { parseRevocationReason } from '../../core/x509/revocation-reason.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import { fileExists, isRegularFile, readBytes } from '../../store/ca-home.js';
import { crlLifetimeMs, loadRootIssuer, publishCrl, publishRootCrl, rootCrlLifetimeMs } from '../../store/crl-publication.js';
import { crashPoint } from '../../store/fs/fault-injection.js';
import { openInventory } from '../../store/inventory/index.js';
import { firstCertificateDer } from '../../store/inventory/record.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { describeSettled, settleBundleJournal, settleFileJournal } from '../../store/inventory/journal.js';
import { versionedEntry } from '../../store/fs/versioned-folder.js';
import { passphraseSource, readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';
import { describeCrl } from '../crl-text.js';

export interface RevokeOptions extends PassphraseOptions {
  readonly reason?: string;
}

/** The serial to revoke (and the file's fingerprint when a certificate file was given). */
function resolveTarget(target: string): { serial: string; fingerprint: string | null } {
  if (isRegularFile(target)) {
    const der = firstCertificateDer(readBytes(target));
    const fields = parseCertificate(der);
    return { serial: normalizeSerial(fields.serial), fingerprint: createHash('sha256').update(der).digest('hex').toUpperCase() };
  }
  try {
    return { serial: normalizeSerial(target), fingerprint: null };
  } catch (e) {
    if (e instanceof PkiError) {
      throw new PkiError('ERR_INVALID_SERIAL', `"${target}" is neither a certificate file nor a hexadecimal serial number`, {
        hint: 'give the serial as `pki list` or `openssl x509 -serial` prints it, or the path of the certificate',
      });
    }
    throw e;
  }
}

export async function runRevoke(target: string, options: RevokeOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  const config = home.readConfig();
  const reason = parseRevocationReason(options.reason ?? 'unspecified');
  const nextUpdateMs = crlLifetimeMs(config);
  const { serial, fingerprint } = resolveTarget(target);
  const inventory = await openInventory(home);
  try {
    // Refusals before the passphrase and before any write; revoke() checks again under the lock.
    let record = inventory.find('x509', serial);
    if (!record && fingerprint !== null) {
      // A file that a generate/renew killed between switching it in and recording it: its journal records it.
      const entry = versionedEntry(target);
      const settled = entry ? settleBundleJournal(entry.folder, inventory) : settleFileJournal(resolve(target), inventory);
      if (settled?.recorded.length) {
        warn(describeSettled(settled));
        record = inventory.find('x509', serial);
      }
    }
    if (!record || (fingerprint !== null && record.fingerprintSha256 !== fingerprint)) {
      throw new PkiError('ERR_UNKNOWN_SERIAL', `no certificate with serial ${serial} was issued by this CA`, {
        hint: 'check the serial with "pki list --all"; certificates issued before the inventory existed come back with "pki db rebuild"',
      });
    }
    if (record.status === 'revoked') {
      throw new PkiError('ERR_ALREADY_REVOKED', `certificate ${serial} (${record.subject}) was already revoked on ${record.revokedAt} (${record.revocationReason})`);
    }
    if (record.profile === 'root') {
      throw new PkiError('ERR_POLICY', `${serial} is the root CA certificate; a root is not revoked, it is removed from the trust stores`, {
        hint: 'replace a compromised CA with "pki init --force" and redeploy its root',
      });
    }
    if (record.profile === 'intermediate') {
      // From now on every command that would sign with it refuses (CaHome#loadIssuer). Its own CRL cannot
      // revoke it; the root's CRL does. With the root key in the CA home it is re-signed in the same
      // transaction (the root passphrase is asked first, so a wrong one records nothing); without it, the
      // operator brings the key back and runs `pki crl --root` (docs/configuration.md, "The root CRL").
      const root = fileExists(home.rootKeyPath) ? await loadRootIssuer(home, () => readExistingPassphrase(options, 'root CA key'), now) : null;
      const { revoked, crl } = inventory.exclusive(() => {
        const revoked = inventory.revoke('x509', serial, now, reason);
        crashPoint('revoke:recorded');
        return { revoked, crl: root ? publishRootCrl(home, inventory, root, { now, nextUpdateMs: rootCrlLifetimeMs(config) }) : null };
      });
      const result = { serial, subject: revoked.subject, revokedAt: revoked.revokedAt, reason, crl };
      emit(globals, result, (r) =>
        [
          `Revoked the intermediate CA ${r.serial} (${r.subject}), reason ${r.reason}. pki will not issue or publish CRLs with it again; replace the CA with "pki init --force" and redeploy its root.`,
          r.crl ? describeCrl(r.crl) : `The root CRL still lists it as valid: bring the root key back to ${home.rootKeyPath}, run "pki crl --root", then move the key offline again.`,
        ].join('\n'),
      );
      return;
    }
    const issuer = await home.loadIssuer(passphraseSource(options), now, inventory);
    // Steps a kill may interrupt (test/store/revoke-crash.test.ts): the revocation is one transaction with the
    // CRL write, so a kill before the commit leaves neither recorded; one after the CRL file is replaced but
    // before the commit leaves a CRL that lists the certificate while the inventory does not: the next
    // `pki crl` (or revoke) publishes from the inventory again, and they agree.
    const { revoked, crl } = inventory.exclusive(() => {
      const revoked = inventory.revoke('x509', serial, now, reason);
      crashPoint('revoke:recorded');
      const crl = publishCrl(home, inventory, issuer, { now, nextUpdateMs, der: false });
      crashPoint('revoke:crl-published');
      return { revoked, crl };
    });
    crashPoint('revoke:committed');
    const result = { serial, subject: revoked.subject, revokedAt: revoked.revokedAt, reason, crl };
    emit(globals, result, (r) => `Revoked ${r.serial} (${r.subject}), reason ${r.reason}.\n${describeCrl(r.crl)}`);
  } finally {
    inventory.close();
  }
}
