/**
 * `pki list`: the inventory as a table (serial, subject, profile, notAfter, days left, status). By
 * default the valid certificates, expired ones included so they stand out; `--revoked`, `--all`,
 * `--expiring 30d` (valid ones expiring within 30 days).
 */
import { DEFAULT_CA_NAME } from '../../store/issuing-ca.js';
import { listCertificates } from '../../operations/list.js';
import type { CertificateRecord } from '../../store/inventory/index.js';
import { colors, daysUntil, emitData, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';

export interface ListOptions {
  readonly expiring?: string;
  readonly revoked?: boolean;
  readonly all?: boolean;
}

/** Rows within this many days of notAfter are highlighted (as formatExpiry does). */
const SOON_DAYS = 30;

export interface ListRow {
  readonly kind: CertificateRecord['kind'];
  readonly serial: string;
  readonly subject: string;
  readonly profile: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly status: CertificateRecord['status'];
  readonly expired: boolean;
  readonly revokedAt: string | null;
  readonly revocationReason: string | null;
  readonly certificatePath: string | null;
  readonly sans: CertificateRecord['sans'];
  /** The issuer's distinguished name, and (issue 14) which CA issued it: `default` or a `pki ca add` name, within `trustDomain` (null: the main hierarchy). */
  readonly issuer: string;
  readonly ca: string;
  readonly trustDomain: string | null;
}

/**
 * X.509 serials in hex (as openssl x509 -serial prints them); SSH serials in decimal, as ssh-keygen -L
 * prints them and `pki ssh revoke` reads them (the inventory keys both by hex).
 */
function listedSerial(r: CertificateRecord): string {
  return r.kind === 'ssh' ? BigInt(`0x${r.serial}`).toString(10) : r.serial;
}

function toRow(r: CertificateRecord, now: Date): ListRow {
  return {
    kind: r.kind,
    serial: listedSerial(r),
    subject: r.subject,
    profile: r.profile,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    daysLeft: daysUntil(r.notAfter, now),
    status: r.status,
    expired: Date.parse(r.notAfter) <= now.getTime(),
    revokedAt: r.revokedAt,
    revocationReason: r.revocationReason,
    certificatePath: r.certificatePath,
    sans: r.sans,
    issuer: r.issuer,
    ca: r.ca ?? DEFAULT_CA_NAME,
    trustDomain: r.trustDomain ?? null,
  };
}

function renderTable(rows: readonly ListRow[], soonDays: number): string {
  if (rows.length === 0) return 'No certificates match.';
  const c = colors();
  // The trust domain column appears once there is a domain (issue 14); a home without one lists as before.
  const domains = rows.some((r) => r.trustDomain !== null);
  // Likewise the CA column once there is a `pki ca add` CA.
  const cas = rows.some((r) => r.ca !== DEFAULT_CA_NAME);
  const header = ['SERIAL', 'SUBJECT', 'PROFILE', ...(cas ? ['CA'] : []), ...(domains ? ['DOMAIN'] : []), 'NOT AFTER', 'DAYS LEFT', 'STATUS'];
  const cells = rows.map((r) => [
    r.serial,
    r.subject || '(none)',
    r.profile,
    ...(cas ? [r.ca] : []),
    ...(domains ? [r.trustDomain ?? '-'] : []),
    r.notAfter.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    String(r.daysLeft),
    r.expired && r.status === 'valid' ? 'expired' : r.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [
    c.bold(line(header)),
    ...cells.map((row, i) => {
      const r = rows[i]!;
      const text = line(row);
      if (r.status === 'revoked' || r.status === 'superseded') return c.dim(text);
      if (r.expired) return c.red(text);
      if (r.daysLeft < soonDays) return c.yellow(text);
      return text;
    }),
  ].join('\n');
}

export async function runList(options: ListOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals);
  const { certificates, expiringWithinMs } = await listCertificates(home, options, { now });
  const rows = certificates.map((r) => toRow(r, now));
  const soonDays = Math.max(SOON_DAYS, expiringWithinMs !== null ? Math.ceil(expiringWithinMs / 86_400_000) : 0);
  emitData(globals, rows, (rs) => renderTable(rs, soonDays));
}
