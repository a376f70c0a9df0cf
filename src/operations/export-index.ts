/**
 * Exporting the inventory as OpenSSL's index.txt (`pki db export-index`), for `openssl ca` /
 * `openssl ocsp -index` tooling: the intermediate's database, i.e. the leaves it issued.
 */
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { PkiError } from '../core/errors.js';
import { formatOpensslIndex, type OpensslIndexEntry } from '../core/lifecycle/openssl-index.js';
import { fileExists, FileMode, type CaHome } from '../store/ca-home.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { openInventory } from '../store/inventory/index.js';
import { firstCertificateDer } from '../store/inventory/record.js';

export interface ExportIndexRequest {
  /** Write the index here (and `<out>.attr` beside it); without it the text is only returned. */
  readonly out?: string;
  /** Replace existing files at `out`. */
  readonly force?: boolean;
}

export interface ExportIndexResult {
  readonly entries: number;
  /** The index.txt text. */
  readonly index: string;
  /** Where it was written, or null when it was not. */
  readonly path: string | null;
}

/** The files `out` names; nothing is overwritten without `force`, and both are checked before either is written. */
export function refuseExistingIndexFiles(request: ExportIndexRequest): void {
  const targets = request.out === undefined ? [] : [request.out, `${request.out}.attr`];
  const existing = request.force ? undefined : targets.find((t) => fileExists(t));
  if (existing !== undefined) throw new PkiError('ERR_FILE_EXISTS', `${existing} already exists`, { hint: 'pass --force to replace it, or choose another --out' });
}

export async function exportOpensslIndex(home: CaHome, request: ExportIndexRequest, context: { now: Date }): Promise<ExportIndexResult> {
  refuseExistingIndexFiles(request);
  const inventory = await openInventory(home);
  let entries: OpensslIndexEntry[];
  try {
    // The intermediate's database: the leaves it issued (the CA certificates belong to the root's).
    entries = inventory
      .list({ kind: 'x509' })
      .filter((r) => r.profile !== 'root' && r.profile !== 'intermediate')
      .sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.serial.localeCompare(b.serial))
      .map((r) => ({
        serialHex: r.serial,
        notAfter: new Date(r.notAfter),
        revokedAt: r.revokedAt ? new Date(r.revokedAt) : null,
        reason: r.revocationReason,
        subjectDer: r.pem ? parseCertificate(firstCertificateDer(r.pem)).subjectDer : null,
      }));
  } finally {
    inventory.close();
  }
  const index = formatOpensslIndex(entries, context.now);
  if (request.out === undefined) return { entries: entries.length, index, path: null };
  const overwrite = request.force === true;
  writeFileAtomic(request.out, index, { mode: FileMode.public, overwrite });
  // Several valid certificates may share a subject (renewals): tell `openssl ca` not to insist on unique ones.
  writeFileAtomic(`${request.out}.attr`, 'unique_subject = no\n', { mode: FileMode.public, overwrite });
  return { entries: entries.length, index, path: request.out };
}
