/**
 * `pki renew --all`: every due leaf certificate the inventory lists, made for cron — one failing
 * certificate does not stop the others, a recorded file that is gone is reported (and with `prune` no
 * longer tracked), and the intermediate's CRL is kept from expiring.
 */
import { isPkiError } from '../core/errors.js';
import { isRenewalDue, renewalDueAt } from '../core/lifecycle/renewal.js';
import { isLeafProfileName } from '../core/x509/profiles.js';
import type { CaHome } from '../store/ca-home.js';
import { republishCrlForRenewal, republishOtherCrls, type CrlRepublication, type OtherCrlRepublication } from './publish-crl.js';
import { fileExists } from '../store/fs/read-file.js';
import type { CertificateSummary } from '../store/inventory/index.js';
import { renewInSession } from './renew-certificate.js';
import { openRenewSession, type FailedOutcome, type MissingOutcome, type RenewContext, type RenewOutcome, type RenewSession, type RenewSettings } from './renew-session.js';

export interface RenewAllRequest extends RenewSettings {
  /** Stop tracking certificates whose file is gone (marked superseded), instead of only reporting them. */
  readonly prune?: boolean;
  /**
   * Every certificate becomes an outcome (--json). When false (and neither force nor prune), the
   * inventory decides in SQL what may be due and the not-due ones are only counted: 100,000 of them
   * are never turned into objects.
   */
  readonly listNotDue?: boolean;
  /** Told after each certificate the run goes through (the CLI's progress line). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface RenewAllResult {
  readonly renewed: number;
  /** Not due (listed or only counted) and skipped. */
  readonly skipped: number;
  readonly failed: number;
  /** Recorded files that are gone (with prune, now marked superseded and never reported again). */
  readonly missing: number;
  /** Every certificate the run looked at: `certificates` and the not-due ones only counted. */
  readonly considered: number;
  /** What happened to each certificate listed; without listNotDue the not-due ones are left out. */
  readonly certificates: readonly RenewOutcome[];
  /** Whether the intermediate's CRL was due and re-published (operations/publish-crl.ts). */
  readonly crl: CrlRepublication;
  /** The same for each further CA: `pki ca add` CAs and trust domains (issue 14). */
  readonly otherCrls: readonly OtherCrlRepublication[];
  /** What the run tells the operator on the side, in order. */
  readonly warnings: readonly string[];
}

/** Renews every due certificate; throws only what stops the whole run (no CA, an unreadable inventory). */
export async function renewAll(home: CaHome, request: RenewAllRequest, context: RenewContext): Promise<RenewAllResult> {
  const session = await openRenewSession(home, request, context);
  try {
    const fast = !request.listNotDue && !request.force && !request.prune;
    const progress = request.onProgress ?? (() => {});
    const listed = (fast && (await renewCandidates(session, progress))) || (await renewEvery(session, request.prune === true, progress));
    // The cron entry point also keeps the intermediate's CRL from expiring (operations/publish-crl.ts).
    const crl = await republishCrlForRenewal(home, session.inventory, { now: session.now, config: session.config, loadIssuer: session.issuer });
    const otherCrls = await republishOtherCrls(home, session.inventory, { now: session.now, config: session.config, passphrase: session.passphrase });
    const outcomes = listed.outcomes;
    const count = (s: RenewOutcome['status']) => outcomes.filter((o) => o.status === s).length;
    return {
      renewed: count('renewed'),
      skipped: count('skipped') + listed.notDueUnlisted,
      failed: count('failed'),
      missing: count('missing'),
      considered: outcomes.length + listed.notDueUnlisted,
      certificates: outcomes,
      crl,
      otherCrls,
      warnings: session.warnings,
    };
  } finally {
    session.inventory.close();
  }
}

interface Listed {
  readonly outcomes: RenewOutcome[];
  /** Not due, counted but not in `outcomes`. */
  readonly notDueUnlisted: number;
}

