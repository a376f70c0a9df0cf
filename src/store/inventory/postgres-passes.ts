/**
 * PostgreSQL inventory queries over many records (postgres.ts), as sqlite-passes.ts has them for SQLite:
 * renewal candidates, `pki check`'s records, list queries and issuer scopes.
 */
import type { CertificateKind, CertificateStatus, CertificateSummary, CheckRecord, InventoryProfile, IssuerScope, ListFilter } from './index.js';
import type { InventoryPaths } from './paths.js';
import type { PgBridge, PgParam } from './pg-bridge.js';

export type SummaryRow = [CertificateKind, string, InventoryProfile, CertificateStatus, string, string, string | null, string | null];

export const SUMMARY_COLUMNS = 'kind, serial, profile, status, not_before, not_after, certificate_path, key_path';

export function summary([kind, serial, profile, status, notBefore, notAfter, certificatePath, keyPath]: SummaryRow, paths: InventoryPaths): CertificateSummary {
  return { kind, serial, profile, status, notBefore, notAfter, certificatePath: paths.toAbsolute(certificatePath), keyPath: paths.toAbsolute(keyPath) };
}

export /** The condition and parameters of an IssuerScope from parameter number `next` on (none: every issuer). */
function issuerScopeSql(scope: IssuerScope | undefined, next: number): { where: string; params: PgParam[] } {
  if (!scope) return { where: '', params: [] };
  let where = ` AND trust_domain IS NOT DISTINCT FROM $${next++}`;
  const params: PgParam[] = [scope.trustDomain];
  if (scope.ca !== undefined) {
    where += ` AND ca IS NOT DISTINCT FROM $${next++}`;
    params.push(scope.ca);
  }
  if (scope.issuerKeyId) {
    where += ` AND (issuer_key_id = $${next++} OR issuer_key_id IS NULL)`;
    params.push(scope.issuerKeyId);
  }
  return { where, params };
}

export function renewalCandidates(b: PgBridge, paths: InventoryPaths, now: Date, policy: { threshold: number } | { expiresWithinMs: number }): { candidates: CertificateSummary[]; total: number; sharedPaths: boolean } {
  const leaves = `kind = 'x509' AND status = 'valid' AND profile IN ('server', 'client', 'peer')`;
  // Epoch seconds as numeric (exact to the microsecond); the one-second margin as on SQLite.
  const MARGIN_MS = 1000;
  const epoch = (column: string) => `extract(epoch from ${column}::timestamptz)`;
  const [dueBy, params]: [string, PgParam[]] =
    'expiresWithinMs' in policy
      ? [`${epoch('not_after')} <= $1`, [(now.getTime() + policy.expiresWithinMs + MARGIN_MS) / 1000]]
      : [`${epoch('not_before')} + (${epoch('not_after')} - ${epoch('not_before')}) * $1 <= $2`, [policy.threshold, (now.getTime() + MARGIN_MS) / 1000]];
  const candidates = b
    .queryArrays<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM certificates WHERE ${leaves} AND ${dueBy} ORDER BY not_after, serial`, params)
    .rows.map((r) => summary(r, paths));
  const total = Number(b.queryArrays<[string]>(`SELECT count(*) FROM certificates WHERE ${leaves}`).rows[0]![0]);
  const sharedPaths =
    b.queryArrays(`SELECT 1 FROM certificates WHERE ${leaves} AND certificate_path IS NOT NULL GROUP BY certificate_path HAVING count(*) > 1 LIMIT 1`).rowCount > 0;
  const previous = b.queryArrays<[...SummaryRow, string]>(
    `SELECT ${SUMMARY_COLUMNS}, previous_ca FROM certificates
     WHERE previous_ca IS NOT NULL AND status = 'valid' AND kind = 'x509' AND profile IN ('server', 'client', 'peer')`,
  ).rows;
  const dueSerials = new Set(candidates.map((c) => c.serial));
  for (const row of previous) {
    const carried = { ...summary(row.slice(0, 8) as SummaryRow, paths), previousCa: row[8] };
    if (dueSerials.has(carried.serial)) candidates[candidates.findIndex((c) => c.serial === carried.serial)] = carried;
    else candidates.push(carried);
  }
  if (previous.length) candidates.sort((a, b) => (a.notAfter < b.notAfter ? -1 : a.notAfter > b.notAfter ? 1 : a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
  return { candidates, total, sharedPaths };
}

export function listForCheck(b: PgBridge, paths: InventoryPaths, now: Date): CheckRecord[] {
  const rows = b.queryArrays<[CertificateKind, string, InventoryProfile, string, string, string, string, string, string | null, string | null]>(
    `SELECT kind, serial, profile, subject, issuer, not_before, not_after, fingerprint_sha256, certificate_path, previous_ca FROM certificates
     WHERE status = 'valid' AND (kind = 'x509' OR not_after > $1)`,
    [now.toISOString()],
  ).rows;
  return rows.map(([kind, serial, profile, subject, issuer, notBefore, notAfter, fingerprintSha256, path, previousCa]) => ({
    kind,
    serial,
    profile,
    subject,
    issuer,
    notBefore,
    notAfter,
    fingerprintSha256,
    certificatePath: paths.toAbsolute(path),
    previousCa,
  }));
}

export function listQuery(columns: string, filter: ListFilter): { sql: string; params: PgParam[] } {
  const where: string[] = [];
  const params: PgParam[] = [];
  if (filter.kind) {
    params.push(filter.kind);
    where.push(`kind = $${params.length}`);
  }
  if (filter.status) {
    // A literal, as on SQLite: the planner matches the partial indexes (WHERE status = 'valid') only to a constant.
    if (!['valid', 'revoked', 'superseded'].includes(filter.status)) throw new Error(`unknown status ${String(filter.status)}`);
    where.push(`status = '${filter.status}'`);
  }
  if (filter.expiringBefore) {
    params.push(filter.expiringBefore.toISOString());
    where.push(`not_after < $${params.length}`);
  }
  return { sql: `SELECT ${columns} FROM certificates${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY not_after, serial`, params };
}
