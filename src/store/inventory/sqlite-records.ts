/**
 * Inventory queries on single records: recording issued certificates, finding, listing, retiring and
 * revoking them. Rows come back as CertificateRecords with absolute paths.
 */
import type { RevocationReason } from '../../core/x509/revocation-reason.js';
import { PkiError } from '../../core/errors.js';
import type { CertificateKind, CertificateRecord, CertificateStatus, CertificateSummary, InventoryProfile, ListFilter, NewCertificateRecord } from './index.js';
import type { InventoryPaths } from './paths.js';
import type { SqliteConnection } from './sqlite-connection.js';

export interface Row {
  kind: CertificateKind;
  serial: string;
  subject: string;
  sans: string;
  profile: InventoryProfile;
  issuer: string;
  not_before: string;
  not_after: string;
  fingerprint_sha256: string;
  status: CertificateStatus;
  issued_at: string;
  revoked_at: string | null;
  revocation_reason: RevocationReason | null;
  supersedes: string | null;
  superseded_by: string | null;
  certificate_path: string | null;
  key_path: string | null;
  key_id: string | null;
  pem: string;
  previous_ca: string | null;
  profile_name: string | null;
  ca: string | null;
  trust_domain: string | null;
  issuer_key_id: string | null;
}

export function toRecord(r: Row, paths: InventoryPaths): CertificateRecord {
  return {
    kind: r.kind,
    serial: r.serial,
    subject: r.subject,
    sans: JSON.parse(r.sans) as CertificateRecord['sans'],
    profile: r.profile,
    issuer: r.issuer,
    notBefore: r.not_before,
    notAfter: r.not_after,
    fingerprintSha256: r.fingerprint_sha256,
    certificatePath: paths.toAbsolute(r.certificate_path),
    keyPath: paths.toAbsolute(r.key_path),
    pem: r.pem,
    supersedes: r.supersedes,
    keyId: r.key_id,
    status: r.status,
    issuedAt: r.issued_at,
    revokedAt: r.revoked_at,
    revocationReason: r.revocation_reason,
    supersededBy: r.superseded_by,
    previousCa: r.previous_ca,
    profileName: r.profile_name,
    ca: r.ca,
    trustDomain: r.trust_domain,
    issuerKeyId: r.issuer_key_id,
  };
}