/** The SQL-answered candidates; null when two records share a path (renewEvery sorts those out). */
async function renewCandidates(session: RenewSession, progress: (done: number, total: number) => void): Promise<Listed | null> {
  const { now, settings } = session;
  const candidates = session.inventory.renewalCandidates(now, settings.policy);
  if (candidates.sharedPaths) return null;
  const outcomes: RenewOutcome[] = [];
  for (const [i, record] of candidates.candidates.entries()) {
    progress(i, candidates.candidates.length);
    if (!record.previousCa && !isRenewalDue({ notBefore: new Date(record.notBefore), notAfter: new Date(record.notAfter) }, now, settings.policy)) continue;
    outcomes.push(await renewListed(session, record, false));
  }
  return { outcomes, notDueUnlisted: candidates.total - outcomes.length };
}

/** Every valid leaf, one per file path, each renewed or reported as not due (or, with prune, missing). */
async function renewEvery(session: RenewSession, prune: boolean, progress: (done: number, total: number) => void): Promise<Listed> {
  const outcomes: RenewOutcome[] = [];
  const all = batch(session);
  for (const [i, { record, due }] of all.entries()) {
    progress(i, all.length);
    if (due) {
      outcomes.push(await renewListed(session, record, prune));
      continue;
    }
    const missing = prune ? missingFile(session, record, prune) : null;
    if (missing) {
      outcomes.push(missing);
      continue;
    }
    const dueAt = renewalDueAt({ notBefore: new Date(record.notBefore), notAfter: new Date(record.notAfter) }, session.settings.policy);
    outcomes.push({ path: record.certificatePath ?? `(serial ${record.serial})`, status: 'skipped', serial: record.serial, reason: 'not due', dueAt: dueAt.toISOString() });
  }
  return { outcomes, notDueUnlisted: 0 };
}

/**
 * The certificates `--all` reports on: every valid leaf in the inventory, one per file path. Those not
 * due (and not forced) are reported as not due without reading their files, so a cron run over many
 * certificates touches only the due ones.
 */
function batch(session: RenewSession): { record: CertificateSummary; due: boolean }[] {
  const { inventory, now, settings } = session;
  const seen = new Set<string>();
  const out: { record: CertificateSummary; due: boolean }[] = [];
  const previous = inventory.previousCaSerials(); // a replaced CA's certificates are due whatever their dates
  // One pass over summaries (no PEM, answered from an index), judged by the same rule renewInSession applies:
  // reading 100,000 full records took seconds. renewInSession reads the full record of the due ones.
  for (const r of inventory.listSummaries({ kind: 'x509', status: 'valid' })) {
    if (r.kind !== 'x509' || !isLeafProfileName(r.profile)) continue;
    const key = r.certificatePath ?? `serial:${r.serial}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const due = settings.force === true || previous.has(r.serial) || isRenewalDue({ notBefore: new Date(r.notBefore), notAfter: new Date(r.notAfter) }, now, settings.policy);
    out.push({ record: r, due });
  }
  return out;
}

/**
 * A recorded file that no longer exists (through the bundle links): reported as `missing`, and with
 * prune its record is marked superseded so later runs stop naming it. Null when the file is there.
 */
function missingFile(session: RenewSession, record: CertificateSummary, prune: boolean): MissingOutcome | null {
  if (record.certificatePath === null || fileExists(record.certificatePath)) return null;
  if (prune) session.inventory.retire('x509', [record.serial]);
  return { path: record.certificatePath, status: 'missing', serial: record.serial, pruned: prune };
}

/** One listed, due certificate: renewed, or the reason it was not. */
async function renewListed(session: RenewSession, record: CertificateSummary, prune: boolean): Promise<RenewOutcome> {
  if (record.certificatePath === null) {
    return { path: `(serial ${record.serial})`, status: 'skipped', serial: record.serial, reason: 'printed to stdout at issue; no file to renew', dueAt: null };
  }
  const missing = missingFile(session, record, prune);
  if (missing) return missing;
  try {
    return await renewInSession(session, record.certificatePath, record.keyPath ?? undefined, undefined, true);
  } catch (e) {
    return failure(record.certificatePath, record.serial, e);
  }
}

function failure(path: string, serial: string | null, e: unknown): FailedOutcome {
  const error = isPkiError(e)
    ? { code: e.code, message: e.message, hint: e.hint ?? null }
    : { code: 'ERR_INTERNAL' as const, message: `internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (this is a bug)`, hint: null };
  return { path, status: 'failed', serial, error };
}
