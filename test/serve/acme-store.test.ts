/**
 * Issue 13: the ACME store on the SQLite inventory (schema v7): nonces single-use across connections and
 * expiring, accounts unique per key and provisioner, orders with their authorizations and challenges,
 * compare-and-set updates, and the v6 → v7 migration of an existing CA's inventory.
 * Issue 14: the same cases on the PostgreSQL inventory (a server started here; "a second connection" is
 * then another pool, as a second `pki serve` instance has), the migration test on SQLite only.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { acmeStore, type AcmeStore, type NewAcmeOrder } from '../../src/store/inventory/acme.js';
import { isPkiError } from '../../src/core/errors.js';
import { BACKENDS, openBackend, type BackendName } from '../helpers/inventory-backends.js';
import { startPostgres, type TlsPostgres } from '../helpers/postgres.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

let server: TlsPostgres | undefined;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.server.stop();
});

function newAccount(store: AcmeStore, thumbprint: string, from = '127.0.0.1', provisioner = 'acme') {
  return store.createAccount({ provisioner, status: 'valid', jwk: { kty: 'OKP', crv: 'Ed25519', x: thumbprint }, thumbprint, contact: ['mailto:a@example.test'], createdFrom: from, eabKid: null }, T0);
}

function orderFor(accountId: string, names: string[]): NewAcmeOrder {
  return {
    accountId,
    provisioner: 'acme',
    identifiers: names.map((value) => ({ type: 'dns', value })),
    notBefore: null,
    notAfter: null,
    expires: later(86_400_000).toISOString(),
    replaces: null,
    authorizations: names.map((value) => ({ identifier: { type: 'dns', value }, wildcard: false, expires: later(86_400_000).toISOString(), challengeTypes: ['http-01', 'dns-01', 'tls-alpn-01'] })),
  };
}

describe.each(BACKENDS)('on %s', (name: BackendName) => {
  const openFresh = () => openBackend(name, () => server!);

  describe('ACME store: nonces', () => {
    it('a nonce is ≥ 128-bit base64url and accepted exactly once, also through a second connection', () => {
      const backend = openFresh();
      const { inventory } = backend;
      const other = backend.other();
      const store = acmeStore(inventory);
      expect(acmeStore(inventory)).toBe(store);
      const nonce = store.createNonce(T0, later(3_600_000));
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(Buffer.from(nonce, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(acmeStore(other).consumeNonce(nonce, later(1000))).toBe(true);
      expect(store.consumeNonce(nonce, later(1000))).toBe(false);
      expect(acmeStore(other).consumeNonce(nonce, later(1000))).toBe(false);
      expect(store.consumeNonce('never-issued', later(1000))).toBe(false);
      other.close();
      inventory.close();
    });

    it('an expired nonce is refused and swept', () => {
      const { inventory } = openFresh();
      const store = inventory.acmeStore();
      const nonce = store.createNonce(T0, later(60_000));
      expect(store.consumeNonce(nonce, later(60_000))).toBe(false);
      const stale = store.createNonce(T0, later(60_000));
      expect(store.countNonces()).toBe(1);
      store.createNonce(later(120_000), later(3_600_000)); // more than a sweep interval later
      expect(store.countNonces()).toBe(1);
      expect(store.consumeNonce(stale, later(1000))).toBe(false);
      inventory.close();
    });
  });

  describe('ACME store: accounts', () => {
    it('one account per key and provisioner; a key change to a key in use is refused', () => {
      const { inventory } = openFresh();
      const store = acmeStore(inventory);
      const a = newAccount(store, 'tp-a');
      expect(a.created).toBe(true);
      expect(a.account.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(newAccount(store, 'tp-a')).toEqual({ account: a.account, created: false });
      expect(newAccount(store, 'tp-a', '127.0.0.1', 'other').created).toBe(true);
      const b = newAccount(store, 'tp-b', '10.0.0.1').account;
      expect(store.findAccountByThumbprint('acme', 'tp-b')).toEqual(b);
      expect(store.countAccountsCreatedFrom('127.0.0.1', T0)).toBe(2);
      expect(store.countAccountsCreatedFrom('127.0.0.1', later(1))).toBe(0);
      let error: unknown;
      try {
        store.updateAccount(b.id, { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'tp-a' }, thumbprint: 'tp-a' });
      } catch (e) {
        error = e;
      }
      expect(isPkiError(error, 'ERR_ACME_KEY_IN_USE')).toBe(true);
      expect(store.findAccount(b.id)!.thumbprint).toBe('tp-b');
      const moved = store.updateAccount(b.id, { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'tp-c' }, thumbprint: 'tp-c', contact: [] });
      expect(moved).toMatchObject({ thumbprint: 'tp-c', contact: [], status: 'valid' });
      expect(store.updateAccount(b.id, { status: 'deactivated' }).status).toBe('deactivated');
      expect(store.findAccount('nope')).toBeUndefined();
      inventory.close();
    });
  });

  describe('ACME store: orders, authorizations, challenges', () => {
    it('creates an order with one authorization per identifier and a token per challenge; compare-and-set updates', () => {
      const { inventory } = openFresh();
      const store = acmeStore(inventory);
      const account = newAccount(store, 'tp').account;
      const order = store.createOrder(orderFor(account.id, ['a.test', 'b.test']), T0);
      expect(order).toMatchObject({ status: 'pending', accountId: account.id, identifiers: [{ type: 'dns', value: 'a.test' }, { type: 'dns', value: 'b.test' }], error: null, certificateSerial: null });
      expect(order.authorizationIds).toHaveLength(2);
      const authz = store.findAuthorization(order.authorizationIds[1]!)!;
      expect(authz).toMatchObject({ identifier: { type: 'dns', value: 'b.test' }, status: 'pending', wildcard: false });
      const challenges = authz.challengeIds.map((id) => store.findChallenge(id)!);
      expect(challenges.map((c) => c.type)).toEqual(['http-01', 'dns-01', 'tls-alpn-01']);
      for (const c of challenges) expect(Buffer.from(c.token, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(new Set(challenges.map((c) => c.token)).size).toBe(3);

      expect(store.updateChallenge(challenges[0]!.id, { status: 'processing' }, { status: 'pending' })?.status).toBe('processing');
      expect(store.updateChallenge(challenges[0]!.id, { status: 'processing' }, { status: 'pending' })).toBeUndefined();
      expect(store.listProcessingChallenges().map((c) => c.id)).toEqual([challenges[0]!.id]);
      const problem = { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: 'wrong key authorization', status: 403 };
      expect(store.updateChallenge(challenges[0]!.id, { status: 'invalid', error: problem, validated: null }, { status: 'processing' })?.error).toEqual(problem);
      expect(store.updateAuthorization(authz.id, { status: 'valid' }, { status: 'pending' })?.status).toBe('valid');
      expect(store.updateAuthorization(authz.id, { status: 'deactivated' }, { status: 'pending' })).toBeUndefined();

      expect(store.updateOrder(order.id, { status: 'processing' }, { status: 'ready' })).toBeUndefined();
      expect(store.updateOrder(order.id, { status: 'ready' }, { status: 'pending' })?.status).toBe('ready');
      // Two finalizations racing: the second sees undefined.
      expect(store.updateOrder(order.id, { status: 'processing' }, { status: 'ready' })?.status).toBe('processing');
      expect(store.updateOrder(order.id, { status: 'processing' }, { status: 'ready' })).toBeUndefined();
      expect(store.updateOrder(order.id, { status: 'valid', certificateSerial: 'ABC123' })?.certificateSerial).toBe('ABC123');
      expect(store.findOrderByCertificate('ABC123')?.id).toBe(order.id);
      const second = store.createOrder(orderFor(account.id, ['c.test']), later(1000));
      expect(store.listOrderIds(account.id)).toEqual([order.id, second.id]);
      expect(store.countOrdersSince(account.id, later(500))).toBe(1);
      expect(store.findOrder('nope')).toBeUndefined();
      inventory.close();
    });

    it('an order for an unknown account is refused (foreign key) and leaves nothing behind', () => {
      const { inventory } = openFresh();
      const store = acmeStore(inventory);
      expect(() => store.createOrder(orderFor('no-such-account', ['a.test']), T0)).toThrow();
      expect(inventory.integrityCheck()).toBe('ok');
      inventory.close();
    });
  });
});

describe('ACME store: migration', () => {
  it('an existing v6 inventory migrates to the current schema (v7 ACME tables, v8 issuing CA columns) and keeps its certificates (integrity_check ok)', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    const path = join(dir, 'db', 'pki.sqlite');
    const db = new Database(path);
    const before = db.prepare('SELECT kind, serial, status, pem FROM certificates ORDER BY id').all();
    // What pki wrote at schema v6: no ACME tables.
    db.exec(`DROP TABLE acme_challenges; DROP TABLE acme_authorizations; DROP TABLE acme_orders; DROP TABLE acme_accounts; DROP TABLE acme_nonces; PRAGMA user_version = 6;`);
    db.close();
    expect(pki(['list', '--dir', dir]).code).toBe(0); // the CLI opens (and migrates) it
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(8);
    expect(after.prepare('SELECT kind, serial, status, pem FROM certificates ORDER BY id').all()).toEqual(before);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(after.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'acme_%' ORDER BY name`).pluck().all()).toEqual([
      'acme_accounts',
      'acme_authorizations',
      'acme_challenges',
      'acme_nonces',
      'acme_orders',
    ]);
    after.close();
    expect(before.length).toBeGreaterThanOrEqual(3);
  });
});