function insert(c: SqliteConnection, r: NewCertificateRecord, issuedAt: string): void {
  c.insertStatement ??= c.db.prepare(
    `INSERT INTO certificates (kind, serial, subject, sans, profile, issuer, not_before, not_after, fingerprint_sha256,
       status, issued_at, supersedes, certificate_path, key_path, key_id, pem, profile_name, ca, trust_domain, issuer_key_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  c.insertStatement.run(
    r.kind,
    r.serial,
    r.subject,
    JSON.stringify(r.sans),
    r.profile,
    r.issuer,
    r.notBefore,
    r.notAfter,
    r.fingerprintSha256,
    issuedAt,
    r.supersedes ?? null,
    c.paths.toStored(r.certificatePath),
    c.paths.toStored(r.keyPath),
    r.keyId ?? null,
    r.pem,
    r.profileName ?? null,
    r.ca ?? null,
    r.trustDomain ?? null,
    r.issuerKeyId ?? null,
  );
}

export function recordIssued(c: SqliteConnection, records: readonly NewCertificateRecord[]): void {
  if (records.length === 0) return;
  const issuedAt = c.now().toISOString();
  c.write(() => {
    const exists = c.db.prepare('SELECT 1 FROM certificates WHERE kind = ? AND serial = ?').pluck();
    const supersedeByPath = c.db.prepare(
      `UPDATE certificates SET status = 'superseded', superseded_by = ?
       WHERE kind = 'x509' AND certificate_path = ? AND status = 'valid' AND serial <> ?`,
    );
    const supersede = c.db.prepare(
      `UPDATE certificates SET status = CASE status WHEN 'valid' THEN 'superseded' ELSE status END, superseded_by = ?
       WHERE kind = ? AND serial = ?`,
    );
    for (const r of records) {
      if (exists.get(r.kind, r.serial)) {
        throw new PkiError('ERR_DUPLICATE_SERIAL', `serial ${r.serial} is already in the inventory`, { hint: 'this is a bug: serials are random; please report it' });
      }
      if (r.kind === 'x509' && r.certificatePath !== null) supersedeByPath.run(r.serial, c.paths.toStored(r.certificatePath), r.serial);
      if (r.supersedes) supersede.run(r.serial, r.kind, r.supersedes);
      insert(c, r, issuedAt);
    }
  });
}

export function importMissing(c: SqliteConnection, records: readonly NewCertificateRecord[]): number {
  const issuedAt = c.now().toISOString();
  return c.write(() => {
    const exists = c.db.prepare('SELECT 1 FROM certificates WHERE kind = ? AND serial = ?').pluck();
    let added = 0;
    for (const r of records) {
      if (exists.get(r.kind, r.serial)) continue;
      insert(c, r, issuedAt);
      added++;
    }
    return added;
  });
}

export function find(c: SqliteConnection, kind: CertificateKind, serial: string): CertificateRecord | undefined {
  return c.read(() => {
    const row = c.db.prepare('SELECT * FROM certificates WHERE kind = ? AND serial = ?').get(kind, serial) as Row | undefined;
    return row ? toRecord(row, c.paths) : undefined;
  });
}

export function list(c: SqliteConnection, filter: ListFilter = {}): CertificateRecord[] {
  const { sql, params } = listQuery('*', filter);
  return c.read(() => (c.db.prepare(sql).all(...params) as Row[]).map((r) => toRecord(r, c.paths)));
}

export function listSummaries(c: SqliteConnection, filter: ListFilter = {}): CertificateSummary[] {
  const { sql, params } = listQuery('kind, serial, profile, status, not_before, not_after, certificate_path, key_path', filter);
  return c.read(() => {
    // Rows as arrays: better-sqlite3 builds a keyed object per row otherwise, a third of the cost at 100,000.
    const rows = c.db.prepare(sql).raw(true).iterate(...params) as IterableIterator<
      [CertificateKind, string, InventoryProfile, CertificateStatus, string, string, string | null, string | null]
    >;
    const out: CertificateSummary[] = [];
    const paths = c.paths;
    for (const [kind, serial, profile, status, notBefore, notAfter, certificatePath, keyPath] of rows) {
      out.push({ kind, serial, profile, status, notBefore, notAfter, certificatePath: paths.toAbsolute(certificatePath), keyPath: paths.toAbsolute(keyPath) });
    }
    return out;
  });
}

function listQuery(columns: string, filter: ListFilter): { sql: string; params: string[] } {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.kind) {
    where.push('kind = ?');
    params.push(filter.kind);
  }
  if (filter.status) {
    // A literal, not a parameter: SQLite uses a partial index (WHERE status = 'valid') only for a query
    // whose WHERE names the same constant. The value is one of the three statuses, checked here.
    if (!['valid', 'revoked', 'superseded'].includes(filter.status)) throw new Error(`unknown status ${String(filter.status)}`);
    where.push(`status = '${filter.status}'`);
  }
  if (filter.expiringBefore) {
    where.push('not_after < ?');
    params.push(filter.expiringBefore.toISOString());
  }
  return { sql: `SELECT ${columns} FROM certificates${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY not_after, serial`, params };
}

export function retire(c: SqliteConnection, kind: CertificateKind, serials: readonly string[]): number {
  if (serials.length === 0) return 0;
  return c.write(() => {
    const update = c.db.prepare(`UPDATE certificates SET status = 'superseded' WHERE kind = ? AND serial = ? AND status = 'valid'`);
    let changed = 0;
    for (const serial of serials) changed += update.run(kind, serial).changes;
    return changed;
  });
}

export function revoke(c: SqliteConnection, kind: CertificateKind, serial: string, at: Date, reason: RevocationReason): CertificateRecord {
  return c.write(() => {
    const row = c.db.prepare('SELECT * FROM certificates WHERE kind = ? AND serial = ?').get(kind, serial) as Row | undefined;
    if (!row) {
      throw new PkiError('ERR_UNKNOWN_SERIAL', `no certificate with serial ${serial} in the inventory`, {
        hint: 'check the serial with "pki list --all"; certificates issued before the inventory existed come back with "pki db rebuild"',
      });
    }
    if (row.status === 'revoked') {
      throw new PkiError('ERR_ALREADY_REVOKED', `certificate ${serial} (${row.subject}) was already revoked on ${row.revoked_at} (${row.revocation_reason})`);
    }
    c.db
      .prepare(`UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ? WHERE kind = ? AND serial = ?`)
      .run(at.toISOString(), reason, kind, serial);
    return toRecord({ ...row, status: 'revoked', revoked_at: at.toISOString(), revocation_reason: reason }, c.paths);
  });
}

export function listRevokedUnexpired(c: SqliteConnection, kind: CertificateKind, now: Date): CertificateRecord[] {
  return c.read(() =>
    (
      c.db.prepare(`SELECT * FROM certificates WHERE kind = ? AND status = 'revoked' AND not_after > ? ORDER BY revoked_at, serial`).all(kind, now.toISOString()) as Row[]
    ).map((r) => toRecord(r, c.paths)),
  );
}
