/**
 * Inventory queries over many records, each answered from an index (schema v2, v4, v5): renewal
 * candidates, revocations for a CRL or KRL, the CRL/KRL sequence numbers, and carrying records over from
 * the inventory of a replaced CA.
 */
import type { RevocationReason } from '../../core/x509/revocation-reason.js';
import type { CertificateKind, CertificateStatus, CertificateSummary, CheckRecord, InventoryProfile, IssuerScope, RevocationEntry, SequenceName } from './index.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { sqliteError } from './sqlite-errors.js';

export function renewalCandidates(c: SqliteConnection, now: Date, policy: { threshold: number } | { expiresWithinMs: number }): { candidates: CertificateSummary[]; total: number; sharedPaths: boolean } {
  // All three answered from an index (certificates_valid_summary, certificates_valid_path). Julian days are doubles (a few µs of
  // rounding at today's dates): the one-second margin keeps every due certificate in the candidates.
  const leaves = `kind = 'x509' AND status = 'valid' AND profile IN ('server', 'client', 'peer')`;
  const MARGIN_MS = 1000;
  const julianDay = (ms: number) => ms / 86_400_000 + 2_440_587.5;
  const [dueBy, params] =
    'expiresWithinMs' in policy
      ? ['julianday(not_after) <= ?', [julianDay(now.getTime() + policy.expiresWithinMs + MARGIN_MS)]]
      : ['julianday(not_before) + (julianday(not_after) - julianday(not_before)) * ? <= ?', [policy.threshold, julianDay(now.getTime() + MARGIN_MS)]];
  return c.read(() => {
    const rows = c.db
      .prepare(
        `SELECT kind, serial, profile, status, not_before, not_after, certificate_path, key_path FROM certificates
         WHERE ${leaves} AND ${dueBy} ORDER BY not_after, serial`,
      )
      .raw(true)
      .all(...params) as [CertificateKind, string, InventoryProfile, CertificateStatus, string, string, string | null, string | null][];
    const candidates = rows.map(([kind, serial, profile, status, notBefore, notAfter, certificatePath, keyPath]) => ({
      kind,
      serial,
      profile,
      status,
      notBefore,
      notAfter,
      certificatePath: c.paths.toAbsolute(certificatePath),
      keyPath: c.paths.toAbsolute(keyPath),
    }));
    const total = c.db.prepare(`SELECT count(*) FROM certificates WHERE ${leaves}`).pluck().get() as number;
    // INDEXED BY: without statistics the planner prefers certificates_valid_summary and sorts.
    const sharedPaths =
      c.db
        .prepare(`SELECT 1 FROM certificates INDEXED BY certificates_valid_path WHERE ${leaves} AND certificate_path IS NOT NULL GROUP BY certificate_path HAVING count(*) > 1 LIMIT 1`)
        .pluck()
        .get() !== undefined;
    // Certificates of a replaced CA are due whatever their dates (the partial index certificates_previous_ca).
    const dueSerials = new Set(candidates.map((c) => c.serial));
    const previous = c.db
      .prepare(
        `SELECT kind, serial, profile, status, not_before, not_after, certificate_path, key_path, previous_ca FROM certificates
         WHERE previous_ca IS NOT NULL AND status = 'valid' AND kind = 'x509' AND profile IN ('server', 'client', 'peer')`,
      )
      .raw(true)
      .all() as [CertificateKind, string, InventoryProfile, CertificateStatus, string, string, string | null, string | null, string][];
    for (const [kind, serial, profile, status, notBefore, notAfter, certificatePath, keyPath, previousCa] of previous) {
      const summary = { kind, serial, profile, status, notBefore, notAfter, certificatePath: c.paths.toAbsolute(certificatePath), keyPath: c.paths.toAbsolute(keyPath), previousCa };
      if (dueSerials.has(serial)) candidates[candidates.findIndex((c) => c.serial === serial)] = summary;
      else candidates.push(summary);
    }
    if (previous.length) candidates.sort((a, b) => (a.notAfter < b.notAfter ? -1 : a.notAfter > b.notAfter ? 1 : a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
    return { candidates, total, sharedPaths };
  });
}

export function previousCaSerials(c: SqliteConnection): Map<string, string> {
  return c.read(() => {
    const rows = c.db
      .prepare(`SELECT serial, previous_ca FROM certificates WHERE previous_ca IS NOT NULL AND status = 'valid' AND kind = 'x509'`)
      .raw(true)
      .all() as [string, string][];
    return new Map(rows);
  });
}

export function listForCheck(c: SqliteConnection, now: Date): CheckRecord[] {
  // Memory-mapped reads for this scan of the whole table: half its time at 100,000 rows (no read() per page).
  c.db.pragma('mmap_size = 1073741824');
  return c.read(() => {
    // A scan of the valid rows (the PEM column is never handed to JS), rows as arrays, in no particular
    // order: check sorts by time left itself, and SQLite's sort of 100,000 rows cost a third of the query.
    const rows = c.db
      .prepare(
        `SELECT kind, serial, profile, subject, issuer, not_before, not_after, fingerprint_sha256, certificate_path, previous_ca FROM certificates
         WHERE status = 'valid' AND (kind = 'x509' OR not_after > ?)`,
      )
      .raw(true)
      .iterate(now.toISOString()) as IterableIterator<[CertificateKind, string, InventoryProfile, string, string, string, string, string, string | null, string | null]>;
    const out: CheckRecord[] = [];
    for (const [kind, serial, profile, subject, issuer, notBefore, notAfter, fingerprintSha256, path, previousCa] of rows) {
      out.push({ kind, serial, profile, subject, issuer, notBefore, notAfter, fingerprintSha256, certificatePath: c.paths.toAbsolute(path), previousCa });
    }
    return out;
  });
}

/** The SQL condition and parameters of an IssuerScope (none: every issuer). */
export function issuerScopeSql(scope: IssuerScope | undefined): { where: string; params: (string | null)[] } {
  if (!scope) return { where: '', params: [] };
  let where = ' AND trust_domain IS ?';
  const params: (string | null)[] = [scope.trustDomain];
  if (scope.ca !== undefined) {
    where += ' AND ca IS ?';
    params.push(scope.ca);
  }
  if (scope.issuerKeyId) {
    where += ' AND (issuer_key_id = ? OR issuer_key_id IS NULL)';
    params.push(scope.issuerKeyId);
  }
  return { where, params };
}

export function listRevocations(c: SqliteConnection, kind: CertificateKind, now: Date, scope?: IssuerScope): RevocationEntry[] {
  const s = issuerScopeSql(scope);
  return c.read(() => {
    // In the certificates_revocations index's order (schema v2); the issuer comes from the row (only the
    // root's CRL asks, rarely, and the intermediate's 100,000-entry CRL uses iterateLeafRevocations).
    const rows = c.db
      .prepare(
        `SELECT serial, profile, revoked_at, revocation_reason, issuer FROM certificates
         WHERE kind = ? AND status = 'revoked' AND not_after > ?${s.where} ORDER BY revoked_at, serial`,
      )
      .raw(true)
      .iterate(kind, now.toISOString(), ...s.params) as IterableIterator<[string, InventoryProfile, string, RevocationReason | null, string]>;
    const entries: RevocationEntry[] = [];
    for (const [serial, profile, revokedAt, revocationReason, issuer] of rows) entries.push({ serial, profile, revokedAt, revocationReason, issuer });
    return entries;
  });
}

/** How many records of `kind` are revoked and the latest revocation time: read from certificates_revocations. */
export function revocationMark(c: SqliteConnection, kind: CertificateKind): string {
  return c.read(() => {
    const r = c.db.prepare(`SELECT count(*) AS n, max(revoked_at) AS latest FROM certificates WHERE kind = ? AND status = 'revoked'`).get(kind) as { n: number; latest: string | null };
    return `${r.n}/${r.latest ?? ''}`;
  });
}

export function* iterateLeafRevocations(c: SqliteConnection, kind: CertificateKind, now: Date, scope?: IssuerScope): IterableIterator<Omit<RevocationEntry, 'profile' | 'issuer'>> {
  const s = issuerScopeSql(scope);
  // listRevocations' index-only query, leaves only and without the profile column (half the cost of
  // handing 100,000 rows to JS), rows as arrays, handed on one at a time.
  let rows: IterableIterator<[string, string, RevocationReason | null]>;
  try {
    rows = c.db
      .prepare(
        `SELECT serial, revoked_at, revocation_reason FROM certificates
         WHERE kind = ? AND status = 'revoked' AND not_after > ? AND profile NOT IN ('root', 'intermediate')${s.where}
         ORDER BY revoked_at, serial`,
      )
      .raw(true)
      .iterate(kind, now.toISOString(), ...s.params) as IterableIterator<[string, string, RevocationReason | null]>;
  } catch (e) {
    throw sqliteError(e, c.path);
  }
  try {
    while (true) {
      let next: IteratorResult<[string, string, RevocationReason | null]>;
      try {
        next = rows.next();
      } catch (e) {
        throw sqliteError(e, c.path);
      }
      if (next.done) return;
      const [serial, revokedAt, revocationReason] = next.value;
      yield { serial, revokedAt, revocationReason };
    }
  } finally {
    rows.return?.(); // a consumer that stops early (a refused entry) frees the connection
  }
}

export function lastPublished(c: SqliteConnection, name: SequenceName): { readonly number: bigint; readonly file: string | null } | undefined {
  return c.read(() => {
    const row = c.db.prepare('SELECT value, published_file FROM sequences WHERE name = ?').safeIntegers(true).get(name) as
      | { value: bigint; published_file: string | null }
      | undefined;
    return row ? { number: row.value, file: row.published_file } : undefined;
  });
}

export function notePublished(c: SqliteConnection, name: SequenceName, file: string): void {
  c.write(() => {
    c.db.prepare('UPDATE sequences SET published_file = ? WHERE name = ?').run(file, name);
  });
}

export function nextSequenceNumber(c: SqliteConnection, name: SequenceName, atLeast = 1n): bigint {
  return c.write(() => {
    const current = c.db.prepare('SELECT value FROM sequences WHERE name = ?').pluck().safeIntegers(true).get(name) as bigint | undefined;
    let next = (current ?? 0n) + 1n;
    if (next < atLeast) next = atLeast;
    // A new number has no file published under it yet.
    c.db.prepare('INSERT INTO sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, published_file = NULL').run(name, next);
    return next;
  });
}

/**
 * Copies every record of `kind` (with its status and revocation) and the matching sequence from another
 * inventory file: `pki init --force` replaces the X.509 CA, not the OpenSSH CAs, whose revocations the
 * next KRL must still carry.
 */
export function carryOver(c: SqliteConnection, fromPath: string, kind: CertificateKind): number {
  const sequence = kind === 'ssh' ? 'krl' : 'crl';
  c.db.prepare('ATTACH DATABASE ? AS previous').run(fromPath);
  try {
    return c.write(() => {
      const columns = (c.db.prepare('PRAGMA main.table_info(certificates)').all() as { name: string }[])
        .map((c) => c.name)
        .filter((n) => n !== 'id')
        .join(', ');
      const copied = c.db
        .prepare(`INSERT OR IGNORE INTO main.certificates (${columns}) SELECT ${columns} FROM previous.certificates WHERE kind = ?`)
        .run(kind).changes;
      c.db.prepare('INSERT OR REPLACE INTO main.sequences (name, value) SELECT name, value FROM previous.sequences WHERE name = ?').run(sequence);
      return copied;
    });
  } finally {
    c.db.prepare('DETACH DATABASE previous').run();
  }
}

/**
 * `pki init --force`: copies the valid X.509 leaf records of the replaced CA's inventory, marked with
 * `previous_ca` = the fingerprint of its archived intermediate, so `pki renew --all` re-issues them under
 * the new CA instead of forgetting them. Revoked and superseded ones stay behind with the old CA's CRL.
 */
export function carryOverPreviousCa(c: SqliteConnection, fromPath: string, previousCa: string): number {
  c.db.prepare('ATTACH DATABASE ? AS previous').run(fromPath);
  try {
    return c.write(() => {
      // The columns both have: a replaced inventory older than this schema lacks the newer ones (profile_name, v6).
      const names = (schema: string) => (c.db.prepare(`PRAGMA ${schema}.table_info(certificates)`).all() as { name: string }[]).map((col) => col.name);
      const old = new Set(names('previous'));
      const columns = names('main')
        .filter((n) => n !== 'id' && n !== 'previous_ca' && old.has(n))
        .join(', ');
      return c.db
        .prepare(
          `INSERT OR IGNORE INTO main.certificates (${columns}, previous_ca) SELECT ${columns}, COALESCE(previous_ca, ?) FROM previous.certificates
           WHERE kind = 'x509' AND status = 'valid' AND profile IN ('server', 'client', 'peer')`,
        )
        .run(previousCa).changes;
    });
  } finally {
    c.db.prepare('DETACH DATABASE previous').run();
  }
}
