/**
 * The ACME store on the PostgreSQL inventory (issue 14): the tables of pg-schema.ts, shared by every
 * `pki serve` instance on the database, so an account, an order or a nonce made by one is known to all.
 * The same statements as sqlite-acme.ts; what decides a race is the database: a nonce is consumed by one
 * `DELETE … RETURNING` (of two instances receiving it, one deletes the row), and every compare-and-set
 * update is one `UPDATE … WHERE id = $1 AND status = $2` whose row count decides, so an order is
 * finalised once even when two instances receive the finalize. Writes run under the inventory's write
 * lock, as the certificates' do (postgres.ts).
 */
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
import type { PgBridge, PgParam } from './pg-bridge.js';
import { accountOf, authorizationOf, challengeOf, orderOf, type AccountRow, type AuthorizationRow, type ChallengeRow, type OrderRow } from './sqlite-acme-rows.js';
import { randomId } from './sqlite-acme.js';

/** Expired nonces are deleted at most this often per instance (from inside a createNonce call). */
const NONCE_SWEEP_INTERVAL_MS = 60_000;

export class PostgresAcmeStore implements AcmeStore {
  readonly #b: PgBridge;
  #lastSweep = 0;

  constructor(bridge: PgBridge) {
    this.#b = bridge;
  }

