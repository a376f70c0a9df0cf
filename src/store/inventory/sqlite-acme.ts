/**
 * The SQLite implementation of the ACME store (store/inventory/acme.ts), schema v7 (sqlite-schema.ts): on
 * the inventory's own connection, so an ACME write and a certificate write share its WAL, its busy timeout
 * and its BEGIN IMMEDIATE transactions. Every method is one transaction; compare-and-set updates are one
 * `UPDATE … WHERE status = ?` whose changes() decides. Rows ↔ objects in sqlite-acme-rows.ts.
 */
import { randomBytes } from 'node:crypto';
import { PkiError } from '../../core/errors.js';
import type {
  AcmeAccount,
  AcmeAccountStatus,
  AcmeAuthorization,
  AcmeAuthorizationStatus,
  AcmeChallenge,
  AcmeChallengeStatus,
  AcmeOrder,
  AcmeOrderStatus,
  AcmeProblem,
  AcmeStore,
  NewAcmeOrder,
} from './acme.js';
import type Database from 'better-sqlite3';
import type { SqliteConnection } from './sqlite-connection.js';
import { accountOf, authorizationOf, challengeOf, orderOf, type AccountRow, type AuthorizationRow, type ChallengeRow, type OrderRow } from './sqlite-acme-rows.js';

/** Random base64url: 16 bytes (128 bits) for ids and nonces, 32 for challenge tokens. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Expired nonces are deleted at most this often (from inside a createNonce transaction). */
const NONCE_SWEEP_INTERVAL_MS = 60_000;

