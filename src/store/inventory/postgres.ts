/**
 * The Inventory on PostgreSQL (issue 14), for several CA hosts sharing one inventory: the same queries as
 * sqlite-records.ts and sqlite-passes.ts over the schema of pg-schema.ts, through the synchronous bridge
 * to the `pg` worker (pg-bridge.ts).
 *
 * Concurrency, as on SQLite: every write runs in one transaction that first takes the inventory's write
 * lock (a PostgreSQL advisory lock, the counterpart of BEGIN IMMEDIATE), so a read-modify-write of one
 * host never interleaves with another's; `exclusive(fn)` is that transaction around `fn`. Serials are
 * unique by constraint besides; a CRL Number is advanced by one `INSERT … ON CONFLICT DO UPDATE …
 * RETURNING` under the lock, so numbers are strictly increasing across hosts. Reads run outside
 * transactions on any pooled connection and see what was committed.
 */
import { join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import type { RevocationReason } from '../../core/x509/revocation-reason.js';
import type {
  CertificateKind,
  CertificateRecord,
  CertificateSummary,
  CheckRecord,
  Inventory,
  InventoryProfile,
  IssuerScope,
  ListFilter,
  NewCertificateRecord,
  RevocationEntry,
  SequenceName,
} from './index.js';
import type { AcmeStoreProvider } from './acme.js';
import { InventoryPaths } from './paths.js';
import { PgBridge, type PgParam } from './pg-bridge.js';
import { PG_SCHEMA_VERSION } from './pg-schema.js';
import type { PgTarget } from './pg-url.js';
import { PostgresAcmeStore } from './postgres-acme.js';
import { toRecord, type Row } from './sqlite-records.js';
import * as passes from './postgres-passes.js';

const INSERT = `INSERT INTO certificates (kind, serial, subject, sans, profile, issuer, not_before, not_after, fingerprint_sha256,
   status, issued_at, supersedes, certificate_path, key_path, key_id, pem, profile_name, ca, trust_domain, issuer_key_id)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'valid', $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`;

export class PostgresInventory implements Inventory, AcmeStoreProvider {
  /** The database's URL (it carries no password): what messages name. */
  readonly path: string;
  /** The journals stay on this host, in the CA home's db/journal/ (store/inventory/journal-file.ts). */
  readonly journalDir: string;
  readonly #bridge: PgBridge;
  readonly #paths: InventoryPaths;
  readonly #now: () => Date;
  #acme: PostgresAcmeStore | undefined;

  /** Connects and brings the schema up to date; `home` is the CA home paths are stored relative to. */
  constructor(target: PgTarget, options: { home: string; now?: () => Date }) {
    this.path = target.display;
    this.#paths = new InventoryPaths(options.home);
    this.journalDir = join(this.#paths.home, 'db', 'journal');
    this.#now = options.now ?? (() => new Date());
    this.#bridge = new PgBridge(target);
  }

  /** The bridge, for the ACME store and `pki db migrate`. */
  get bridge(): PgBridge {
    return this.#bridge;
  }

  #insertParams(r: NewCertificateRecord, issuedAt: string): PgParam[] {
    const p = this.#paths;
    return [
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
      p.toStored(r.certificatePath),
      p.toStored(r.keyPath),
      r.keyId ?? null,
      r.pem,
      r.profileName ?? null,
      r.ca ?? null,
      r.trustDomain ?? null,
      r.issuerKeyId ?? null,
    ];
  }

  recordIssued(records: readonly NewCertificateRecord[]): void {
    if (records.length === 0) return;
    const issuedAt = this.#now().toISOString();
    const b = this.#bridge;
    b.transaction(() => {
      for (const r of records) {
        if (b.query('SELECT 1 FROM certificates WHERE kind = $1 AND serial = $2', [r.kind, r.serial]).rowCount > 0) {
          throw new PkiError('ERR_DUPLICATE_SERIAL', `serial ${r.serial} is already in the inventory`, { hint: 'this is a bug: serials are random; please report it' });
        }
        if (r.kind === 'x509' && r.certificatePath !== null) {
          b.query(
            `UPDATE certificates SET status = 'superseded', superseded_by = $1
             WHERE kind = 'x509' AND certificate_path = $2 AND status = 'valid' AND serial <> $1`,
            [r.serial, this.#paths.toStored(r.certificatePath)],
          );
        }
        if (r.supersedes) {
          b.query(
            `UPDATE certificates SET status = CASE status WHEN 'valid' THEN 'superseded' ELSE status END, superseded_by = $1
             WHERE kind = $2 AND serial = $3`,
            [r.serial, r.kind, r.supersedes],
          );
        }
        b.query(INSERT, this.#insertParams(r, issuedAt));
      }
    });
  }

  importMissing(records: readonly NewCertificateRecord[]): number {
    const issuedAt = this.#now().toISOString();
    return this.#bridge.transaction(() => {
      let added = 0;
      for (const r of records) added += this.#bridge.query(`${INSERT} ON CONFLICT (kind, serial) DO NOTHING`, this.#insertParams(r, issuedAt)).rowCount;
      return added;
    });
  }

  find(kind: CertificateKind, serial: string): CertificateRecord | undefined {
    const row = this.#bridge.query<Row>('SELECT * FROM certificates WHERE kind = $1 AND serial = $2', [kind, serial]).rows[0];
    return row ? toRecord(row, this.#paths) : undefined;
  }

  list(filter: ListFilter = {}): CertificateRecord[] {
    const { sql, params } = passes.listQuery('*', filter);
    return this.#bridge.query<Row>(sql, params).rows.map((r) => toRecord(r, this.#paths));
  }

  listSummaries(filter: ListFilter = {}): CertificateSummary[] {
    const { sql, params } = passes.listQuery(passes.SUMMARY_COLUMNS, filter);
    return this.#bridge.queryArrays<passes.SummaryRow>(sql, params).rows.map((r) => passes.summary(r, this.#paths));
  }

  renewalCandidates(now: Date, policy: { threshold: number } | { expiresWithinMs: number }): { candidates: CertificateSummary[]; total: number; sharedPaths: boolean } {
    return passes.renewalCandidates(this.#bridge, this.#paths, now, policy);
  }

  listForCheck(now: Date): CheckRecord[] {
    return passes.listForCheck(this.#bridge, this.#paths, now);
  }

  previousCaSerials(): Map<string, string> {
    const rows = this.#bridge.queryArrays<[string, string]>(`SELECT serial, previous_ca FROM certificates WHERE previous_ca IS NOT NULL AND status = 'valid' AND kind = 'x509'`).rows;
    return new Map(rows);
  }

  retire(kind: CertificateKind, serials: readonly string[]): number {
    if (serials.length === 0) return 0;
    return this.#bridge.transaction(() => {
      let changed = 0;
      for (const serial of serials) {
        changed += this.#bridge.query(`UPDATE certificates SET status = 'superseded' WHERE kind = $1 AND serial = $2 AND status = 'valid'`, [kind, serial]).rowCount;
      }
      return changed;
    });
  }

  revoke(kind: CertificateKind, serial: string, at: Date, reason: RevocationReason): CertificateRecord {
    const b = this.#bridge;
    return b.transaction(() => {
      const row = b.query<Row>('SELECT * FROM certificates WHERE kind = $1 AND serial = $2', [kind, serial]).rows[0];
      if (!row) {
        throw new PkiError('ERR_UNKNOWN_SERIAL', `no certificate with serial ${serial} in the inventory`, {
          hint: 'check the serial with "pki list --all"; certificates issued before the inventory existed come back with "pki db rebuild"',
        });
      }
      if (row.status === 'revoked') {
        throw new PkiError('ERR_ALREADY_REVOKED', `certificate ${serial} (${row.subject}) was already revoked on ${row.revoked_at} (${row.revocation_reason})`);
      }
      b.query(`UPDATE certificates SET status = 'revoked', revoked_at = $1, revocation_reason = $2 WHERE kind = $3 AND serial = $4`, [at.toISOString(), reason, kind, serial]);
      return toRecord({ ...row, status: 'revoked', revoked_at: at.toISOString(), revocation_reason: reason }, this.#paths);
    });
  }

  listRevokedUnexpired(kind: CertificateKind, now: Date): CertificateRecord[] {
    return this.#bridge
      .query<Row>(`SELECT * FROM certificates WHERE kind = $1 AND status = 'revoked' AND not_after > $2 ORDER BY revoked_at, serial`, [kind, now.toISOString()])
      .rows.map((r) => toRecord(r, this.#paths));
  }

  listRevocations(kind: CertificateKind, now: Date, scope?: IssuerScope): RevocationEntry[] {
    const s = passes.issuerScopeSql(scope, 3);
    const rows = this.#bridge.queryArrays<[string, InventoryProfile, string, RevocationReason | null, string]>(
      `SELECT serial, profile, revoked_at, revocation_reason, issuer FROM certificates
       WHERE kind = $1 AND status = 'revoked' AND not_after > $2${s.where} ORDER BY revoked_at, serial`,
      [kind, now.toISOString(), ...s.params],
    ).rows;
    return rows.map(([serial, profile, revokedAt, revocationReason, issuer]) => ({ serial, profile, revokedAt, revocationReason, issuer }));
  }

  /** How many records of `kind` are revoked and the latest revocation time (the partial index certificates_revocations). */
  revocationMark(kind: CertificateKind): string {
    const [n, latest] = this.#bridge.queryArrays<[string, string | null]>(`SELECT count(*), max(revoked_at) FROM certificates WHERE kind = $1 AND status = 'revoked'`, [kind]).rows[0]!;
    return `${n}/${latest ?? ''}`;
  }

  /** Read in one query (a few MB for 100,000 entries) and handed on one at a time: the connection is free at once. */
  *iterateLeafRevocations(kind: CertificateKind, now: Date, scope?: IssuerScope): IterableIterator<Omit<RevocationEntry, 'profile' | 'issuer'>> {
    const s = passes.issuerScopeSql(scope, 3);
    const rows = this.#bridge.queryArrays<[string, string, RevocationReason | null]>(
      `SELECT serial, revoked_at, revocation_reason FROM certificates
       WHERE kind = $1 AND status = 'revoked' AND not_after > $2 AND profile NOT IN ('root', 'intermediate')${s.where}
       ORDER BY revoked_at, serial`,
      [kind, now.toISOString(), ...s.params],
    ).rows;
    for (const [serial, revokedAt, revocationReason] of rows) yield { serial, revokedAt, revocationReason };
  }

  lastPublished(name: SequenceName): { readonly number: bigint; readonly file: string | null } | undefined {
    const row = this.#bridge.queryArrays<[string, string | null]>('SELECT value::text, published_file FROM sequences WHERE name = $1', [name]).rows[0];
    return row ? { number: BigInt(row[0]), file: row[1] } : undefined;
  }

  notePublished(name: SequenceName, file: string): void {
    this.#bridge.transaction(() => this.#bridge.query('UPDATE sequences SET published_file = $1 WHERE name = $2', [file, name]));
  }

  nextSequenceNumber(name: SequenceName, atLeast = 1n): bigint {
    const floor = String(atLeast < 1n ? 1n : atLeast);
    // The row lock of the upsert, under the write lock, makes the numbers strictly increasing across hosts; a new number has no file yet.
    const row = this.#bridge.transaction(
      () =>
        this.#bridge.queryArrays<[string]>(
          `INSERT INTO sequences (name, value) VALUES ($1, $2::bigint)
           ON CONFLICT (name) DO UPDATE SET value = GREATEST(sequences.value + 1, $2::bigint), published_file = NULL
           RETURNING value::text`,
          [name, floor],
        ).rows[0]!,
    );
    return BigInt(row[0]);
  }

  /** How many X.509 records the database holds (init refuses to start a fresh CA on a shared inventory that has some). */
  countCertificates(kind: CertificateKind): number {
    return Number(this.#bridge.queryArrays<[string]>('SELECT count(*) FROM certificates WHERE kind = $1', [kind]).rows[0]![0]);
  }

  /** The ACME tables on this database (acme.ts acmeStore): `pki serve` instances sharing it share accounts, orders and nonces. */
  acmeStore(): PostgresAcmeStore {
    this.#acme ??= new PostgresAcmeStore(this.#bridge);
    return this.#acme;
  }

  exclusive<T>(fn: () => T): T {
    return this.#bridge.transaction(fn);
  }

  /** "ok" when the schema is this pki's and every table answers; else what is wrong. */
  integrityCheck(): string {
    const version = Number(this.#bridge.queryArrays<[number]>('SELECT max(version) FROM schema_version').rows[0]![0]);
    if (version !== PG_SCHEMA_VERSION) return `schema version ${version}, expected ${PG_SCHEMA_VERSION}`;
    const bad = Number(
      this.#bridge.queryArrays<[string]>(`SELECT count(*) FROM certificates WHERE (status = 'revoked') <> (revoked_at IS NOT NULL)`).rows[0]![0],
    );
    return bad === 0 ? 'ok' : `${bad} revoked records without a revocation time, or the reverse`;
  }

  close(): void {
    this.#bridge.close();
  }
}
