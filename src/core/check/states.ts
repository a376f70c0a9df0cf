/**
 * `pki check` as values (issue 11, point 3): what one checked object is (a certificate from the inventory
 * or a --path file, a published CRL), its state, the summary of a run and its exit codes. Pure: the
 * operation gathers the objects, cli/commands/check.ts renders them.
 */
import { PkiError } from '../errors.js';
import { parseDuration } from '../x509/validity.js';

export type CheckState = 'OK' | 'WARN' | 'CRITICAL' | 'EXPIRED';

/** Worst first, as the table and the Nagios line rank them. */
const RANK: Readonly<Record<CheckState, number>> = { OK: 0, WARN: 1, CRITICAL: 2, EXPIRED: 3 };

export function worseState(a: CheckState, b: CheckState): CheckState {
  return RANK[a] >= RANK[b] ? a : b;
}

export interface CheckWindows {
  /** As given (`30d`), for messages and the Nagios text. */
  readonly warn: string;
  readonly critical: string;
  readonly warnMs: number;
  readonly criticalMs: number;
}

/**
 * --warn and --critical, checked: durations (ERR_INVALID_DURATION), and the CRITICAL window no longer than
 * the WARN one (ERR_USAGE: the two flags contradict each other, as check_ssl_cert refuses -c > -w). Equal
 * windows are allowed: then nothing is WARN.
 */
export function parseWindows(warn: string, critical: string): CheckWindows {
  const warnMs = parseDuration(warn);
  const criticalMs = parseDuration(critical);
  if (criticalMs > warnMs) {
    throw new PkiError('ERR_USAGE', `--critical ${critical} is longer than --warn ${warn}`, {
      hint: 'CRITICAL is the shorter window: e.g. --warn 30d --critical 7d',
    });
  }
  return { warn: warn.trim(), critical: critical.trim(), warnMs, criticalMs };
}

/** A certificate's state at `now`: EXPIRED from notAfter on (RFC 5280: valid up to and including notAfter; seconds granularity), CRITICAL/WARN within the windows. */
export function certificateState(notAfterMs: number, nowMs: number, windows: Pick<CheckWindows, 'warnMs' | 'criticalMs'>): CheckState {
  const left = notAfterMs - nowMs;
  if (left < 0) return 'EXPIRED';
  if (left <= windows.criticalMs) return 'CRITICAL';
  if (left <= windows.warnMs) return 'WARN';
  return 'OK';
}

export const DAY_MS = 86_400_000;

/**
 * A CRL's state, judged against its own lifetime (nextUpdate − thisUpdate), not --warn/--critical: WARN
 * once less than a third of it remains (the point where `renew --all` re-publishes), CRITICAL within a day
 * of nextUpdate, EXPIRED from nextUpdate on (a relying party refuses a CRL past it). A CRL without
 * nextUpdate never goes stale by its dates: OK.
 */
export function crlState(thisUpdateMs: number, nextUpdateMs: number | null, nowMs: number): CheckState {
  if (nextUpdateMs === null) return 'OK';
  const left = nextUpdateMs - nowMs;
  if (left <= 0) return 'EXPIRED';
  if (left <= DAY_MS) return 'CRITICAL';
  if (left < (nextUpdateMs - thisUpdateMs) / 3) return 'WARN';
  return 'OK';
}

/** Where a checked object came from. */
export type CheckSource = 'inventory' | 'path' | 'crl';

/** What pki found when it compared an inventory record with the file it records. */
export type FileStatus = 'same' | 'replaced' | 'missing' | 'unreadable' | 'not-recorded';

export interface CheckItem {
  readonly source: CheckSource;
  /** x509 or ssh for certificates; crl for CRLs. */
  readonly type: 'x509' | 'ssh' | 'crl';
  /** The inventory profile (root, intermediate, server, …, ssh-user, ssh-host); null for --path files and CRLs. */
  readonly profile: string | null;
  /** X.509: upper-case hex as the inventory and `pki list` write it; SSH: decimal, as ssh-keygen -L prints it; CRLs: the CRL Number or null. */
  readonly serial: string | null;
  /** RFC 4514 text (SSH: the principals); CRLs: empty. */
  readonly subject: string;
  readonly issuer: string;
  /** ISO 8601; a CRL's thisUpdate / nextUpdate (null when it has none). */
  readonly notBefore: string;
  readonly notAfter: string | null;
  readonly path: string | null;
  readonly state: CheckState;
  /** Whole seconds until notAfter (negative once past); null for a CRL without nextUpdate. */
  readonly secondsLeft: number | null;
  /** Past the renewal threshold of `renew --all` (inventory X.509 leaves); null where renewal does not apply. */
  readonly renewalDue: boolean | null;
  /** Inventory records: what the file at `path` holds compared with the record; null otherwise. */
  readonly file: FileStatus | null;
  /** Human notes: "renewal due since …", "file replaced: …". */
  readonly notes: readonly string[];
}

/** A file --path found that yields no certificate, or a CA-home file that could not be read. */
export interface CheckNote {
  readonly path: string;
  readonly message: string;
  /** Counted in x509_read_errors: unreadable or malformed (not: a key or request file, skipped). */
  readonly readError: boolean;
}

export interface CheckCounts {
  readonly ok: number;
  readonly warn: number;
  readonly critical: number;
  readonly expired: number;
  readonly renewalDue: number;
  readonly readErrors: number;
}

export interface CheckSummary {
  readonly state: CheckState;
  readonly counts: CheckCounts;
}

export function summarize(items: readonly CheckItem[], notes: readonly CheckNote[]): CheckSummary {
  const counts = { ok: 0, warn: 0, critical: 0, expired: 0, renewalDue: 0, readErrors: notes.filter((n) => n.readError).length };
  let state: CheckState = 'OK';
  for (const item of items) {
    state = worseState(state, item.state);
    if (item.state === 'OK') counts.ok++;
    else if (item.state === 'WARN') counts.warn++;
    else if (item.state === 'CRITICAL') counts.critical++;
    else counts.expired++;
    if (item.renewalDue) counts.renewalDue++;
  }
  return { state, counts };
}

/** Sorted by time left, soonest (most expired) first; a CRL without nextUpdate last; then by path and serial for a stable order. */
export function sortByTimeLeft(items: CheckItem[]): CheckItem[] {
  const left = (i: CheckItem) => i.secondsLeft ?? Number.POSITIVE_INFINITY;
  // Code-unit order for the ties, not localeCompare: 100,000 certificates share a few notAfter values.
  const text = (a: string | null, b: string | null) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
  return items.sort((a, b) => left(a) - left(b) || text(a.path, b.path) || text(a.serial, b.serial));
}

/** The exit code without --nagios: 0 all OK, 1 anything WARN or worse (or renewal due, with --fail-on-due). */
export function exitCodeOf(summary: CheckSummary, failOnDue: boolean): 0 | 1 {
  if (summary.state !== 'OK') return 1;
  return failOnDue && summary.counts.renewalDue > 0 ? 1 : 0;
}

/** The Nagios plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL (EXPIRED counts as CRITICAL); renewal due is WARNING with --fail-on-due. */
export function nagiosExitCodeOf(summary: CheckSummary, failOnDue: boolean): 0 | 1 | 2 {
  if (summary.state === 'CRITICAL' || summary.state === 'EXPIRED') return 2;
  if (summary.state === 'WARN') return 1;
  return failOnDue && summary.counts.renewalDue > 0 ? 1 : 0;
}
