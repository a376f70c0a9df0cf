/**
 * `pki revoke <serial | cert-file>`: marks a certificate revoked in the inventory and re-publishes the CRL
 * in the same inventory transaction, so a revocation is never recorded without its CRL (or vice versa).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { parseCertificate } from '../../core/certificate-fields.js';
import { PkiError } from '../../core/errors.js';
import { parseRevocationReason } from '../../core/revocation-reason.js';
import { normalizeSerial } from '../../core/serial.js';
import { CaHome, readBytes } from '../../store/ca-home.js';
import { publishCrl } from '../../store/crl-publication.js';
import { openInventory } from '../../store/inventory/index.js';
import { firstCertificateDer } from '../../store/inventory/record.js';
import { emit, type GlobalOptions } from '../output.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';
import { crlLifetimeMs, describeCrl } from './crl.js';

export interface RevokeOptions extends PassphraseOptions {
  readonly reason?: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The serial to revoke (and the file's fingerprint when a certificate file was given). */
function resolveTarget(target: string): { serial: string; fingerprint: string | null } {
  if (isFile(target)) {
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
  const home = new CaHome(globals.dir);
  const config = home.readConfig();
  const reason = parseRevocationReason(options.reason ?? 'unspecified');
  const nextUpdateMs = crlLifetimeMs(config);
  const { serial, fingerprint } = resolveTarget(target);
  const inventory = await openInventory(home);
  try {
    // Refusals before the passphrase and before any write; revoke() checks again under the lock.
    const record = inventory.find('x509', serial);
    if (!record || (fingerprint !== null && record.fingerprintSha256 !== fingerprint)) {
      throw new PkiError('ERR_UNKNOWN_SERIAL', `no certificate with serial ${serial} was issued by this CA`, {
        hint: 'check the serial with "pki list --all"; certificates issued before the inventory existed come back with "pki db rebuild"',
      });
    }
    if (record.status === 'revoked') {
      throw new PkiError('ERR_ALREADY_REVOKED', `certificate ${serial} (${record.subject}) was already revoked on ${record.revokedAt} (${record.revocationReason})`);
    }
    if (record.profile === 'root' || record.profile === 'intermediate') {
      throw new PkiError('ERR_POLICY', `${serial} is the ${record.profile} CA certificate; the intermediate's CRL lists only the certificates it issued`, {
        hint: 'replace a compromised CA with "pki init --force"',
      });
    }
    const issuer = await home.loadIssuer(passphraseSource(options), now);
    const { revoked, crl } = inventory.exclusive(() => ({
      revoked: inventory.revoke('x509', serial, now, reason),
      crl: publishCrl(home, inventory, issuer, { now, nextUpdateMs, der: false }),
    }));
    const result = { serial, subject: revoked.subject, revokedAt: revoked.revokedAt, reason, crl };
    emit(globals, result, (r) => `Revoked ${r.serial} (${r.subject}), reason ${r.reason}.\n${describeCrl(r.crl)}`);
  } finally {
    inventory.close();
  }
}
