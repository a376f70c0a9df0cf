/**
 * `pki renew <cert-file> [<key-file>]` and `pki renew --all`: re-issue leaf certificates that are due, in
 * place, with the same subject, SANs and profile (operations/renew-certificate.ts, operations/renew-all.ts).
 * Made for cron: quiet when nothing is due, no prompt when a passphrase source exists, one failing
 * certificate does not stop the others, and `--exec` reloads the service once after the batch.
 */
import { spawnSync } from 'node:child_process';
import { PkiError } from '../../core/errors.js';
import { DEFAULT_RENEWAL_THRESHOLD, validateThreshold, type RenewalPolicy } from '../../core/lifecycle/renewal.js';
import { parseDuration, parseTimeSpec } from '../../core/x509/validity.js';
import type { CrlRepublication, OtherCrlRepublication } from '../../operations/publish-crl.js';
import { renewAll } from '../../operations/renew-all.js';
import { DEFAULT_CA_NAME, issuingCaRef } from '../../store/issuing-ca.js';
import { renewCertificate } from '../../operations/renew-certificate.js';
import type { FailedOutcome, RenewContext, RenewOutcome, RenewSettings } from '../../operations/renew-session.js';
import { childEnvironment } from '../child-environment.js';
import { describeRepublication, rootCrlDueWarning } from '../crl-text.js';
import { ExitError, type ReportLine } from '../errors.js';
import { openHome } from '../home.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';
import { withProgress } from '../progress.js';

export interface RenewOptions extends PassphraseOptions {
  readonly all?: boolean;
  /** Only what this issuing CA / trust domain issued. */
  readonly ca?: string;
  readonly trustDomain?: string;
  readonly rekey?: boolean;
  readonly force?: boolean;
  readonly threshold?: string;
  readonly expiresIn?: string;
  readonly notAfter?: string;
  readonly exec?: string;
  /** With --all: stop tracking certificates whose file is gone (marked superseded), instead of only reporting them. */
  readonly prune?: boolean;
  /** Names to add to the certificate (repeatable); a name it lacks makes it due. */
  readonly san?: string[];
  /** Switch the certificate to this pki.json profile (renews even when not due). */
  readonly profile?: string;
  /** Keep running and renew each watched certificate when due (cli/renew-daemon.ts). */
  readonly daemon?: boolean;
  /** With --daemon: renew against pki serve over mutual TLS; --roots: what its certificate must chain to. */
  readonly caUrl?: string;
  readonly roots?: string;
}

/** The report `--json` prints (key order is the contract) and the human text is rendered from. */
export interface RenewReport {
  readonly renewed: number;
  readonly skipped: number;
  readonly failed: number;
  /** `--all`: recorded files that are gone (with --prune, now marked superseded and never reported again). */
  readonly missing: number;
  /** With --json (or --force, or a file argument) every certificate; otherwise the not-due are only counted in `skipped`. */
  readonly certificates: readonly RenewOutcome[];
  readonly exec: { readonly command: string; readonly exitCode: number | null; readonly signal: string | null; readonly ok: boolean } | null;
  /** --all: whether the intermediate's CRL was due and re-published (null for a single file). */
  readonly crl: CrlRepublication | null;
  /** --all: the CRLs of the further CAs (`pki ca add`, trust domains), each re-published when due. */
  readonly otherCrls: readonly OtherCrlRepublication[];
}

/** What either operation did, before --exec runs. */
interface RenewRun {
  readonly certificates: readonly RenewOutcome[];
  readonly skipped: number;
  /** Certificates looked at, listed or only counted (the "N of M failed" line). */
  readonly considered: number;
  readonly crl: CrlRepublication | null;
  /** --all: the CRLs of the further CAs (`pki ca add`, trust domains), each re-published when due. */
  readonly otherCrls: readonly OtherCrlRepublication[];
}

/** When a certificate is due, from --threshold or --expires-in (checked before anything is read). */
function renewalPolicy(options: RenewOptions): RenewalPolicy {
  if (options.threshold !== undefined && options.expiresIn !== undefined) {
    throw new PkiError('ERR_USAGE', '--threshold and --expires-in both say when a certificate is due; give one');
  }
  if (options.expiresIn !== undefined) return { expiresWithinMs: parseDuration(options.expiresIn) };
  if (options.threshold !== undefined) {
    if (!/^\d*\.?\d+$/.test(options.threshold.trim())) {
      throw new PkiError('ERR_INVALID_OPTION', `--threshold "${options.threshold}" is not a number`, { hint: 'use a fraction such as 0.66' });
    }
    return { threshold: validateThreshold(Number(options.threshold)) };
  }
  return { threshold: DEFAULT_RENEWAL_THRESHOLD };
}

