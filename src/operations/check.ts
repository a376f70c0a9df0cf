/**
 * `pki check` (issue 11, point 3): every valid certificate of the inventory (compared with the file it
 * records), the valid SSH certificates not yet expired, the published CRLs and the --path files, judged
 * at `now`; optionally the Prometheus textfile, written atomically. docs/check.md is the contract.
 */
import { crlCheckFields } from '../core/check/crl-fields.js';
import { prometheusTextfilePieces } from '../core/check/prometheus.js';
import {
  certificateState,
  crlState,
  sortByTimeLeft,
  summarize,
  type CheckItem,
  type CheckNote,
  type CheckSummary,
  type CheckWindows,
  type FileStatus,
} from '../core/check/states.js';
import { isPkiError, PkiError } from '../core/errors.js';
import { DEFAULT_RENEWAL_POLICY, isRenewalDue, renewalDueAt } from '../core/lifecycle/renewal.js';
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { certificatesInFile, crlsInFile } from '../core/x509/certificate-file.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { activeRetired } from '../store/retired-ca.js';
import type { CaHome } from '../store/ca-home.js';
import { collectPathFiles, compareRecordedFile, readPathFile } from '../store/certificate-files.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { openInventory, type CheckRecord } from '../store/inventory/index.js';

export interface CheckRequest {
  /** --path files and folders. */
  readonly paths: readonly string[];
  readonly windows: CheckWindows;
  /** --prometheus: where to write the textfile. */
  readonly prometheus?: string | null;
}

export interface CheckReport {
  readonly checkedAt: string;
  /** Sorted by time left, soonest first. */
  readonly items: CheckItem[];
  readonly notes: CheckNote[];
  readonly summary: CheckSummary;
  /** The textfile written, when asked for. */
  readonly prometheus: string | null;
}

const LEAF_PROFILES = new Set(['server', 'client', 'peer']);
const secondsLeft = (notAfter: string, now: Date) => Math.floor((Date.parse(notAfter) - now.getTime()) / 1000);

/** An X.509 certificate read from a file (a --path file, or what replaced a recorded one). */
function fileCertificateItem(der: Uint8Array, path: string, windows: CheckWindows, now: Date, notes: string[] = []): CheckItem {
  const fields = parseCertificate(der);
  const notAfter = fields.notAfter.toISOString();
  return {
    source: 'path',
    type: 'x509',
    profile: null,
    serial: normalizeSerial(fields.serial),
    subject: formatDistinguishedName(fields.subjectDer),
    issuer: formatDistinguishedName(fields.issuerDer),
    notBefore: fields.notBefore.toISOString(),
    notAfter,
    path,
    state: certificateState(fields.notAfter.getTime(), now.getTime(), windows),
    secondsLeft: secondsLeft(notAfter, now),
    renewalDue: null,
    file: null,
    notes,
  };
}

/** Renewal due as `renew --all` decides it: leaves past the threshold, and every leaf of a replaced CA. */
function renewalOf(record: CheckRecord, now: Date): { due: boolean | null; note: string | null } {
  if (record.kind !== 'x509' || !LEAF_PROFILES.has(record.profile)) return { due: null, note: null };
  if (record.previousCa) return { due: true, note: 'issued by a replaced CA: renewal due (pki renew --all re-issues it)' };
  const validity = { notBefore: new Date(record.notBefore), notAfter: new Date(record.notAfter) };
  if (!isRenewalDue(validity, now, DEFAULT_RENEWAL_POLICY)) return { due: false, note: null };
  return { due: true, note: `renewal due since ${renewalDueAt(validity, DEFAULT_RENEWAL_POLICY).toISOString()}` };
}

/** X.509 serials stay hex (as `pki list` shows them), SSH serials become decimal (as ssh-keygen -L shows them). */
const shownSerial = (record: CheckRecord) => (record.kind === 'ssh' ? BigInt(`0x${record.serial}`).toString(10) : record.serial);

/**
 * The item of one inventory record, and for a replaced file the certificate it holds now (monitored too:
 * it is what the service presents).
 */
