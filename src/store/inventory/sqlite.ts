/**
 * The SQLite inventory (better-sqlite3) at `<dir>/db/pki.sqlite`.
 *
 * Concurrency: WAL mode (readers never block the one writer), a 10 s busy timeout, and every write in a
 * `BEGIN IMMEDIATE` transaction, so a writer takes the lock before it reads what it will change and two
 * processes can never interleave a read-modify-write (https://www.sqlite.org/lang_transaction.html).
 * Loaded lazily by open.ts: commands that do not touch the inventory never load the native module.
 */
import Database from 'better-sqlite3';
import { closeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RevocationReason } from '../../core/x509/revocation-reason.js';
import type {
  CertificateKind,
  CertificateRecord,
  CertificateSummary,
  CheckRecord,
  Inventory,
  ListFilter,
  NewCertificateRecord,
  RevocationEntry,
  SequenceName,
  IssuerScope,
} from './index.js';
import { InventoryPaths } from './paths.js';
import { createExclusive } from '../fs/exclusive-create.js';
import { SqliteConnection } from './sqlite-connection.js';
import { BUSY_TIMEOUT_MS, sqliteError } from './sqlite-errors.js';
import { migrate } from './sqlite-schema.js';
import type { AcmeStoreProvider } from './acme.js';
import { SqliteAcmeStore } from './sqlite-acme.js';
import * as records from './sqlite-records.js';
import * as passes from './sqlite-passes.js';

export { SCHEMA_VERSION } from './sqlite-schema.js';

/** Creates the database file with mode 0600 before SQLite opens it (SQLite would use the umask). */
function createEmptyFile(path: string): void {
  closeSync(createExclusive(path, 0o600));
}

/** The Inventory on SQLite: opening and closing here, the statements in sqlite-records.ts and sqlite-passes.ts. */
export class SqliteInventory implements Inventory, AcmeStoreProvider {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #c: SqliteConnection;
  #acme: SqliteAcmeStore | undefined;
  /** revocationMark's last answers and the PRAGMA data_version they were read at (it changes when another connection commits). */
  readonly #marks = new Map<CertificateKind, { version: number; mark: string }>();
  #dataVersion: Database.Statement | undefined;

  /**
   * Opens (or with `create`, creates) the database and brings its schema up to date. The folder must exist.
   * `now` stamps issuedAt.
   */
  constructor(path: string, options: { create: boolean; now?: () => Date }) {
    this.path = path;
    try {
      if (options.create) {
        try {
          createEmptyFile(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      const db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      this.#db = db;
      // WAL is persistent in the file: switch only once, since the switch itself needs an exclusive lock.
      if (this.#db.pragma('journal_mode', { simple: true }) !== 'wal') this.#db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; a power cut may lose the last commit.
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('foreign_keys = ON');
      this.#c = new SqliteConnection(db, path, new InventoryPaths(dirname(dirname(path))), options.now ?? (() => new Date()));
      migrate(this.#c);
    } catch (e) {
      throw sqliteError(e, path);
    }
  }

  recordIssued(list: readonly NewCertificateRecord[]): void {
    records.recordIssued(this.#c, list);
  }
  importMissing(list: readonly NewCertificateRecord[]): number {
    return records.importMissing(this.#c, list);
  }
  find(kind: CertificateKind, serial: string): CertificateRecord | undefined {
    return records.find(this.#c, kind, serial);
  }
  list(filter: ListFilter = {}): CertificateRecord[] {
    return records.list(this.#c, filter);
  }
  listSummaries(filter: ListFilter = {}): CertificateSummary[] {
    return records.listSummaries(this.#c, filter);
  }
  retire(kind: CertificateKind, serials: readonly string[]): number {
    return records.retire(this.#c, kind, serials);
  }
  revoke(kind: CertificateKind, serial: string, at: Date, reason: RevocationReason): CertificateRecord {
    this.#marks.clear(); // data_version does not change for this connection's own commits
    return records.revoke(this.#c, kind, serial, at, reason);
  }
  listRevokedUnexpired(kind: CertificateKind, now: Date): CertificateRecord[] {
    return records.listRevokedUnexpired(this.#c, kind, now);
  }
  renewalCandidates(now: Date, policy: { threshold: number } | { expiresWithinMs: number }): { candidates: CertificateSummary[]; total: number; sharedPaths: boolean } {
    return passes.renewalCandidates(this.#c, now, policy);
  }
  previousCaSerials(): Map<string, string> {
    return passes.previousCaSerials(this.#c);
  }
  listForCheck(now: Date): CheckRecord[] {
    return passes.listForCheck(this.#c, now);
  }
  listRevocations(kind: CertificateKind, now: Date, scope?: IssuerScope): RevocationEntry[] {
    return passes.listRevocations(this.#c, kind, now, scope);
  }
  /** The count query runs only when PRAGMA data_version says another connection committed (or this one revoked). */
  revocationMark(kind: CertificateKind): string {
    const version = this.#c.read(() => (this.#dataVersion ??= this.#db.prepare('PRAGMA data_version').pluck()).get() as number);
    const known = this.#marks.get(kind);
    if (known && known.version === version) return known.mark;
    const mark = passes.revocationMark(this.#c, kind);
    this.#marks.set(kind, { version, mark });
    return mark;
  }
  iterateLeafRevocations(kind: CertificateKind, now: Date, scope?: IssuerScope): IterableIterator<Omit<RevocationEntry, 'profile' | 'issuer'>> {
    return passes.iterateLeafRevocations(this.#c, kind, now, scope);
  }
  lastPublished(name: SequenceName): { readonly number: bigint; readonly file: string | null } | undefined {
    return passes.lastPublished(this.#c, name);
  }
  notePublished(name: SequenceName, file: string): void {
    passes.notePublished(this.#c, name, file);
  }
  nextSequenceNumber(name: SequenceName, atLeast = 1n): bigint {
    return passes.nextSequenceNumber(this.#c, name, atLeast);
  }
  carryOver(fromPath: string, kind: CertificateKind): number {
    return passes.carryOver(this.#c, fromPath, kind);
  }
  carryOverPreviousCa(fromPath: string, previousCa: string): number {
    return passes.carryOverPreviousCa(this.#c, fromPath, previousCa);
  }

  /** The ACME tables (schema v7) on this connection: one store per inventory (acme.ts acmeStore). */
  acmeStore(): SqliteAcmeStore {
    this.#acme ??= new SqliteAcmeStore(this.#c);
    return this.#acme;
  }

  exclusive<T>(fn: () => T): T {
    return this.#c.write(fn);
  }

  /** PRAGMA integrity_check: "ok" or the first problems SQLite finds. */
  integrityCheck(): string {
    return this.#c.read(() => (this.#db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; '));
  }

  /**
   * A consistent copy of the whole database at `target` (VACUUM INTO), e.g. before `pki init --force`
   * starts a fresh inventory.
   */
  /** The connection itself, for `pki db migrate` (migrate.ts), which copies whole tables row by row. */
  get database(): Database.Database {
    return this.#db;
  }

  copyTo(target: string): void {
    this.#c.read(() => this.#db.prepare('VACUUM INTO ?').run(target));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