/** Flag combinations that make no sense together, refused (exit 2) before anything is read. */
function checkFlagCombinations(certFile: string | undefined, options: RenewOptions): void {
  if (options.all && certFile !== undefined) {
    throw new PkiError('ERR_USAGE', '--all renews what the inventory lists; it takes no file argument', { hint: 'drop the file, or drop --all' });
  }
  if (options.all && options.san?.length) {
    throw new PkiError('ERR_USAGE', '--san adds names to one certificate; it does not go with --all', { hint: 'pki renew certs/redis.crt --san cache.internal' });
  }
  if (options.all && options.profile !== undefined) {
    throw new PkiError('ERR_USAGE', '--profile switches one certificate; it does not go with --all', { hint: 'pki renew certs/web.crt --profile NAME' });
  }
  if (options.prune && !options.all) {
    throw new PkiError('ERR_USAGE', '--prune goes with --all: it stops tracking recorded files that are gone', { hint: 'pki renew --all --prune' });
  }
  if (!options.all && certFile === undefined) {
    throw new PkiError('ERR_USAGE', 'name the certificate to renew, or pass --all', { hint: 'pki renew certs/redis.crt, or pki renew --all from cron' });
  }
}

function runExec(command: string, json: boolean): NonNullable<RenewReport['exec']> {
  // Through sh -c so quoting works as in a shell; with --json its output goes to stderr to keep stdout one document.
  // Without pki's own variables (PKI_PASSWORD …): the reload command must not see the CA passphrase.
  const r = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', json ? 2 : 'inherit', 'inherit'], env: childEnvironment() });
  return { command, exitCode: r.status, signal: r.signal, ok: r.status === 0 && !r.error };
}

function renderHuman(report: RenewReport, all: boolean, quiet: boolean): string {
  const lines: string[] = [];
  for (const c of report.certificates) {
    if (c.status === 'renewed') {
      lines.push(
        `Renewed ${c.path}: serial ${c.serial} → ${c.newSerial}, valid until ${c.notAfter.slice(0, 10)}${c.rekeyed ? ', new key' : ''}${c.previousCa ? ', re-issued under the new CA' : ''}${c.trustAnchorReplaced ? ', new ca.crt' : ''}`,
      );
    } else if (c.status === 'skipped' && !quiet && !all) {
      lines.push(c.dueAt ? `Not due: ${c.path} (serial ${c.serial}) is due from ${c.dueAt.slice(0, 19).replace('T', ' ')} UTC; nothing changed.` : `Skipped ${c.path}: ${c.reason}`);
    } else if (c.status === 'missing') {
      lines.push(
        c.pruned
          ? `Pruned ${c.path} (serial ${c.serial}): the file is gone; its record is marked superseded.`
          : `Missing ${c.path} (serial ${c.serial}): the file is gone; "pki renew --all --prune" stops tracking it.`,
      );
    }
  }
  if (all && (!quiet || report.renewed || report.failed || report.missing)) {
    // --ca: the certificates of other CAs are skipped, not "not due".
    const otherCa = report.certificates.filter((c) => c.status === 'skipped' && c.reason.startsWith('issued by ')).length;
    const others = otherCa ? `, ${otherCa} of other CAs left alone` : '';
    lines.push(`${report.renewed} renewed, ${report.skipped - otherCa} not due${others}, ${report.failed} failed${report.missing ? `, ${report.missing} missing` : ''}.`);
  }
  if (report.exec) lines.push(report.exec.ok ? `Ran: ${report.exec.command}` : `Failed: ${report.exec.command}`);
  if (report.crl?.status === 'published') lines.push(describeRepublication(report.crl));
  for (const other of report.otherCrls) if (other.status === 'published') lines.push(describeRepublication(other));
  return lines.join('\n');
}