function inventoryItems(record: CheckRecord, windows: CheckWindows, now: Date, into: CheckItem[]): void {
  const notes: string[] = [];
  const renewal = renewalOf(record, now);
  if (renewal.note) notes.push(renewal.note);
  let file: FileStatus | null = record.certificatePath === null ? 'not-recorded' : null;
  // The replacing file's certificate goes after the record's item; appended directly (no array per record).
  const extra: CheckItem[] = [];
  if (record.certificatePath !== null && record.kind === 'x509') {
    const onDisk = compareRecordedFile(record.certificatePath, record.fingerprintSha256);
    file = onDisk.status;
    if (onDisk.status === 'missing') notes.push(`file missing: ${record.certificatePath} no longer exists (deleted or moved)`);
    else if (onDisk.status === 'unreadable') notes.push(`file unreadable: ${record.certificatePath}: ${onDisk.message}`);
    else if (onDisk.status === 'replaced') notes.push(replacedNote(record, onDisk.der, windows, now, extra));
  }
  const item: CheckItem = {
    source: 'inventory',
    type: record.kind,
    profile: record.profile,
    serial: shownSerial(record),
    subject: record.subject,
    issuer: record.issuer,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    path: record.certificatePath,
    state: certificateState(Date.parse(record.notAfter), now.getTime(), windows),
    secondsLeft: secondsLeft(record.notAfter, now),
    renewalDue: renewal.due,
    file,
    notes,
  };
  into.push(item);
  if (extra.length > 0) into.push(...extra);
}

function replacedNote(record: CheckRecord, der: Uint8Array | null, windows: CheckWindows, now: Date, extra: CheckItem[]): string {
  if (der === null) return `file replaced: ${record.certificatePath} no longer holds a certificate`;
  try {
    const found = fileCertificateItem(der, record.certificatePath!, windows, now, [`in place of serial ${record.serial}, which the inventory records here`]);
    extra.push(found);
    return `file replaced: ${record.certificatePath} holds serial ${found.serial} (${found.subject || 'no subject'}, expires ${found.notAfter}), not this certificate`;
  } catch {
    return `file replaced: ${record.certificatePath} no longer holds a readable certificate`;
  }
}

/**
 * The CA home's published CRLs: the intermediate's (leaves) and the root's (the intermediates), and since
 * issue 14 each `pki ca add` CA's, each trust domain's two, and those retired intermediates still sign.
 */
function crlPaths(home: CaHome, now: Date): string[] {
  const { cas, domains } = issuingHomes(home);
  return [
    ...cas.map((ca) => ca.crlPath),
    `${home.crlDir}/root_ca.crl`,
    ...domains.flatMap((d) => [d.crlPath, `${d.crlDir}/root_ca.crl`]),
    ...[...cas, ...domains].flatMap((ca) => activeRetired(ca, now).map((r) => r.crlPath)),
  ];
}

/** The homes of every issuing CA: the default intermediate and the added ones, and each trust domain's. */
function issuingHomes(home: CaHome): { cas: CaHome[]; domains: CaHome[] } {
  return { cas: [home, ...home.issuingCaNames().map((n) => home.issuingCaHome(n))], domains: home.trustDomainNames().map((d) => home.trustDomain(d)) };
}

/**
 * The intermediates `pki ca rotate` retired that have not expired: they still sign the CRL of what they
 * issued, so their certificates (no longer valid records of the inventory) are watched beside the new ones.
 */
function retiredItems(home: CaHome, windows: CheckWindows, now: Date): CheckItem[] {
  const { cas, domains } = issuingHomes(home);
  return [...cas, ...domains].flatMap((ca) =>
    activeRetired(ca, now).map((r) => ({ ...fileCertificateItem(r.certificate.der, r.certPath, windows, now, [`retired intermediate (pki ca rotate): signs ${r.crlPath} until it expires`]), profile: 'intermediate' })),
  );
}

