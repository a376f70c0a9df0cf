/**
 * The CA a `pki init --force` replaced (issue 9, point 6). Before the new CA's files are written, the old
 * intermediate and root certificates are archived as `ca/previous/<fingerprint>/` (certificates only: the
 * old keys are gone with the old CA), and the old CA's valid leaf records are carried into the new
 * inventory marked with that fingerprint (SqliteInventory#carryOverPreviousCa). `pki renew` recognises a
 * certificate of a previous CA only through this archive — signed, by signature, by an archived
 * intermediate — and then re-issues it under the current CA whether it is due or not, and gives its bundle
 * the current `ca.crt`. A certificate that neither the current intermediate nor an archived one signed is
 * not a previous CA's: this module never vouches for it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { sha256Fingerprint } from '../core/x509/fingerprint.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import { writeFileAtomic } from './fs/atomic-write.js';
import { ensureFolder, FileMode, fileExists, readText, type CaHome } from './ca-home.js';

export const PREVIOUS_CA_FOLDER = 'previous';

/** An archived intermediate of a replaced CA, found to have signed a certificate. */
export interface PreviousCa {
  /** SHA-256 of the archived intermediate certificate (upper-case hex), its folder name under ca/previous/. */
  readonly fingerprint: string;
  readonly intermediatePath: string;
}

export function previousCaFolder(home: CaHome): string {
  return join(home.caDir, PREVIOUS_CA_FOLDER);
}

function certificateFromPem(pem: string): CertificateFields {
  const block = findPemBlock(pem, PemLabel.certificate);
  if (!block) throw new Error('no certificate');
  return parseCertificate(block.der);
}

/**
 * `pki init --force`, before anything is replaced: copies the current intermediate and root certificates to
 * ca/previous/<fingerprint>/ and returns the fingerprint; null when there is no intermediate to archive.
 */
export function archiveCurrentCa(home: CaHome): string | null {
  if (!fileExists(home.intermediateCertPath)) return null;
  const { pem, der } = home.readIntermediateCertificate();
  const fingerprint = sha256Fingerprint(der);
  const folder = join(previousCaFolder(home), fingerprint);
  ensureFolder(folder, FileMode.privateFolder);
  writeFileAtomic(join(folder, 'intermediate_ca.crt'), pem, { mode: FileMode.public, overwrite: true });
  if (fileExists(home.rootCertPath)) writeFileAtomic(join(folder, 'root_ca.crt'), home.readRootCertificatePem(), { mode: FileMode.public, overwrite: true });
  return fingerprint;
}

/**
 * The replaced CA that issued `certificate`, or null: null when the current intermediate signed it, or
 * when no archived intermediate did (then it is no certificate of this CA home's, past or present). This is
 * the one place renewal accepts a certificate the current intermediate did not sign.
 */
export function findPreviousIssuer(home: CaHome, certificate: CertificateFields, current: CertificateFields): PreviousCa | null {
  if (isIssuedBy(certificate, current)) return null;
  let names: string[];
  try {
    names = readdirSync(previousCaFolder(home)).sort();
  } catch {
    return null;
  }
  for (const fingerprint of names) {
    const intermediatePath = join(previousCaFolder(home), fingerprint, 'intermediate_ca.crt');
    let archived: CertificateFields;
    try {
      archived = certificateFromPem(readText(intermediatePath));
    } catch {
      continue;
    }
    if (isIssuedBy(certificate, archived)) return { fingerprint, intermediatePath };
  }
  return null;
}