/** Runs the operation; its side warnings go to stderr first, and a single file's refusal is the command's error (one line, exit 1). */
async function run(certFile: string | undefined, keyFile: string | undefined, options: RenewOptions, globals: GlobalOptions, now: Date): Promise<RenewRun> {
  const policy = renewalPolicy(options);
  const notAfter = options.notAfter !== undefined ? parseTimeSpec(options.notAfter, now) : undefined;
  const home = openHome(globals);
  const settings: RenewSettings = { policy, force: options.force === true, rekey: options.rekey === true, ...(notAfter ? { notAfter } : {}), ...(options.profile !== undefined ? { profile: options.profile } : {}), ...(options.ca !== undefined || options.trustDomain !== undefined ? { only: issuingCaRef({ ca: options.ca ?? DEFAULT_CA_NAME, trustDomain: options.trustDomain ?? null }) } : {}) };
  if (options.all) {
    const r = await withProgress('renewing', globals, {}, (p) =>
      renewAll(home, { ...settings, prune: options.prune === true, listNotDue: globals.json, onProgress: p.update }, { now, passphrase: p.pausing(passphraseSource(options)) }),
    );
    for (const w of r.warnings) warn(w);
    return { certificates: r.certificates, skipped: r.skipped, considered: r.considered, crl: r.crl, otherCrls: r.otherCrls };
  }
  // --rekey makes a key of the old one's type: an RSA-4096 one takes seconds, so a spinner (wiped at once when fast).
  const request = { ...settings, certificatePath: certFile!, ...(keyFile !== undefined ? { keyPath: keyFile } : {}), san: options.san ?? [] };
  const r = await withProgress(options.rekey === true ? 'generating a new key' : null, globals, { spinner: true }, (p) =>
    renewCertificate(home, request, { now, passphrase: p.pausing(passphraseSource(options)) } satisfies RenewContext),
  );
  for (const w of r.warnings) warn(w);
  if (r.status === 'refused') throw r.error;
  return { certificates: [r.outcome], skipped: r.outcome.status === 'skipped' ? 1 : 0, considered: 1, crl: null, otherCrls: [] };
}

export async function runRenew(certFile: string | undefined, keyFile: string | undefined, options: RenewOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.daemon) {
    const { runRenewDaemonCommand } = await import('../renew-daemon.js');
    return runRenewDaemonCommand(certFile, keyFile, options, globals, renewalPolicy(options));
  }
  if (options.caUrl !== undefined || options.roots !== undefined) {
    throw new PkiError('ERR_USAGE', `${options.caUrl !== undefined ? '--ca-url' : '--roots'} goes with --daemon (renewal over mutual TLS against pki serve)`, { hint: 'pki renew --daemon <cert-file> --ca-url URL --roots FILE' });
  }
  checkFlagCombinations(certFile, options);
  const { certificates, skipped, considered, crl, otherCrls } = await run(certFile, keyFile, options, globals, now);
  const count = (s: RenewOutcome['status']) => certificates.filter((o) => o.status === s).length;
  const renewed = count('renewed');
  // A re-published CRL also needs the servers reloaded (nginx and PostgreSQL read it at start and reload).
  const crlPublished = crl?.status === 'published' || otherCrls.some((o) => o.status === 'published');
  const exec = options.exec !== undefined && (renewed > 0 || crlPublished) ? runExec(options.exec, globals.json) : null;
  const report: RenewReport = { renewed, skipped, failed: count('failed'), missing: count('missing'), certificates, exec, crl, otherCrls };
  // --quiet (cron): silent only when nothing changed; renewals, failures and missing files are always worth a mail.
  const quiet = globals.quiet && renewed === 0 && report.failed === 0 && report.missing === 0 && exec === null;
  emit({ json: globals.json, quiet }, report, (r) => renderHuman(r, options.all === true, globals.quiet));

  // After the report: what failed, in this order; cli/main.ts writes the lines when the run fails.
  const failedOnes = certificates.filter((o): o is FailedOutcome => o.status === 'failed');
  const lines: ReportLine[] = failedOnes.map((f) => ({ error: { message: `${f.path}: ${f.error.message}`, hint: f.error.hint ?? undefined } }));
  if (failedOnes.length) {
    lines.push({ error: new PkiError('ERR_RENEW_FAILED', `${failedOnes.length} of ${considered} certificates failed to renew: ${failedOnes.map((f) => f.path).join(', ')}`) });
  }
  if (exec && !exec.ok) {
    lines.push({ error: new PkiError('ERR_EXEC_FAILED', `--exec command failed (${exec.signal ? `killed by ${exec.signal}` : `exit ${exec.exitCode}`}): ${exec.command}`) });
  }
  const rootWarning = rootCrlDueWarning(crl?.root ?? null);
  if (rootWarning !== null) lines.push({ warning: rootWarning });
  if (crl?.status === 'failed' && crl.error) lines.push({ error: { message: `the CRL is due but was not re-published: ${crl.error.message}`, hint: crl.error.hint ?? undefined } });
  const failedCrls = otherCrls.filter((o) => o.status === 'failed' && o.error);
  for (const o of failedCrls) lines.push({ error: { message: `the CRL of ${o.trustDomain ? `trust domain ${o.trustDomain}` : `CA ${o.ca}`} is due but was not re-published: ${o.error!.message}`, hint: o.error!.hint ?? undefined } });
  if (failedOnes.length || (exec && !exec.ok) || crl?.status === 'failed' || failedCrls.length) throw new ExitError(1, lines);
  if (rootWarning !== null) warn(rootWarning);
}
