/**
 * Rebuilding the inventory (`pki db rebuild`): a CA whose inventory is missing (made before it existed, or
 * deleted) is recovered from the certificates on disk — ca/*.crt, services/<service>/<variant>/certs/*.crt
 * (the leaf, first PEM block) and every path an existing inventory records — plus the revocations of the
 * current CRLs. Existing records are kept; only missing serials are added. Every issuing CA counts (issue
 * 14): the default intermediate, each `pki ca add` CA and each trust domain's, and the intermediates `pki ca
 * rotate` retired; a record gets the `ca` / `trustDomain` of the CA whose key signed it.
 */
import { dirname } from 'node:path';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { inspectCrl, verifyCrlSignature } from '../core/inspect/crl.js';
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import type { RevocationReason } from '../core/x509/revocation-reason.js';
import { fileExists, readBytes, readText, type CaHome } from '../store/ca-home.js';
import { serviceCertificateFiles } from '../store/service-bundle.js';
import { openInventory, type Inventory, type NewCertificateRecord } from '../store/inventory/index.js';
import { certificateRecord, firstCertificateDer } from '../store/inventory/record.js';
import { settleBundleJournal, settleFileJournal, type SettledJournal } from '../store/inventory/journal.js';
import { listRetired } from '../store/retired-ca.js';

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

interface Revocation {
  readonly serial: string;
  readonly at: Date;
  readonly reason: RevocationReason;
  /** The CA whose CRL listed it (CaHome#recordColumns): a stub goes back on that CRL. */
  readonly columns: { trustDomain?: string; ca?: string };
}

/**
 * The inventory journals of runs killed between switching files and recording them, settled first: they
 * record the new certificates with what they supersede, which importing the files alone would not.
 */
function settleJournals(inventory: Inventory, bundleFolders: ReadonlySet<string>, recorded: readonly string[]): SettledJournal[] {
  const journals: SettledJournal[] = [];
  for (const folder of new Set([...bundleFolders, ...recorded.map((p) => dirname(p))])) {
    const settled = settleBundleJournal(folder, inventory);
    if (settled) journals.push(settled);
  }
  for (const path of new Set(recorded)) {
    const settled = settleFileJournal(path, inventory);
    if (settled) journals.push(settled);
  }
  return journals;
}

/** One issuing CA as the rebuild sees it: its home, its certificates (current and retired), its own CA files. */
interface RebuildIssuer {
  readonly home: CaHome;
  readonly signers: readonly CertificateFields[];
  readonly caFiles: readonly string[];
}

/** Every CA of the home: the default intermediate, the `pki ca add` ones and each trust domain's. */
function rebuildIssuers(home: CaHome): RebuildIssuer[] {
  const homes = [home, ...home.issuingCaNames().map((n) => home.issuingCaHome(n)), ...home.trustDomainNames().map((d) => home.trustDomain(d))];
  return homes.map((h) => ({
    home: h,
    signers: [parseCertificate(h.readIntermediateCertificate().der), ...listRetired(h).map((r) => r.certificate)],
    caFiles: h.issuingCaName ? [h.intermediateCertPath] : [h.rootCertPath, h.intermediateCertPath],
  }));
}

/** A record for each certificate file of a CA here (the CAs' own, and what their intermediates issued); the others skipped, saying why. */
function certificateRecords(paths: readonly string[], issuers: readonly RebuildIssuer[], skipped: { path: string; reason: string }[]): NewCertificateRecord[] {
  const records: NewCertificateRecord[] = [];
  for (const path of paths) {
    try {
      const der = firstCertificateDer(readBytes(path));
      const fields = parseCertificate(der);
      const issuer = issuers.find((i) => i.caFiles.includes(path) || i.signers.some((s) => isIssuedBy(fields, s)));
      if (!issuer) {
        skipped.push({ path, reason: 'not issued by this CA' });
        continue;
      }
      const keyPath = path.replace(/\.crt$/, '.key');
      records.push(certificateRecord(der, { certificatePath: path, keyPath: keyPath !== path && fileExists(keyPath) ? keyPath : null, ...issuer.home.recordColumns }));
    } catch (e) {
      skipped.push({ path, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return records;
}

/** The revocations of a CA's current CRL, if it is its own (its signature verifies with the intermediate's key). */
function crlRevocations(issuer: RebuildIssuer, skipped: { path: string; reason: string }[]): Revocation[] {
  const { home } = issuer;
  if (!fileExists(home.crlPath)) return [];
  const block = findPemBlock(readText(home.crlPath), PemLabel.crl);
  if (!block || !verifyCrlSignature(block.der, certificatePublicKey(issuer.signers[0]!))) {
    skipped.push({ path: home.crlPath, reason: 'not a CRL signed by this CA' });
    return [];
  }
  return inspectCrl(block.der).revoked.map((entry) => ({ serial: normalizeSerial(entry.serial), at: new Date(entry.revokedAt), reason: entry.reason ?? 'unspecified', columns: home.recordColumns }));
}

/** A serial-only record for a revocation whose certificate is nowhere on disk. */
function revocationStub(rev: Revocation): NewCertificateRecord {
  return {
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
    ...rev.columns,
  };
}

/** Records the CRL's revocations; call inside `inventory.exclusive`. */
function recordRevocations(inventory: Inventory, revocations: readonly Revocation[]): { added: number; recovered: number; stubs: number } {
  let added = 0;
  let recovered = 0;
  let stubs = 0;
  for (const rev of revocations) {
    let record = inventory.find('x509', rev.serial);
    if (!record) {
      // Keep the revocation even without the certificate: dropping it would un-revoke it in the next CRL.
      added += inventory.importMissing([revocationStub(rev)]);
      stubs++;
      record = inventory.find('x509', rev.serial);
    }
    if (record && record.status !== 'revoked') {
      inventory.revoke('x509', rev.serial, rev.at, rev.reason);
      recovered++;
    }
  }
  return { added, recovered, stubs };
}

export async function rebuildInventory(home: CaHome, context: { now: Date }): Promise<RebuildResult> {
  home.requireInitialized();
  const issuers = rebuildIssuers(home);
  const inventory = await openInventory(home, 'create-if-missing', context.now);
  try {
    const recorded = inventory.list({ kind: 'x509' }).flatMap((r) => (r.certificatePath ? [r.certificatePath] : []));
    const folders = new Set<string>();
    const serviceFiles = serviceCertificateFiles(home.servicesDir, folders);
    const journals = settleJournals(inventory, folders, recorded);
    const paths = [...new Set([...issuers.flatMap((i) => i.caFiles), ...serviceFiles, ...recorded])];
    const skipped: { path: string; reason: string }[] = [];
    const records = certificateRecords(paths, issuers, skipped);
    const revocations = issuers.flatMap((i) => crlRevocations(i, skipped));
    return inventory.exclusive((): RebuildResult => {
      const imported = inventory.importMissing(records);
      const { added, recovered, stubs } = recordRevocations(inventory, revocations);
      return {
        path: home.dbPath,
        scanned: paths.length,
        added: imported + added,
        skipped,
        revocationsRecovered: recovered,
        revokedWithoutCertificate: stubs,
        journals: journals.map((j) => ({ path: j.journal, recorded: [...j.recorded], discarded: j.discarded })),
      };
    });
  } finally {
    inventory.close();
  }
}
