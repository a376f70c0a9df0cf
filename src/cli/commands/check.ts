/**
 * `pki check`: expiry monitoring for cron, Nagios and Prometheus (issue 11, docs/check.md). A table sorted by
 * time left (or --json, or the Nagios status line), and the exit code: 0 all OK, 1 anything WARN or worse;
 * with --nagios 0/1/2 (and 3 UNKNOWN, decided in cli/main.ts for errors).
 */
import { nagiosDetailLines, nagiosStatusLine } from '../../core/check/nagios.js';
import { exitCodeOf, nagiosExitCodeOf, parseWindows, type CheckItem, type CheckWindows } from '../../core/check/states.js';
import { PkiError } from '../../core/errors.js';
import { checkCertificates, type CheckReport } from '../../operations/check.js';
import { ExitError } from '../errors.js';
import { openHome } from '../home.js';
import { colors, emitData, escapeControls, printJson, type GlobalOptions } from '../output.js';
import { withProgress } from '../progress.js';

export interface CheckOptions {
  readonly path: string[];
  readonly warn: string;
  readonly critical: string;
  readonly nagios?: boolean;
  readonly prometheus?: string;
  readonly failOnDue?: boolean;
}

/** `59d`, `20h`, `-1d`: whole days from one day on, hours (then minutes) below. */
export function formatTimeLeft(seconds: number | null): string {
  if (seconds === null) return '-';
  const abs = Math.abs(seconds);
  const sign = seconds < 0 ? '-' : '';
  if (abs >= 86_400) return `${sign}${Math.floor(abs / 86_400)}d`;
  if (abs >= 3_600) return `${sign}${Math.floor(abs / 3_600)}h`;
  return `${sign}${Math.floor(abs / 60)}m`;
}

function what(item: CheckItem): string {
  if (item.type === 'crl') return 'crl';
  if (item.source === 'path') return 'file';
  return item.type === 'ssh' ? item.profile ?? 'ssh' : item.profile ?? 'x509';
}

function renderTable(report: CheckReport): string {
  const c = colors();
  const header = ['STATE', 'LEFT', 'NOT AFTER', 'KIND', 'SUBJECT', 'PATH', 'NOTE'];
  const rows = report.items.map((i) => [
    i.state,
    formatTimeLeft(i.secondsLeft),
    i.notAfter === null ? '(none)' : i.notAfter.replace(/\.\d+Z$/, 'Z'),
    what(i),
    i.type === 'crl' ? `CRL of ${i.issuer}` : i.subject || '(no subject)',
    i.path ?? '(not written to a file)',
    i.notes.join('; '),
  ]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
  const line = (row: string[]) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ').trimEnd();
  const paint = (state: string, text: string) => (state === 'OK' ? text : state === 'WARN' ? c.yellow(text) : c.red(text));
  const lines = report.items.length === 0 ? ['Nothing to check.'] : [c.bold(line(header)), ...rows.map((r) => paint(r[0]!, line(r)))];
  for (const note of report.notes) lines.push(`note: ${note.path}: ${note.message}`);
  const n = report.summary.counts;
  lines.push(`${report.items.length} checked: ${n.expired} expired, ${n.critical} critical, ${n.warn} warn, ${n.ok} ok; ${n.renewalDue} renewal due${n.readErrors ? `; ${n.readErrors} unreadable` : ''}`);
  if (report.prometheus) lines.push(`Wrote ${report.prometheus}`);
  return lines.join('\n');
}

function jsonDocument(report: CheckReport, windows: CheckWindows, exitCode: number) {
  return {
    checkedAt: report.checkedAt,
    state: report.summary.state,
    exitCode,
    windows: { warn: windows.warn, critical: windows.critical, warnSeconds: windows.warnMs / 1000, criticalSeconds: windows.criticalMs / 1000 },
    counts: report.summary.counts,
    items: report.items,
    notes: report.notes,
    prometheus: report.prometheus,
  };
}

export async function runCheck(options: CheckOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.nagios && globals.json) throw new PkiError('ERR_USAGE', '--nagios and --json are two different outputs', { hint: 'give one of them' });
  const windows = parseWindows(options.warn, options.critical);
  const home = openHome(globals);
  const request = { paths: options.path, windows, prometheus: options.prometheus ?? null };
  // --nagios is read by a monitoring system, never a person: no progress line even on a terminal.
  const report = await withProgress('checking', { json: globals.json || options.nagios === true, quiet: globals.quiet }, {}, (progress) => checkCertificates(home, request, { now, onProgress: progress.update }));
  const failOnDue = options.failOnDue === true;
  if (options.nagios) {
    const lines = [nagiosStatusLine(report.summary, windows, failOnDue), ...nagiosDetailLines(report.items, report.notes)];
    process.stdout.write(`${lines.map((l) => escapeControls(l)).join('\n')}\n`);
    const code = nagiosExitCodeOf(report.summary, failOnDue);
    if (code !== 0) throw new ExitError(code);
    return;
  }
  const code = exitCodeOf(report.summary, failOnDue);
  if (globals.json) printJson(jsonDocument(report, windows, code));
  else if (!globals.quiet) emitData(globals, report, renderTable);
  if (code !== 0) throw new ExitError(code);
}
