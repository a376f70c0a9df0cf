/**
 * The SQLite inventory (better-sqlite3) at `<dir>/db/pki.sqlite`.
 *
 * Concurrency: WAL mode (readers never block the one writer), a 10 s busy timeout, and every write in a
 * `BEGIN IMMEDIATE` transaction, so a writer takes the lock before it reads what it will change and two
 * processes can never interleave a read-modify-write (https://www.sqlite.org/lang_transaction.html).
 * Loaded lazily by open.ts: commands that do not touch the inventory never load the native module.
 */
import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, openSync, statfsSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { PkiError } from '../../core/errors.js';
import type { RevocationReason } from '../../core/x509/revocation-reason.js';
import type {
  CertificateKind,
  CertificateRecord,
  CertificateStatus,
  CertificateSummary,
  Inventory,
  InventoryProfile,
  ListFilter,
  NewCertificateRecord,
  RevocationEntry,
} from './index.js';
import { InventoryPaths, storedRelativeTo } from './paths.js';

/** PRAGMA user_version of the schema below; bump with a migration step in `migrate`. */
export const SCHEMA_VERSION = 5;

/** How long a writer waits for another process's transaction before giving up (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 10_000;

const SCHEMA_V1 = `
CREATE TABLE certificates (
  id                 INTEGER PRIMARY KEY,
  kind               TEXT NOT NULL CHECK (kind IN ('x509', 'ssh')),
  serial             TEXT NOT NULL,
  subject            TEXT NOT NULL,
  sans               TEXT NOT NULL,            -- JSON SanSet
  profile            TEXT NOT NULL,
  issuer             TEXT NOT NULL,
  not_before         TEXT NOT NULL,            -- ISO 8601 UTC (Date#toISOString): sorts as text
  not_after          TEXT NOT NULL,
  fingerprint_sha256 TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'superseded')),
  issued_at          TEXT NOT NULL,
  revoked_at         TEXT,
  revocation_reason  TEXT,
  supersedes         TEXT,
  superseded_by      TEXT,
  certificate_path   TEXT,
  key_path           TEXT,
  key_id             TEXT,
  pem                TEXT NOT NULL,
  UNIQUE (kind, serial)
);
CREATE INDEX certificates_status_not_after ON certificates (status, not_after);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_path ON certificates (certificate_path) WHERE certificate_path IS NOT NULL;
CREATE TABLE sequences (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

/**
 * v2: partial covering indexes for the passes over the whole inventory, so they read an index in the
 * order they need instead of 100,000 whole rows (each carrying its PEM) and a sort (issue 5):
 * certificates_revocations answers listRevocations (the CRL), certificates_valid_summary answers
 * listSummaries of valid certificates (`pki renew --all`) and `pki list`'s expiring filter.
 */
const SCHEMA_V2 = `
CREATE INDEX certificates_revocations ON certificates (kind, revoked_at, serial, not_after, revocation_reason, profile)
  WHERE status = 'revoked';
CREATE INDEX certificates_valid_summary ON certificates (kind, not_after, serial, status, profile, not_before, certificate_path, key_path)
  WHERE status = 'valid';
`;

/**
 * v3: the identity (device, inode, size, times) of the file published under a sequence's current value,
 * so publishing a CRL need not decode the 5 MB one it replaces to learn its number (issue 5).
 */
const SCHEMA_V3 = `
ALTER TABLE sequences ADD COLUMN published_file TEXT;
`;

/**
 * v4: valid X.509 certificates by path, so `pki renew --all` learns whether two share a path by walking an
 * index in order (20 ms at 100,000) instead of sorting every path into a temporary B-tree (130 ms).
 */
const SCHEMA_V4 = `
CREATE INDEX certificates_valid_path ON certificates (certificate_path, profile) WHERE status = 'valid' AND kind = 'x509';
`;

/**
 * v5 (issue 9): paths inside the CA home become relative to it (the JS step in #migrate, see paths.ts), and
 * `previous_ca` marks a record `pki init --force` carried over from the CA it replaced: the SHA-256
 * fingerprint of that CA's intermediate certificate, archived under ca/previous/ (store/previous-ca.ts).
 * `pki renew --all` finds them through the partial index and treats them as due.
 */
const SCHEMA_V5 = `
ALTER TABLE certificates ADD COLUMN previous_ca TEXT;
CREATE INDEX certificates_previous_ca ON certificates (previous_ca) WHERE previous_ca IS NOT NULL AND status = 'valid';
`;

