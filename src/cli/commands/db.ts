/**
 * `pki db rebuild` (operations/rebuild.ts: the inventory recovered from the certificates on disk and the
 * current CRL) and `pki db export-index` (operations/export-index.ts: the inventory as OpenSSL's index.txt).
 */
import { PkiError } from '../../core/errors.js';
import { exportOpensslIndex, refuseExistingIndexFiles, type ExportIndexRequest } from '../../operations/export-index.js';
import { rebuildInventory } from '../../operations/rebuild.js';
import { describeSettled } from '../../store/inventory/journal.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';

export async function runDbRebuild(globals: GlobalOptions, now = new Date()): Promise<void> {
  const result = await rebuildInventory(openHome(globals), { now });
  emit(globals, result, (r) =>
    [
      `Rebuilt ${r.path}: scanned ${r.scanned} certificate files, added ${r.added} records, recovered ${r.revocationsRecovered} revocations from the CRL${r.revokedWithoutCertificate ? ` (${r.revokedWithoutCertificate} without a certificate on disk, kept as serial-only records)` : ''}.`,
      ...r.journals.map((j) => `  ${describeSettled({ journal: j.path, recorded: j.recorded, discarded: j.discarded })}`),
      ...r.skipped.map((s) => `  skipped ${s.path}: ${s.reason}`),
    ].join('\n'),
  );
}

export interface ExportIndexOptions {
  readonly out?: string;
  readonly force?: boolean;
}

export async function runDbExportIndex(options: ExportIndexOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.out === '') throw new PkiError('ERR_USAGE', '--out needs a file name');
  const request: ExportIndexRequest = { ...(options.out !== undefined ? { out: options.out } : {}), force: options.force === true };
  // Refused before the CA home is even opened, as a flag error (the operation checks again before writing).
  refuseExistingIndexFiles(request);
  const result = await exportOpensslIndex(openHome(globals), request, { now });
  if (result.path === null) {
    if (globals.json) emit(globals, { entries: result.entries, index: result.index }, () => '');
    else process.stdout.write(result.index);
    return;
  }
  emit(globals, { path: result.path, entries: result.entries }, (r) => `Wrote ${r.entries} entries to ${r.path} (and ${r.path}.attr)`);
}
