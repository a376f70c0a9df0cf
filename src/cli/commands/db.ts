/**
 * `pki db rebuild` and `pki db export-index`.
 *
 * rebuild: a CA whose inventory is missing (made before it existed, or deleted) is recovered from the
 * certificates on disk — ca/*.crt, services/<service>/<variant>/certs/*.crt (the leaf, first PEM block)
 * and every path an existing inventory records — plus the revocations of the current CRL. Existing
 * records are kept; only missing serials are added.
 *
 * export-index: the inventory as OpenSSL's index.txt, for `openssl ca` / `openssl ocsp -index` tooling.
 */
import { dirname } from 'node:path';
import { certificatePublicKey, parseCertificate } from '../../core/x509/certificate-fields.js';
import { inspectCrl, verifyCrlSignature } from '../../core/inspect/crl.js';
import { formatOpensslIndex, type OpensslIndexEntry } from '../../core/lifecycle/openssl-index.js';
import { decodePem, PemLabel } from '../../core/der/pem.js';
import { normalizeSerial } from '../../core/x509/serial.js';
import { isIssuedBy } from '../../core/x509/issued-by.js';
import { PkiError } from '../../core/errors.js';
import { writeFileAtomic } from '../../store/fs/atomic-write.js';
import { serviceCertificateFiles } from '../../store/service-bundle.js';
import { fileExists, FileMode, readBytes, readText } from '../../store/ca-home.js';
import { openInventory, type NewCertificateRecord } from '../../store/inventory/index.js';
import { certificateRecord, firstCertificateDer } from '../../store/inventory/record.js';
import { describeSettled, settleBundleJournal, settleFileJournal, type SettledJournal } from '../../store/inventory/journal.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';

/** Stub records keep a CRL's revocations whose certificate is nowhere on disk: their notAfter is unknown. */
const UNKNOWN_NOT_AFTER = '9999-12-31T23:59:59.000Z';

export interface RebuildResult {
  readonly path: string;
  readonly scanned: number;
  readonly added: number;
  readonly skipped: { readonly path: string; readonly reason: string }[];
  readonly revocationsRecovered: number;
  readonly revokedWithoutCertificate: number;
  /** Inventory journals of killed runs, settled before the scan (store/inventory/journal.ts). */
  readonly journals: { readonly path: string; readonly recorded: string[]; readonly discarded: boolean }[];
}