interface Row {
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
}

function toRecord(r: Row, paths: InventoryPaths): CertificateRecord {
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
  };
}

/** SQLite error → one-line PkiError (busy after the timeout, a damaged file, a read-only folder). */
function sqliteError(e: unknown, path: string): unknown {
  if (e instanceof PkiError || !(e instanceof Error)) return e;
  const code = (e as Error & { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new PkiError('ERR_INVENTORY_BUSY', `the inventory ${path} stayed locked by another pki process for ${BUSY_TIMEOUT_MS / 1000} s`, {
      hint: 'retry when the other pki command has finished',
      cause: e,
    });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new PkiError('ERR_INVENTORY_CORRUPT', `the inventory ${path} is damaged: ${e.message}`, {
      hint: 'move it aside and run "pki db rebuild" to recreate it from the certificates on disk',
      cause: e,
    });
  }
  if (code.startsWith('SQLITE_')) {
    return new PkiError('ERR_IO', `inventory ${path}: ${sqliteCause(e, code, path)}`, { cause: e });
  }
  return e;
}

/**
 * SQLite says "unable to open database file" or "disk I/O error" for a read-only mount, a folder the user
 * may not write and a full disk alike: name the cause, as atomic-write.ts does for files.
 */
function sqliteCause(e: Error, code: string, path: string): string {
  if (code === 'SQLITE_FULL') return 'no space left on the device';
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR')) {
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch (err) {
      const c = (err as NodeJS.ErrnoException).code;
      if (c === 'EROFS') return 'the file system is read-only';
      if (c === 'EACCES' || c === 'EPERM') return 'permission denied';
    }
    try {
      if (statfsSync(dirname(path)).bavail === 0) return 'no space left on the device';
    } catch {
      /* no statfs here: keep SQLite's words */
    }
  }
  return e.message;
}

/** Creates the database file with mode 0600 before SQLite opens it (SQLite would use the umask). */
function createEmptyFile(path: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  closeSync(fd);
}

export class SqliteInventory implements Inventory {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => Date;
  /** Paths in and out of the database: relative to the CA home (`<home>/db/pki.sqlite`) inside it. */
  readonly #paths: InventoryPaths;