  #get<T>(sql: string, params: PgParam[]): T | undefined {
    return this.#b.query<T>(sql, params).rows[0];
  }
  #column<T>(sql: string, params: PgParam[]): T[] {
    return this.#b.queryArrays<[T]>(sql, params).rows.map((r) => r[0]);
  }

  /** One autocommitted INSERT: a nonce needs no lock (its primary key is random). */
  createNonce(now: Date, expiresAt: Date): string {
    const nonce = randomId();
    this.#b.query('INSERT INTO acme_nonces (nonce, expires_at) VALUES ($1, $2)', [nonce, expiresAt.toISOString()]);
    if (now.getTime() - this.#lastSweep >= NONCE_SWEEP_INTERVAL_MS) {
      this.#b.query('DELETE FROM acme_nonces WHERE expires_at <= $1', [now.toISOString()]);
      this.#lastSweep = now.getTime();
    }
    return nonce;
  }

  consumeNonce(nonce: string, now: Date): boolean {
    if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 200) return false;
    const row = this.#get<{ expires_at: string }>('DELETE FROM acme_nonces WHERE nonce = $1 RETURNING expires_at', [nonce]);
    return row !== undefined && row.expires_at > now.toISOString();
  }

  createAccount(account: Omit<AcmeAccount, 'id' | 'createdAt'>, now: Date): { account: AcmeAccount; created: boolean } {
    return this.#b.transaction(() => {
      const existing = this.findAccountByThumbprint(account.provisioner, account.thumbprint);
      if (existing) return { account: existing, created: false };
      const id = randomId();
      this.#b.query(
        `INSERT INTO acme_accounts (id, provisioner, status, jwk, thumbprint, contact, created_at, created_from, eab_kid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [id, account.provisioner, account.status, JSON.stringify(account.jwk), account.thumbprint, JSON.stringify(account.contact), now.toISOString(), account.createdFrom, account.eabKid],
      );
      return { account: this.findAccount(id)!, created: true };
    });
  }

  findAccount(id: string): AcmeAccount | undefined {
    const row = this.#get<AccountRow>('SELECT * FROM acme_accounts WHERE id = $1', [id]);
    return row && accountOf(row);
  }

  findAccountByThumbprint(provisioner: string, thumbprint: string): AcmeAccount | undefined {
    const row = this.#get<AccountRow>('SELECT * FROM acme_accounts WHERE provisioner = $1 AND thumbprint = $2', [provisioner, thumbprint]);
    return row && accountOf(row);
  }

  updateAccount(
    id: string,
    changes: { status?: AcmeAccountStatus; contact?: readonly string[]; jwk?: Readonly<Record<string, string>>; thumbprint?: string },
  ): AcmeAccount {
    return this.#b.transaction(() => {
      const current = this.findAccount(id);
      if (!current) throw new PkiError('ERR_ACME_NOT_FOUND', `no ACME account ${id}`);
      if ((changes.jwk === undefined) !== (changes.thumbprint === undefined)) {
        throw new PkiError('ERR_INTERNAL', 'an ACME key change needs both the JWK and its thumbprint');
      }
      if (changes.thumbprint !== undefined) {
        const holder = this.findAccountByThumbprint(current.provisioner, changes.thumbprint);
        if (holder && holder.id !== id) throw new PkiError('ERR_ACME_KEY_IN_USE', `the key ${changes.thumbprint} is already the key of ACME account ${holder.id}`);
      }
      this.#b.query('UPDATE acme_accounts SET status = $1, contact = $2, jwk = $3, thumbprint = $4 WHERE id = $5', [
        changes.status ?? current.status,
        JSON.stringify(changes.contact ?? current.contact),
        JSON.stringify(changes.jwk ?? current.jwk),
        changes.thumbprint ?? current.thumbprint,
        id,
      ]);
      return this.findAccount(id)!;
    });
  }

  countAccountsCreatedFrom(address: string, since: Date): number {
    return Number(this.#column<string>('SELECT count(*) FROM acme_accounts WHERE created_from = $1 AND created_at >= $2', [address, since.toISOString()])[0]);
  }

  createOrder(order: NewAcmeOrder, now: Date): AcmeOrder {
    return this.#b.transaction(() => {
      const id = randomId();
      this.#b.query(
        `INSERT INTO acme_orders (id, account_id, provisioner, status, expires, identifiers, not_before, not_after, error, certificate_serial, replaces, created_at)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, NULL, NULL, $8, $9)`,
        [id, order.accountId, order.provisioner, order.expires, JSON.stringify(order.identifiers), order.notBefore, order.notAfter, order.replaces, now.toISOString()],
      );
      order.authorizations.forEach((a, position) => {
        const authzId = randomId();
        this.#b.query(
          `INSERT INTO acme_authorizations (id, order_id, position, account_id, identifier_type, identifier_value, status, expires, wildcard)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
          [authzId, id, position, order.accountId, a.identifier.type, a.identifier.value, a.expires, a.wildcard ? 1 : 0],
        );
        a.challengeTypes.forEach((type, i) =>
          this.#b.query(`INSERT INTO acme_challenges (id, authorization_id, position, type, token, status) VALUES ($1, $2, $3, $4, $5, 'pending')`, [randomId(), authzId, i, type, randomId(32)]),
        );
      });
      return this.findOrder(id)!;
    });
  }

  findOrder(id: string): AcmeOrder | undefined {
    const row = this.#get<OrderRow>('SELECT * FROM acme_orders WHERE id = $1', [id]);
    if (!row) return undefined;
    return orderOf(row, this.#column<string>('SELECT id FROM acme_authorizations WHERE order_id = $1 ORDER BY position', [id]));
  }

  findOrderByCertificate(serial: string): AcmeOrder | undefined {
    const id = this.#column<string>('SELECT id FROM acme_orders WHERE certificate_serial = $1 ORDER BY created_at DESC, rowid DESC LIMIT 1', [serial])[0];
    return id === undefined ? undefined : this.findOrder(id);
  }

  listOrderIds(accountId: string): string[] {
    return this.#column<string>('SELECT id FROM acme_orders WHERE account_id = $1 ORDER BY created_at, rowid', [accountId]);
  }

  countOrdersSince(accountId: string, since: Date): number {
    return Number(this.#column<string>('SELECT count(*) FROM acme_orders WHERE account_id = $1 AND created_at >= $2', [accountId, since.toISOString()])[0]);
  }

  updateOrder(
    id: string,
    changes: { status?: AcmeOrderStatus; error?: AcmeProblem | null; certificateSerial?: string },
    expect?: { status: AcmeOrderStatus },
  ): AcmeOrder | undefined {
    const sets: [string, PgParam][] = [];
    if (changes.status !== undefined) sets.push(['status', changes.status]);
    if (changes.error !== undefined) sets.push(['error', changes.error === null ? null : JSON.stringify(changes.error)]);
    if (changes.certificateSerial !== undefined) sets.push(['certificate_serial', changes.certificateSerial]);
    return this.#b.transaction(() => (this.#casUpdate('acme_orders', sets, id, expect?.status) ? this.findOrder(id) : undefined));
  }

  findAuthorization(id: string): AcmeAuthorization | undefined {
    const row = this.#get<AuthorizationRow>('SELECT * FROM acme_authorizations WHERE id = $1', [id]);
    if (!row) return undefined;
    return authorizationOf(row, this.#column<string>('SELECT id FROM acme_challenges WHERE authorization_id = $1 ORDER BY position', [id]));
  }

  updateAuthorization(id: string, changes: { status: AcmeAuthorizationStatus }, expect?: { status: AcmeAuthorizationStatus }): AcmeAuthorization | undefined {
    return this.#b.transaction(() => (this.#casUpdate('acme_authorizations', [['status', changes.status]], id, expect?.status) ? this.findAuthorization(id) : undefined));
  }

  findChallenge(id: string): AcmeChallenge | undefined {
    const row = this.#get<ChallengeRow>('SELECT * FROM acme_challenges WHERE id = $1', [id]);
    return row && challengeOf(row);
  }

  updateChallenge(
    id: string,
    changes: { status: AcmeChallengeStatus; validated?: string | null; error?: AcmeProblem | null },
    expect?: { status: AcmeChallengeStatus },
  ): AcmeChallenge | undefined {
    const sets: [string, PgParam][] = [['status', changes.status]];
    if (changes.validated !== undefined) sets.push(['validated', changes.validated]);
    if (changes.error !== undefined) sets.push(['error', changes.error === null ? null : JSON.stringify(changes.error)]);
    return this.#b.transaction(() => (this.#casUpdate('acme_challenges', sets, id, expect?.status) ? this.findChallenge(id) : undefined));
  }

  listProcessingChallenges(): AcmeChallenge[] {
    return this.#b.query<ChallengeRow>(`SELECT * FROM acme_challenges WHERE status = 'processing' ORDER BY rowid`).rows.map(challengeOf);
  }

  /** How many nonces are outstanding (tests, metrics). */
  countNonces(): number {
    return Number(this.#column<string>('SELECT count(*) FROM acme_nonces', [])[0]);
  }

  /** `UPDATE table SET … WHERE id = $n [AND status = $m]`; true when the row was there (and had `status`). */
  #casUpdate(table: 'acme_orders' | 'acme_authorizations' | 'acme_challenges', sets: [string, PgParam][], id: string, status: string | undefined): boolean {
    const params: PgParam[] = sets.map(([, v]) => v);
    params.push(id);
    let where = `id = $${params.length}`;
    if (status !== undefined) {
      params.push(status);
      where += ` AND status = $${params.length}`;
    }
    if (sets.length === 0) return this.#b.query(`SELECT 1 FROM ${table} WHERE ${where}`, params.slice(sets.length)).rowCount === 1;
    const assignments = sets.map(([column], i) => `${column} = $${i + 1}`).join(', ');
    return this.#b.query(`UPDATE ${table} SET ${assignments} WHERE ${where}`, params).rowCount === 1;
  }
}