export class SqliteAcmeStore implements AcmeStore {
  readonly #c: SqliteConnection;
  #lastSweep = 0;
  /** Statements prepared once per connection (preparing per call was a visible share of every ACME request). */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  /** The statement for `sql`, prepared on first use; `pluck` is set on every call (a cached statement keeps it). */
  #stmt(sql: string, pluck = false): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#c.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement.reader ? statement.pluck(pluck) : statement;
  }
  #all<T>(sql: string, ...params: unknown[]): T[] {
    return this.#c.read(() => this.#stmt(sql).all(...params) as T[]);
  }
  #get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.#c.read(() => this.#stmt(sql).get(...params) as T | undefined);
  }

  createNonce(now: Date, expiresAt: Date): string {
    const nonce = randomId();
    this.#c.write(() => {
      this.#stmt('INSERT INTO acme_nonces (nonce, expires_at) VALUES (?, ?)').run(nonce, expiresAt.toISOString());
      if (now.getTime() - this.#lastSweep >= NONCE_SWEEP_INTERVAL_MS) {
        this.#stmt('DELETE FROM acme_nonces WHERE expires_at <= ?').run(now.toISOString());
        this.#lastSweep = now.getTime();
      }
    });
    return nonce;
  }

  /**
   * One DELETE … RETURNING: of two requests racing with one nonce (in this process or another), exactly one
   * deletes the row. An expired nonce is deleted as well and refused.
   */
  consumeNonce(nonce: string, now: Date): boolean {
    if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 200) return false;
    const row = this.#c.write(() => this.#stmt('DELETE FROM acme_nonces WHERE nonce = ? RETURNING expires_at').get(nonce) as { expires_at: string } | undefined);
    return row !== undefined && row.expires_at > now.toISOString();
  }

  createAccount(account: Omit<AcmeAccount, 'id' | 'createdAt'>, now: Date): { account: AcmeAccount; created: boolean } {
    return this.#c.write(() => {
      const existing = this.findAccountByThumbprint(account.provisioner, account.thumbprint);
      if (existing) return { account: existing, created: false };
      const id = randomId();
      this.#stmt(`INSERT INTO acme_accounts (id, provisioner, status, jwk, thumbprint, contact, created_at, created_from, eab_kid)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(id, account.provisioner, account.status, JSON.stringify(account.jwk), account.thumbprint, JSON.stringify(account.contact), now.toISOString(), account.createdFrom, account.eabKid);
      return { account: this.findAccount(id)!, created: true };
    });
  }

  findAccount(id: string): AcmeAccount | undefined {
    const row = this.#get<AccountRow>('SELECT * FROM acme_accounts WHERE id = ?', id);
    return row && accountOf(row);
  }

  findAccountByThumbprint(provisioner: string, thumbprint: string): AcmeAccount | undefined {
    const row = this.#get<AccountRow>('SELECT * FROM acme_accounts WHERE provisioner = ? AND thumbprint = ?', provisioner, thumbprint);
    return row && accountOf(row);
  }

  updateAccount(
    id: string,
    changes: { status?: AcmeAccountStatus; contact?: readonly string[]; jwk?: Readonly<Record<string, string>>; thumbprint?: string },
  ): AcmeAccount {
    return this.#c.write(() => {
      const current = this.findAccount(id);
      if (!current) throw new PkiError('ERR_ACME_NOT_FOUND', `no ACME account ${id}`);
      if ((changes.jwk === undefined) !== (changes.thumbprint === undefined)) {
        throw new PkiError('ERR_INTERNAL', 'an ACME key change needs both the JWK and its thumbprint');
      }
      if (changes.thumbprint !== undefined) {
        const holder = this.findAccountByThumbprint(current.provisioner, changes.thumbprint);
        if (holder && holder.id !== id) throw new PkiError('ERR_ACME_KEY_IN_USE', `the key ${changes.thumbprint} is already the key of ACME account ${holder.id}`);
      }
      this.#stmt('UPDATE acme_accounts SET status = ?, contact = ?, jwk = ?, thumbprint = ? WHERE id = ?')
        .run(
          changes.status ?? current.status,
          JSON.stringify(changes.contact ?? current.contact),
          JSON.stringify(changes.jwk ?? current.jwk),
          changes.thumbprint ?? current.thumbprint,
          id,
        );
      return this.findAccount(id)!;
    });
  }

  countAccountsCreatedFrom(address: string, since: Date): number {
    return this.#get<{ n: number }>('SELECT count(*) AS n FROM acme_accounts WHERE created_from = ? AND created_at >= ?', address, since.toISOString())!.n;
  }

  createOrder(order: NewAcmeOrder, now: Date): AcmeOrder {
    return this.#c.write(() => {
      const id = randomId();
      this.#stmt(`INSERT INTO acme_orders (id, account_id, provisioner, status, expires, identifiers, not_before, not_after, error, certificate_serial, replaces, created_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, NULL, NULL, ?, ?)`).run(id, order.accountId, order.provisioner, order.expires, JSON.stringify(order.identifiers), order.notBefore, order.notAfter, order.replaces, now.toISOString());
      const authz = this.#stmt(`INSERT INTO acme_authorizations (id, order_id, position, account_id, identifier_type, identifier_value, status, expires, wildcard)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`);
      const challenge = this.#stmt(`INSERT INTO acme_challenges (id, authorization_id, position, type, token, status) VALUES (?, ?, ?, ?, ?, 'pending')`);
      order.authorizations.forEach((a, position) => {
        const authzId = randomId();
        authz.run(authzId, id, position, order.accountId, a.identifier.type, a.identifier.value, a.expires, a.wildcard ? 1 : 0);
        a.challengeTypes.forEach((type, i) => challenge.run(randomId(), authzId, i, type, randomId(32)));
      });
      return this.findOrder(id)!;
    });
  }

  findOrder(id: string): AcmeOrder | undefined {
    return this.#c.read(() => {
      const row = this.#get<OrderRow>('SELECT * FROM acme_orders WHERE id = ?', id);
      if (!row) return undefined;
      const authorizationIds = this.#stmt('SELECT id FROM acme_authorizations WHERE order_id = ? ORDER BY position', true).all(id) as string[];
      return orderOf(row, authorizationIds);
    });
  }

  findOrderByCertificate(serial: string): AcmeOrder | undefined {
    const id = this.#c.read(() => this.#stmt('SELECT id FROM acme_orders WHERE certificate_serial = ? ORDER BY created_at DESC LIMIT 1', true).get(serial) as string | undefined);
    return id === undefined ? undefined : this.findOrder(id);
  }

  listOrderIds(accountId: string): string[] {
    return this.#c.read(() => this.#stmt('SELECT id FROM acme_orders WHERE account_id = ? ORDER BY created_at, rowid', true).all(accountId) as string[]);
  }

  countOrdersSince(accountId: string, since: Date): number {
    return this.#get<{ n: number }>('SELECT count(*) AS n FROM acme_orders WHERE account_id = ? AND created_at >= ?', accountId, since.toISOString())!.n;
  }

  updateOrder(
    id: string,
    changes: { status?: AcmeOrderStatus; error?: AcmeProblem | null; certificateSerial?: string },
    expect?: { status: AcmeOrderStatus },
  ): AcmeOrder | undefined {
    return this.#c.write(() => {
      const sets: string[] = [];
      const params: unknown[] = [];
      if (changes.status !== undefined) {
        sets.push('status = ?');
        params.push(changes.status);
      }
      if (changes.error !== undefined) {
        sets.push('error = ?');
        params.push(changes.error === null ? null : JSON.stringify(changes.error));
      }
      if (changes.certificateSerial !== undefined) {
        sets.push('certificate_serial = ?');
        params.push(changes.certificateSerial);
      }
      if (!this.#casUpdate('acme_orders', sets, params, id, expect?.status)) return undefined;
      return this.findOrder(id);
    });
  }

  findAuthorization(id: string): AcmeAuthorization | undefined {
    return this.#c.read(() => {
      const row = this.#get<AuthorizationRow>('SELECT * FROM acme_authorizations WHERE id = ?', id);
      if (!row) return undefined;
      const challengeIds = this.#stmt('SELECT id FROM acme_challenges WHERE authorization_id = ? ORDER BY position', true).all(id) as string[];
      return authorizationOf(row, challengeIds);
    });
  }

  updateAuthorization(id: string, changes: { status: AcmeAuthorizationStatus }, expect?: { status: AcmeAuthorizationStatus }): AcmeAuthorization | undefined {
    return this.#c.write(() => (this.#casUpdate('acme_authorizations', ['status = ?'], [changes.status], id, expect?.status) ? this.findAuthorization(id) : undefined));
  }

  findChallenge(id: string): AcmeChallenge | undefined {
    const row = this.#get<ChallengeRow>('SELECT * FROM acme_challenges WHERE id = ?', id);
    return row && challengeOf(row);
  }

  updateChallenge(
    id: string,
    changes: { status: AcmeChallengeStatus; validated?: string | null; error?: AcmeProblem | null },
    expect?: { status: AcmeChallengeStatus },
  ): AcmeChallenge | undefined {
    return this.#c.write(() => {
      const sets = ['status = ?'];
      const params: unknown[] = [changes.status];
      if (changes.validated !== undefined) {
        sets.push('validated = ?');
        params.push(changes.validated);
      }
      if (changes.error !== undefined) {
        sets.push('error = ?');
        params.push(changes.error === null ? null : JSON.stringify(changes.error));
      }
      return this.#casUpdate('acme_challenges', sets, params, id, expect?.status) ? this.findChallenge(id) : undefined;
    });
  }

  listProcessingChallenges(): AcmeChallenge[] {
    return this.#all<ChallengeRow>(`SELECT * FROM acme_challenges WHERE status = 'processing' ORDER BY rowid`).map(challengeOf);
  }

  /** How many nonces are outstanding (tests, metrics). */
  countNonces(): number {
    return this.#get<{ n: number }>('SELECT count(*) AS n FROM acme_nonces')!.n;
  }

  /** `UPDATE table SET … WHERE id = ? [AND status = ?]`; true when the row was there (and had `status`). */
  #casUpdate(table: 'acme_orders' | 'acme_authorizations' | 'acme_challenges', sets: string[], params: unknown[], id: string, status: string | undefined): boolean {
    const where = status === undefined ? 'id = ?' : 'id = ? AND status = ?';
    const whereParams = status === undefined ? [id] : [id, status];
    // Nothing to change: still answer whether the guard holds.
    const sql = sets.length === 0 ? `SELECT 1 FROM ${table} WHERE ${where}` : `UPDATE ${table} SET ${sets.join(', ')} WHERE ${where}`;
    if (sets.length === 0) return this.#stmt(sql).get(...whereParams) !== undefined;
    return this.#stmt(sql).run(...params, ...whereParams).changes === 1;
  }
}