  /**
   * Opens (or with `create`, creates) the database and brings its schema up to date. The folder must exist.
   * `now` stamps issuedAt.
   */
  constructor(path: string, options: { create: boolean; now?: () => Date }) {
    this.path = path;
    this.#now = options.now ?? (() => new Date());
    this.#paths = new InventoryPaths(dirname(dirname(path)));
    try {
      if (options.create) {
        try {
          createEmptyFile(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      this.#db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      // WAL is persistent in the file: switch only once, since the switch itself needs an exclusive lock.
      if (this.#db.pragma('journal_mode', { simple: true }) !== 'wal') this.#db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; a power cut may lose the last commit.
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('foreign_keys = ON');
      this.#migrate();
    } catch (e) {
      throw sqliteError(e, path);
    }
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new PkiError('ERR_INVENTORY_VERSION', `the inventory ${this.path} has schema version ${version}, newer than this pki understands (${SCHEMA_VERSION})`, {
        hint: 'upgrade pki',
      });
    }
    this.#write(() => {
      // Re-read inside the lock: another process may have migrated meanwhile.
      const current = this.#db.pragma('user_version', { simple: true }) as number;
      if (current === 0) this.#db.exec(SCHEMA_V1);
      if (current < 2) this.#db.exec(SCHEMA_V2);
      if (current < 3) this.#db.exec(SCHEMA_V3);
      if (current < 4) this.#db.exec(SCHEMA_V4);
      if (current < 5) {
        this.#db.exec(SCHEMA_V5);
        this.#relativizePaths();
      }
      this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
  }

  /**
   * Schema v5: absolute paths inside the CA home become relative. The home the paths were written under is
   * read from init's own records (`<home>/ca/intermediate_ca.crt`), so a home copied before the upgrade
   * stops pointing at the original's files as well; paths outside every such home stay absolute.
   */
  #relativizePaths(): void {
    const caFile = /\/ca\/(?:root_ca|intermediate_ca)\.crt$/;
    const homes = new Set<string>([this.#paths.home]);
    const caPaths = this.#db
      .prepare(`SELECT certificate_path FROM certificates WHERE kind = 'x509' AND profile IN ('root', 'intermediate') AND certificate_path IS NOT NULL`)
      .pluck()
      .all() as string[];
    for (const p of caPaths) if (caFile.test(p)) homes.add(p.replace(caFile, ''));
    const roots = [...homes].filter((h) => h.startsWith(sep));
    const rows = this.#db
      .prepare(`SELECT id, certificate_path, key_path FROM certificates WHERE substr(certificate_path, 1, 1) = '/' OR substr(key_path, 1, 1) = '/'`)
      .raw(true)
      .all() as [number, string | null, string | null][];
    const update = this.#db.prepare('UPDATE certificates SET certificate_path = ?, key_path = ? WHERE id = ?');
    const rel = (p: string | null) => (p === null ? null : storedRelativeTo(roots, p));
    for (const [id, cert, key] of rows) update.run(rel(cert), rel(key), id);
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (a savepoint when already inside one). */
  #write<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } catch (e) {
      throw sqliteError(e, this.path);
    }
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw sqliteError(e, this.path);
    }
  }

  #insertStatement: Database.Statement | undefined;

  #insert(r: NewCertificateRecord, issuedAt: string): void {
    // Prepared once per connection: preparing it per record was a tenth of recording a batch of 1,000.
    this.#insertStatement ??= this.#db.prepare(
      `INSERT INTO certificates (kind, serial, subject, sans, profile, issuer, not_before, not_after, fingerprint_sha256,
         status, issued_at, supersedes, certificate_path, key_path, key_id, pem)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid', ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertStatement.run(
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
      this.#paths.toStored(r.certificatePath),
      this.#paths.toStored(r.keyPath),
      r.keyId ?? null,
      r.pem,
    );
  }

  recordIssued(records: readonly NewCertificateRecord[]): void {
    if (records.length === 0) return;
    const issuedAt = this.#now().toISOString();
    this.#write(() => {
      const exists = this.#db.prepare('SELECT 1 FROM certificates WHERE kind = ? AND serial = ?').pluck();
      const supersedeByPath = this.#db.prepare(
        `UPDATE certificates SET status = 'superseded', superseded_by = ?
         WHERE kind = 'x509' AND certificate_path = ? AND status = 'valid' AND serial <> ?`,
      );
      const supersede = this.#db.prepare(
        `UPDATE certificates SET status = CASE status WHEN 'valid' THEN 'superseded' ELSE status END, superseded_by = ?
         WHERE kind = ? AND serial = ?`,
      );
      for (const r of records) {
        if (exists.get(r.kind, r.serial)) {
          throw new PkiError('ERR_DUPLICATE_SERIAL', `serial ${r.serial} is already in the inventory`, { hint: 'this is a bug: serials are random; please report it' });
        }
        if (r.kind === 'x509' && r.certificatePath !== null) supersedeByPath.run(r.serial, this.#paths.toStored(r.certificatePath), r.serial);
        if (r.supersedes) supersede.run(r.serial, r.kind, r.supersedes);
        this.#insert(r, issuedAt);
      }
    });
  }

  importMissing(records: readonly NewCertificateRecord[]): number {
    const issuedAt = this.#now().toISOString();
    return this.#write(() => {
      const exists = this.#db.prepare('SELECT 1 FROM certificates WHERE kind = ? AND serial = ?').pluck();
      let added = 0;
      for (const r of records) {
        if (exists.get(r.kind, r.serial)) continue;
        this.#insert(r, issuedAt);
        added++;
      }
      return added;
    });
  }

  find(kind: CertificateKind, serial: string): CertificateRecord | undefined {
    return this.#read(() => {
      const row = this.#db.prepare('SELECT * FROM certificates WHERE kind = ? AND serial = ?').get(kind, serial) as Row | undefined;
      return row ? toRecord(row, this.#paths) : undefined;
    });
  }

  list(filter: ListFilter = {}): CertificateRecord[] {
    const { sql, params } = this.#listQuery('*', filter);
    return this.#read(() => (this.#db.prepare(sql).all(...params) as Row[]).map((r) => toRecord(r, this.#paths)));
  }

  listSummaries(filter: ListFilter = {}): CertificateSummary[] {
    const { sql, params } = this.#listQuery('kind, serial, profile, status, not_before, not_after, certificate_path, key_path', filter);
    return this.#read(() => {
      // Rows as arrays: better-sqlite3 builds a keyed object per row otherwise, a third of the cost at 100,000.
      const rows = this.#db.prepare(sql).raw(true).iterate(...params) as IterableIterator<
        [CertificateKind, string, InventoryProfile, CertificateStatus, string, string, string | null, string | null]
      >;
      const out: CertificateSummary[] = [];
      const paths = this.#paths;
      for (const [kind, serial, profile, status, notBefore, notAfter, certificatePath, keyPath] of rows) {
        out.push({ kind, serial, profile, status, notBefore, notAfter, certificatePath: paths.toAbsolute(certificatePath), keyPath: paths.toAbsolute(keyPath) });
      }
      return out;
    });
  }

  #listQuery(columns: string, filter: ListFilter): { sql: string; params: string[] } {
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

  listDue(now: Date, policy: { threshold?: number; expiresWithinMs?: number }): CertificateRecord[] {
    // Two passes: decide on the three columns that matter, then read whole rows (PEM and all) only for the
    // due ones. Reading every valid row in full made `pki renew --all` over 100,000 records take seconds.
    const t = now.getTime();
    const threshold = policy.threshold ?? 2 / 3;
    const candidates = this.#read(
      () =>
        this.#db.prepare(`SELECT id, not_before, not_after FROM certificates WHERE status = 'valid' AND profile NOT IN ('root', 'intermediate')`).all() as {
          id: number;
          not_before: string;
          not_after: string;
        }[],
    );
    const due = candidates.filter((r) => {
      const notBefore = Date.parse(r.not_before);
      const notAfter = Date.parse(r.not_after);
      if (policy.expiresWithinMs !== undefined) return notAfter - t <= policy.expiresWithinMs;
      return t >= notBefore + (notAfter - notBefore) * threshold;
    });
    if (due.length === 0) return [];
    return this.#read(() =>
      (
        this.#db.prepare('SELECT * FROM certificates WHERE id IN (SELECT value FROM json_each(?)) ORDER BY not_after, serial').all(JSON.stringify(due.map((r) => r.id))) as Row[]
      ).map((r) => toRecord(r, this.#paths)),
    );
  }

  renewalCandidates(now: Date, policy: { threshold: number } | { expiresWithinMs: number }): { candidates: CertificateSummary[]; total: number; sharedPaths: boolean } {
    // All three answered from an index (certificates_valid_summary, certificates_valid_path). Julian days are doubles (a few µs of
    // rounding at today's dates): the one-second margin keeps every due certificate in the candidates.
    const leaves = `kind = 'x509' AND status = 'valid' AND profile IN ('server', 'client', 'peer')`;
    const MARGIN_MS = 1000;
    const julianDay = (ms: number) => ms / 86_400_000 + 2_440_587.5;
    const [dueBy, params] =
      'expiresWithinMs' in policy
        ? ['julianday(not_after) <= ?', [julianDay(now.getTime() + policy.expiresWithinMs + MARGIN_MS)]]
        : ['julianday(not_before) + (julianday(not_after) - julianday(not_before)) * ? <= ?', [policy.threshold, julianDay(now.getTime() + MARGIN_MS)]];
    return this.#read(() => {
      const rows = this.#db
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
        certificatePath: this.#paths.toAbsolute(certificatePath),
        keyPath: this.#paths.toAbsolute(keyPath),
      }));
      const total = this.#db.prepare(`SELECT count(*) FROM certificates WHERE ${leaves}`).pluck().get() as number;
      // INDEXED BY: without statistics the planner prefers certificates_valid_summary and sorts.
      const sharedPaths =
        this.#db
          .prepare(`SELECT 1 FROM certificates INDEXED BY certificates_valid_path WHERE ${leaves} AND certificate_path IS NOT NULL GROUP BY certificate_path HAVING count(*) > 1 LIMIT 1`)
          .pluck()
          .get() !== undefined;
      // Certificates of a replaced CA are due whatever their dates (the partial index certificates_previous_ca).
      const dueSerials = new Set(candidates.map((c) => c.serial));
      const previous = this.#db
        .prepare(
          `SELECT kind, serial, profile, status, not_before, not_after, certificate_path, key_path, previous_ca FROM certificates
           WHERE previous_ca IS NOT NULL AND status = 'valid' AND kind = 'x509' AND profile IN ('server', 'client', 'peer')`,
        )
        .raw(true)
        .all() as [CertificateKind, string, InventoryProfile, CertificateStatus, string, string, string | null, string | null, string][];
      for (const [kind, serial, profile, status, notBefore, notAfter, certificatePath, keyPath, previousCa] of previous) {
        const summary = { kind, serial, profile, status, notBefore, notAfter, certificatePath: this.#paths.toAbsolute(certificatePath), keyPath: this.#paths.toAbsolute(keyPath), previousCa };
        if (dueSerials.has(serial)) candidates[candidates.findIndex((c) => c.serial === serial)] = summary;
        else candidates.push(summary);
      }
      if (previous.length) candidates.sort((a, b) => (a.notAfter < b.notAfter ? -1 : a.notAfter > b.notAfter ? 1 : a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
      return { candidates, total, sharedPaths };
    });
  }

  previousCaSerials(): Map<string, string> {
    return this.#read(() => {
      const rows = this.#db
        .prepare(`SELECT serial, previous_ca FROM certificates WHERE previous_ca IS NOT NULL AND status = 'valid' AND kind = 'x509'`)
        .raw(true)
        .all() as [string, string][];
      return new Map(rows);
    });
  }

  retire(kind: CertificateKind, serials: readonly string[]): number {
    if (serials.length === 0) return 0;
    return this.#write(() => {
      const update = this.#db.prepare(`UPDATE certificates SET status = 'superseded' WHERE kind = ? AND serial = ? AND status = 'valid'`);
      let changed = 0;
      for (const serial of serials) changed += update.run(kind, serial).changes;
      return changed;
    });
  }

  revoke(kind: CertificateKind, serial: string, at: Date, reason: RevocationReason): CertificateRecord {
    return this.#write(() => {
      const row = this.#db.prepare('SELECT * FROM certificates WHERE kind = ? AND serial = ?').get(kind, serial) as Row | undefined;
      if (!row) {
        throw new PkiError('ERR_UNKNOWN_SERIAL', `no certificate with serial ${serial} in the inventory`, {
          hint: 'check the serial with "pki list --all"; certificates issued before the inventory existed come back with "pki db rebuild"',
        });
      }
      if (row.status === 'revoked') {
        throw new PkiError('ERR_ALREADY_REVOKED', `certificate ${serial} (${row.subject}) was already revoked on ${row.revoked_at} (${row.revocation_reason})`);
      }
      this.#db
        .prepare(`UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ? WHERE kind = ? AND serial = ?`)
        .run(at.toISOString(), reason, kind, serial);
      return toRecord({ ...row, status: 'revoked', revoked_at: at.toISOString(), revocation_reason: reason }, this.#paths);
    });
  }

  listRevokedUnexpired(kind: CertificateKind, now: Date): CertificateRecord[] {
    return this.#read(() =>
      (
        this.#db.prepare(`SELECT * FROM certificates WHERE kind = ? AND status = 'revoked' AND not_after > ? ORDER BY revoked_at, serial`).all(kind, now.toISOString()) as Row[]
      ).map((r) => toRecord(r, this.#paths)),
    );
  }

  listRevocations(kind: CertificateKind, now: Date): RevocationEntry[] {
    return this.#read(() => {
      // Answered from the certificates_revocations index alone (schema v2), already in this order.
      const rows = this.#db
        .prepare(
          `SELECT serial, profile, revoked_at, revocation_reason FROM certificates
           WHERE kind = ? AND status = 'revoked' AND not_after > ? ORDER BY revoked_at, serial`,
        )
        .raw(true)
        .iterate(kind, now.toISOString()) as IterableIterator<[string, InventoryProfile, string, RevocationReason | null]>;
      const entries: RevocationEntry[] = [];
      for (const [serial, profile, revokedAt, revocationReason] of rows) entries.push({ serial, profile, revokedAt, revocationReason });
      return entries;
    });
  }

  *iterateLeafRevocations(kind: CertificateKind, now: Date): IterableIterator<Omit<RevocationEntry, 'profile'>> {
    // listRevocations' index-only query, leaves only and without the profile column (half the cost of
    // handing 100,000 rows to JS), rows as arrays, handed on one at a time.
    let rows: IterableIterator<[string, string, RevocationReason | null]>;
    try {
      rows = this.#db
        .prepare(
          `SELECT serial, revoked_at, revocation_reason FROM certificates
           WHERE kind = ? AND status = 'revoked' AND not_after > ? AND profile NOT IN ('root', 'intermediate')
           ORDER BY revoked_at, serial`,
        )
        .raw(true)
        .iterate(kind, now.toISOString()) as IterableIterator<[string, string, RevocationReason | null]>;
    } catch (e) {
      throw sqliteError(e, this.path);
    }
    try {
      while (true) {
        let next: IteratorResult<[string, string, RevocationReason | null]>;
        try {
          next = rows.next();
        } catch (e) {
          throw sqliteError(e, this.path);
        }
        if (next.done) return;
        const [serial, revokedAt, revocationReason] = next.value;
        yield { serial, revokedAt, revocationReason };
      }
    } finally {
      rows.return?.(); // a consumer that stops early (a refused entry) frees the connection
    }
  }

  lastPublished(name: 'crl' | 'root-crl' | 'krl'): { readonly number: bigint; readonly file: string | null } | undefined {
    return this.#read(() => {
      const row = this.#db.prepare('SELECT value, published_file FROM sequences WHERE name = ?').safeIntegers(true).get(name) as
        | { value: bigint; published_file: string | null }
        | undefined;
      return row ? { number: row.value, file: row.published_file } : undefined;
    });
  }

  notePublished(name: 'crl' | 'root-crl' | 'krl', file: string): void {
    this.#write(() => {
      this.#db.prepare('UPDATE sequences SET published_file = ? WHERE name = ?').run(file, name);
    });
  }

  nextSequenceNumber(name: 'crl' | 'root-crl' | 'krl', atLeast = 1n): bigint {
    return this.#write(() => {
      const current = this.#db.prepare('SELECT value FROM sequences WHERE name = ?').pluck().safeIntegers(true).get(name) as bigint | undefined;
      let next = (current ?? 0n) + 1n;
      if (next < atLeast) next = atLeast;
      // A new number has no file published under it yet.
      this.#db.prepare('INSERT INTO sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, published_file = NULL').run(name, next);
      return next;
    });
  }

  exclusive<T>(fn: () => T): T {
    return this.#write(fn);
  }

  /** PRAGMA integrity_check: "ok" or the first problems SQLite finds. */
  integrityCheck(): string {
    return this.#read(() => (this.#db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; '));
  }

  /**
   * A consistent copy of the whole database at `target` (VACUUM INTO), e.g. before `pki init --force`
   * starts a fresh inventory.
   */
  copyTo(target: string): void {
    this.#read(() => this.#db.prepare('VACUUM INTO ?').run(target));
  }

  /**
   * Copies every record of `kind` (with its status and revocation) and the matching sequence from another
   * inventory file: `pki init --force` replaces the X.509 CA, not the OpenSSH CAs, whose revocations the
   * next KRL must still carry.
   */
  carryOver(fromPath: string, kind: CertificateKind): number {
    const sequence = kind === 'ssh' ? 'krl' : 'crl';
    this.#db.prepare('ATTACH DATABASE ? AS previous').run(fromPath);
    try {
      return this.#write(() => {
        const columns = (this.#db.prepare('PRAGMA main.table_info(certificates)').all() as { name: string }[])
          .map((c) => c.name)
          .filter((n) => n !== 'id')
          .join(', ');
        const copied = this.#db
          .prepare(`INSERT OR IGNORE INTO main.certificates (${columns}) SELECT ${columns} FROM previous.certificates WHERE kind = ?`)
          .run(kind).changes;
        this.#db.prepare('INSERT OR REPLACE INTO main.sequences (name, value) SELECT name, value FROM previous.sequences WHERE name = ?').run(sequence);
        return copied;
      });
    } finally {
      this.#db.prepare('DETACH DATABASE previous').run();
    }
  }

  /**
   * `pki init --force`: copies the valid X.509 leaf records of the replaced CA's inventory, marked with
   * `previous_ca` = the fingerprint of its archived intermediate, so `pki renew --all` re-issues them under
   * the new CA instead of forgetting them. Revoked and superseded ones stay behind with the old CA's CRL.
   */
  carryOverPreviousCa(fromPath: string, previousCa: string): number {
    this.#db.prepare('ATTACH DATABASE ? AS previous').run(fromPath);
    try {
      return this.#write(() => {
        const columns = (this.#db.prepare('PRAGMA main.table_info(certificates)').all() as { name: string }[])
          .map((c) => c.name)
          .filter((n) => n !== 'id' && n !== 'previous_ca')
          .join(', ');
        return this.#db
          .prepare(
            `INSERT OR IGNORE INTO main.certificates (${columns}, previous_ca) SELECT ${columns}, COALESCE(previous_ca, ?) FROM previous.certificates
             WHERE kind = 'x509' AND status = 'valid' AND profile IN ('server', 'client', 'peer')`,
          )
          .run(previousCa).changes;
      });
    } finally {
      this.#db.prepare('DETACH DATABASE previous').run();
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