export async function runDbRebuild(globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  home.requireInitialized();
  const intermediate = parseCertificate(home.readIntermediateCertificate().der);
  const intermediateKey = certificatePublicKey(intermediate);
  const inventory = await openInventory(home, 'create-if-missing', now);
  try {
    const recorded = inventory.list({ kind: 'x509' }).flatMap((r) => (r.certificatePath ? [r.certificatePath] : []));
    const folders = new Set<string>();
    const serviceFiles = serviceCertificateFiles(home.servicesDir, folders);
    // First the inventory journals of runs killed between switching files and recording them: they record
    // the new certificates with what they supersede, which importing the files alone would not.
    const journals: SettledJournal[] = [];
    for (const folder of new Set([...folders, ...recorded.map((p) => dirname(p))])) {
      const settled = settleBundleJournal(folder, inventory);
      if (settled) journals.push(settled);
    }
    for (const path of new Set(recorded)) {
      const settled = settleFileJournal(path, inventory);
      if (settled) journals.push(settled);
    }
    const paths = [...new Set([home.rootCertPath, home.intermediateCertPath, ...serviceFiles, ...recorded])];
    const records: NewCertificateRecord[] = [];
    const skipped: { path: string; reason: string }[] = [];
    for (const path of paths) {
      try {
        const der = firstCertificateDer(readBytes(path));
        const fields = parseCertificate(der);
        const ours =
          path === home.rootCertPath ||
          path === home.intermediateCertPath ||
          isIssuedBy(fields, intermediate);
        if (!ours) {
          skipped.push({ path, reason: 'not issued by this CA' });
          continue;
        }
        const keyPath = path.replace(/\.crt$/, '.key');
        records.push(certificateRecord(der, { certificatePath: path, keyPath: keyPath !== path && fileExists(keyPath) ? keyPath : null }));
      } catch (e) {
        skipped.push({ path, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    // Revocations: the current CRL, if it is ours (its signature verifies with the intermediate's key).
    const revocations: { serial: string; at: Date; reason: NonNullable<ReturnType<typeof inspectCrl>['revoked'][number]['reason']> }[] = [];
    if (fileExists(home.crlPath)) {
      const block = decodePem(readText(home.crlPath)).find((b) => b.label === PemLabel.crl);
      if (block && verifyCrlSignature(block.der, intermediateKey)) {
        for (const entry of inspectCrl(block.der).revoked) {
          revocations.push({ serial: normalizeSerial(entry.serial), at: new Date(entry.revokedAt), reason: entry.reason ?? 'unspecified' });
        }
      } else {
        skipped.push({ path: home.crlPath, reason: 'not a CRL signed by this CA' });
      }
    }
    const result = inventory.exclusive((): RebuildResult => {
      let added = inventory.importMissing(records);
      let recovered = 0;
      let stubs = 0;
      for (const rev of revocations) {
        let record = inventory.find('x509', rev.serial);
        if (!record) {
          // Keep the revocation even without the certificate: dropping it would un-revoke it in the next CRL.
          added += inventory.importMissing([
            {
              kind: 'x509',
              serial: rev.serial,
              subject: '',
              sans: { dns: [], ip: [], email: [], uri: [] },
              profile: 'server',
              issuer: '',
              notBefore: rev.at.toISOString(),
              notAfter: UNKNOWN_NOT_AFTER,
              fingerprintSha256: '',
              certificatePath: null,
              keyPath: null,
              pem: '',
            },
          ]);
          stubs++;
          record = inventory.find('x509', rev.serial);
        }
        if (record && record.status !== 'revoked') {
          inventory.revoke('x509', rev.serial, rev.at, rev.reason);
          recovered++;
        }
      }
      return {
        path: home.dbPath,
        scanned: paths.length,
        added,
        skipped,
        revocationsRecovered: recovered,
        revokedWithoutCertificate: stubs,
        journals: journals.map((j) => ({ path: j.journal, recorded: [...j.recorded], discarded: j.discarded })),
      };
    });
    emit(globals, result, (r) =>
      [
        `Rebuilt ${r.path}: scanned ${r.scanned} certificate files, added ${r.added} records, recovered ${r.revocationsRecovered} revocations from the CRL${r.revokedWithoutCertificate ? ` (${r.revokedWithoutCertificate} without a certificate on disk, kept as serial-only records)` : ''}.`,
        ...r.journals.map((j) => `  ${describeSettled({ journal: j.path, recorded: j.recorded, discarded: j.discarded })}`),
        ...r.skipped.map((s) => `  skipped ${s.path}: ${s.reason}`),
      ].join('\n'),
    );
  } finally {
    inventory.close();
  }
}

export interface ExportIndexOptions {
  readonly out?: string;
  readonly force?: boolean;
}

export async function runDbExportIndex(options: ExportIndexOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.out === '') throw new PkiError('ERR_USAGE', '--out needs a file name');
  // Nothing is overwritten without --force; both files are checked before either is written.
  const targets = options.out === undefined ? [] : [options.out, `${options.out}.attr`];
  const existing = options.force ? undefined : targets.find((t) => fileExists(t));
  if (existing !== undefined) throw new PkiError('ERR_FILE_EXISTS', `${existing} already exists`, { hint: 'pass --force to replace it, or choose another --out' });
  const home = openHome(globals);
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
  const text = formatOpensslIndex(entries, now);
  if (options.out === undefined) {
    if (globals.json) emit(globals, { entries: entries.length, index: text }, () => '');
    else process.stdout.write(text);
    return;
  }
  const overwrite = options.force === true;
  writeFileAtomic(options.out, text, { mode: FileMode.public, overwrite });
  // Several valid certificates may share a subject (renewals): tell `openssl ca` not to insist on unique ones.
  writeFileAtomic(`${options.out}.attr`, 'unique_subject = no\n', { mode: FileMode.public, overwrite });
  emit(globals, { path: options.out, entries: entries.length }, (r) => `Wrote ${r.entries} entries to ${r.path} (and ${r.path}.attr)`);
}
