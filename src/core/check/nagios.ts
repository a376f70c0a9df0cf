/**
 * The Nagios plugin output of `pki check --nagios` (Nagios Plugin Development Guidelines, "Plugin Output"
 * and "Performance data"): one status line `PKI <STATE> - <text> | <perfdata>`, then the objects that are
 * not OK, one per line (the plugin's long text, shown in the service's detail view).
 */
import type { CheckItem, CheckNote, CheckSummary, CheckWindows } from './states.js';

const NAGIOS_STATE = { OK: 'OK', WARN: 'WARNING', CRITICAL: 'CRITICAL', EXPIRED: 'CRITICAL' } as const;

/** At most this many long-text lines: a dashboard shows the first, the rest are one more line. */
const MAX_DETAIL_LINES = 50;

/**
 * Perfdata, one `'label'=value[UOM];[warn];[crit];[min];[max]` per count, always the same labels in the same
 * order so a graph never loses a series; counts have no thresholds of their own (the state is decided per
 * certificate), hence the empty warn and crit fields. Labels need no quotes: no spaces or `=` in them.
 */
export function nagiosPerfdata(summary: CheckSummary): string {
  const c = summary.counts;
  const fields: [string, number][] = [
    ['expired', c.expired],
    ['critical', c.critical],
    ['warn', c.warn],
    ['ok', c.ok],
    ['renewal_due', c.renewalDue],
    ['read_errors', c.readErrors],
  ];
  return fields.map(([label, value]) => `${label}=${value};;;`).join(' ');
}

/**
 * `PKI CRITICAL - 1 expired, 2 expiring within 30d | …`: the non-zero counts worst first; a CRL counts as
 * "expiring within" the window its state falls in (its own lifetime decides, docs/check.md).
 */
export function nagiosStatusLine(summary: CheckSummary, windows: Pick<CheckWindows, 'warn' | 'critical'>, failOnDue: boolean): string {
  const c = summary.counts;
  const parts: string[] = [];
  if (c.expired) parts.push(`${c.expired} expired`);
  if (c.critical) parts.push(`${c.critical} expiring within ${windows.critical}`);
  if (c.warn) parts.push(`${c.warn} expiring within ${windows.warn}`);
  if (c.renewalDue) parts.push(`${c.renewalDue} renewal due`);
  if (c.readErrors) parts.push(`${c.readErrors} unreadable`);
  const total = c.ok + c.warn + c.critical + c.expired;
  const text = parts.length ? parts.join(', ') : `${total} checked, none expiring within ${windows.warn}`;
  let state: string = NAGIOS_STATE[summary.state];
  if (state === 'OK' && failOnDue && c.renewalDue) state = 'WARNING';
  return `PKI ${state} - ${text} | ${nagiosPerfdata(summary)}`;
}

/** One long-text line per object that is not OK (or renewal due), worst first as `items` are sorted. */
export function nagiosDetailLines(items: readonly CheckItem[], notes: readonly CheckNote[]): string[] {
  const lines: string[] = [];
  for (const item of items) {
    if (item.state === 'OK' && !item.renewalDue) continue;
    const what = item.type === 'crl' ? `CRL ${item.path ?? ''}` : `${item.subject || '(no subject)'}${item.path ? ` (${item.path})` : ''}`;
    const when = item.notAfter === null ? 'no nextUpdate' : `${item.state === 'EXPIRED' ? 'expired' : 'expires'} ${item.notAfter}`;
    // A '|' would start perfdata: names come from certificates, so it is replaced.
    lines.push(`${item.state}: ${what} ${when}${item.renewalDue ? ', renewal due' : ''}`.replace(/\|/g, '/'));
  }
  for (const note of notes) if (note.readError) lines.push(`UNREADABLE: ${note.path}: ${note.message}`.replace(/\|/g, '/'));
  if (lines.length <= MAX_DETAIL_LINES) return lines;
  return [...lines.slice(0, MAX_DETAIL_LINES), `… and ${lines.length - MAX_DETAIL_LINES} more (pki check --json lists them all)`];
}