function crlItems(home: CaHome, now: Date, notes: CheckNote[]): CheckItem[] {
  const items: CheckItem[] = [];
  for (const path of crlPaths(home, now)) {
    const read = readPathFile(path);
    if ('error' in read) {
      notes.push({ path, message: `no CRL published here (${read.error}): relying parties that check revocation will fail; run "pki crl"`, readError: false });
      continue;
    }
    try {
      const fields = crlCheckFields(crlsInFile(read.bytes, path)[0]!);
      const nextUpdate = fields.nextUpdate?.toISOString() ?? null;
      items.push({
        source: 'crl',
        type: 'crl',
        profile: null,
        serial: fields.number === null ? null : fields.number.toString(10),
        subject: '',
        issuer: fields.issuer,
        notBefore: fields.thisUpdate.toISOString(),
        notAfter: nextUpdate,
        path,
        state: crlState(fields.thisUpdate.getTime(), fields.nextUpdate?.getTime() ?? null, now.getTime()),
        secondsLeft: nextUpdate === null ? null : secondsLeft(nextUpdate, now),
        renewalDue: null,
        file: null,
        notes: nextUpdate === null ? ['the CRL has no nextUpdate'] : [],
      });
    } catch (e) {
      notes.push({ path, message: `not a readable CRL: ${isPkiError(e) ? e.message : String(e)}`, readError: true });
    }
  }
  return items;
}

/**
 * The --path files. A file named on the command line must hold a certificate (its error is the command's,
 * exit 1); a file found in a walked folder that does not is a note: a key or request is skipped quietly
 * (readError false), an unreadable or malformed one counts in x509_read_errors.
 */
function pathItems(paths: readonly string[], windows: CheckWindows, now: Date, notes: CheckNote[], recorded: Set<string>): CheckItem[] {
  const { files, unreadable } = collectPathFiles(paths);
  for (const u of unreadable) notes.push({ ...u, readError: true });
  const items: CheckItem[] = [];
  for (const { path, explicit } of files) {
    const read = readPathFile(path);
    if ('error' in read) {
      if (explicit) throw new PkiError('ERR_IO', `cannot read --path ${path}: ${read.error.replace('cannot read it: ', '')}`, { hint: 'check the file and its permissions' });
      notes.push({ path, message: read.error, readError: true });
      continue;
    }
    try {
      for (const der of certificatesInFile(read.bytes, path)) {
        const item = fileCertificateItem(der, path, windows, now);
        if (!recorded.has(`${path}\n${item.serial}`)) items.push(item);
      }
    } catch (e) {
      if (explicit) throw e;
      const message = isPkiError(e) ? e.message.replace(`${path} `, '') : String(e);
      notes.push({ path, message, readError: !isPkiError(e, 'ERR_UNKNOWN_OBJECT') });
    }
  }
  return items;
}

/** onProgress: told after each inventory record is judged (the CLI's progress line). */
export async function checkCertificates(home: CaHome, request: CheckRequest, context: { now: Date; onProgress?: (done: number, total: number) => void }): Promise<CheckReport> {
  const { now } = context;
  const { windows } = request;
  const notes: CheckNote[] = [];
  const inventory = await openInventory(home);
  let records: CheckRecord[];
  try {
    records = inventory.listForCheck(now);
  } finally {
    inventory.close();
  }
  const items: CheckItem[] = [];
  for (const [i, record] of records.entries()) {
    inventoryItems(record, windows, now, items);
    context.onProgress?.(i + 1, records.length);
  }
  items.push(...crlItems(home, now, notes), ...retiredItems(home, windows, now));
  if (request.paths.length > 0) {
    // Built only for --path: 100,000 keys cost a tenth of a second the plain run does not need.
    const recorded = new Set(items.filter((i) => i.path !== null).map((i) => `${i.path}\n${i.serial}`));
    items.push(...pathItems(request.paths, windows, now, notes, recorded));
  }
  sortByTimeLeft(items);
  const summary = summarize(items, notes);
  if (request.prometheus) writeFileAtomic(request.prometheus, prometheusTextfilePieces(items, notes, now), { mode: 0o644, overwrite: true });
  return { checkedAt: now.toISOString(), items, notes, summary, prometheus: request.prometheus ?? null };
}
