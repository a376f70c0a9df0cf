/**
 * The history of a flat openssl CA as inventory records (`pki init --import-index index.txt`): one record
 * per index.txt line, made from the certificate itself where `openssl ca` kept it (newcerts/<serial>.pem
 * beside index.txt, or the file name the line records), else from what the line says. Revoked lines carry
 * their time and reason into the inventory, so the root's CRL lists them again. Everything is read and
 * checked before anything is written; a line that does not fit names its number.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { PkiError } from '../core/errors.js';
import { parseOpensslIndex, subjectFromOneLine, type ParsedIndexEntry } from '../core/lifecycle/openssl-index-parse.js';
import { parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { normalizeSerial } from '../core/x509/serial.js';
import type { RevocationReason } from '../core/x509/revocation-reason.js';
import { isRegularFile, readBytes, readText } from '../store/ca-home.js';
import type { Inventory, NewCertificateRecord } from '../store/inventory/index.js';
import { certificateRecord, firstCertificateDer } from '../store/inventory/record.js';

export interface ImportedHistory {
  readonly records: readonly NewCertificateRecord[];
  readonly revocations: readonly { readonly serial: string; readonly at: Date; readonly reason: RevocationReason }[];
  /** How many records were made from the certificate file, and how many from the index line alone. */
  readonly fromFiles: number;
  readonly fromIndexOnly: number;
}

/** Where openssl ca may have kept the certificate of a line: the recorded file name, else newcerts/<serial>.pem. */
function certificateFileOf(entry: ParsedIndexEntry, indexDir: string): string | null {
  const candidates = [join(indexDir, 'newcerts', `${entry.serialText}.pem`), join(indexDir, 'newcerts', `${entry.serialText.toUpperCase()}.pem`)];
  if (entry.fileName !== 'unknown' && entry.fileName !== '') candidates.unshift(isAbsolute(entry.fileName) ? entry.fileName : join(indexDir, entry.fileName));
  return candidates.find((p) => isRegularFile(p)) ?? null;
}

function lineError(entry: ParsedIndexEntry, why: string): PkiError {
  return new PkiError('ERR_MALFORMED_INDEX', `index.txt line ${entry.line} (serial ${entry.serialText}): ${why}`, {
    hint: 'import the index.txt and newcerts/ of the CA given with --import-ca, or remove that line',
  });
}

/** The record of one line: from its certificate when the file is there (checked against the line and the root). */
function recordOf(entry: ParsedIndexEntry, root: CertificateFields, indexDir: string): { record: NewCertificateRecord; fromFile: boolean } {
  const file = certificateFileOf(entry, indexDir);
  if (file) {
    let fields: CertificateFields;
    try {
      fields = parseCertificate(firstCertificateDer(readBytes(file)));
    } catch (e) {
      if (e instanceof PkiError) throw lineError(entry, `${file} is not a certificate (${e.message})`);
      throw e;
    }
    if (normalizeSerial(fields.serial) !== entry.serial) throw lineError(entry, `${file} holds serial ${normalizeSerial(fields.serial)}`);
    if (!isIssuedBy(fields, root)) throw lineError(entry, `${file} was not signed by the CA given with --import-ca`);
    // certificatePath null: the file is openssl's archive copy, not where the certificate was deployed.
    return { record: certificateRecord(fields.der, { certificatePath: null, keyPath: null }), fromFile: true };
  }
  // Only what index.txt has: no PEM, no fingerprint, no SANs; notBefore is unknown, so the root's (the
  // earliest it can have been issued); a leaf of unknown usage is recorded as `server`, as db rebuild does.
  const record: NewCertificateRecord = {
    kind: 'x509',
    serial: entry.serial,
    subject: subjectFromOneLine(entry.subject),
    sans: { dns: [], ip: [], email: [], uri: [] },
    profile: 'server',
    issuer: formatDistinguishedName(root.subjectDer),
    notBefore: root.notBefore.toISOString(),
    notAfter: entry.notAfter.toISOString(),
    fingerprintSha256: '',
    certificatePath: null,
    keyPath: null,
    pem: '',
    supersedes: null,
    keyId: null,
  };
  return { record, fromFile: false };
}

/** Reads index.txt (and the certificates it names) into records; the root's own line, if any, is skipped. */
export function readOpensslHistory(indexPath: string, root: CertificateFields): ImportedHistory {
  const entries = parseOpensslIndex(readText(indexPath));
  const indexDir = dirname(indexPath);
  const rootSerial = normalizeSerial(root.serial);
  const records: NewCertificateRecord[] = [];
  const revocations: { serial: string; at: Date; reason: RevocationReason }[] = [];
  let fromFiles = 0;
  for (const entry of entries) {
    if (entry.serial === rootSerial) continue; // `openssl ca -selfsign` lists the root itself: pki records it as the root
    const { record, fromFile } = recordOf(entry, root, indexDir);
    records.push(record);
    if (fromFile) fromFiles++;
    if (entry.revokedAt) revocations.push({ serial: entry.serial, at: entry.revokedAt, reason: entry.reason ?? 'unspecified' });
  }
  return { records, revocations, fromFiles, fromIndexOnly: records.length - fromFiles };
}

/** Records the history in one transaction: the certificates, then their revocations as index.txt dated them. */
export function recordHistory(inventory: Inventory, history: ImportedHistory): void {
  inventory.exclusive(() => {
    inventory.recordIssued(history.records);
    for (const r of history.revocations) inventory.revoke('x509', r.serial, r.at, r.reason);
  });
}
