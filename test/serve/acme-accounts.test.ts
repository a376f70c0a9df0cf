/**
 * Issue 13, done-means 2 (the JWS half) and the account resources, against a real `pki serve` over HTTPS
 * (node's https trusting the CA home's root only), with requests built by `jose`: newAccount (201 then 200,
 * onlyReturnExisting, contacts), the account (POST-as-GET, contact update, deactivation), the orders list,
 * keyChange (and its 409), and the negative requests — replayed nonce, url mismatch, jwk and kid, HS256,
 * none, unknown kid, tampered payload — each with its RFC 8555 type, a Replay-Nonce that works, and no
 * change to the inventory's accounts and orders.
 */
import Database from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { accountKey, AcmeTestClient, forgedJws, signAcme, type HttpsAnswer, type TestAccountKey } from '../helpers/acme-jws.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';

const urn = (type: string) => `urn:ietf:params:acme:error:${type}`;

function counts(dir: string): { accounts: number; orders: number } {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true });
  try {
    return {
      accounts: db.prepare('SELECT count(*) FROM acme_accounts').pluck().get() as number,
      orders: db.prepare('SELECT count(*) FROM acme_orders').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

function expectProblem(answer: HttpsAnswer, type: string, status?: number): void {
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.json().type).toBe(urn(type));
  if (status !== undefined) expect(answer.status).toBe(status);
  expect(answer.headers['replay-nonce']).toMatch(/^[A-Za-z0-9_-]{22,}$/);
}

describe('ACME accounts over HTTPS', () => {
  let dir: string;
  let server: PkiServe;
  let client: AcmeTestClient;
  let key: TestAccountKey;
  let accountUrl: string;
  beforeAll(async () => {
    dir = initCa();
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test'] });
    client = new AcmeTestClient(server.directoryUrl, readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8'));
    key = await accountKey('ES256');
  }, 60_000);
  afterAll(async () => server?.stop());

  it('newAccount: 201 with Location for a new key, 200 with the same Location for a known one', async () => {
    const first = await client.newAccount(key, { termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
    expect(first.answer.status).toBe(201);
    expect(first.accountUrl).toMatch(new RegExp(`^${client.url('account')}/[A-Za-z0-9_-]{22,}$`));
    expect(first.answer.json()).toEqual({ status: 'valid', contact: ['mailto:ops@example.test'], orders: first.accountUrl.replace('/account/', '/orders/') });
    accountUrl = first.accountUrl;
    const again = await client.newAccount(key, { onlyReturnExisting: true });
    expect(again.answer.status).toBe(200);
    expect(again.accountUrl).toBe(accountUrl);
    expect(counts(dir).accounts).toBe(1);
  });

  it.each(['RS256', 'ES384', 'EdDSA'] as const)('newAccount with a %s key', async (alg) => {
    const { answer } = await client.newAccount(await accountKey(alg));
    expect(answer.status).toBe(201);
  });

  it('onlyReturnExisting for an unknown key is accountDoesNotExist; bad contacts are refused; nothing is created', async () => {
    const before = counts(dir);
    const other = await accountKey('ES256');
    expectProblem((await client.newAccount(other, { onlyReturnExisting: true })).answer, 'accountDoesNotExist', 400);
    expectProblem((await client.newAccount(other, { contact: ['tel:+15555550100'] })).answer, 'unsupportedContact');
    expectProblem((await client.newAccount(other, { contact: ['mailto:a@example.test?subject=x'] })).answer, 'invalidContact');
    expectProblem((await client.newAccount(other, { contact: ['mailto:not-an-address'] })).answer, 'invalidContact');
    expect(counts(dir)).toEqual(before);
  });

  it('the account: POST-as-GET returns it, a POST updates the contact, the orders list is empty', async () => {
    const got = await client.post(accountUrl, key, { kid: accountUrl });
    expect(got.status).toBe(200);
    expect(got.json().status).toBe('valid');
    const updated = await client.post(accountUrl, key, { kid: accountUrl, payload: { contact: ['mailto:new@example.test'] } });
    expect(updated.json().contact).toEqual(['mailto:new@example.test']);
    const orders = await client.post(accountUrl.replace('/account/', '/orders/'), key, { kid: accountUrl });
    expect(orders.status).toBe(200);
    expect(orders.json()).toEqual({ orders: [] });
  });

  it('another account cannot read or change this one', async () => {
    const otherKey = await accountKey('EdDSA');
    const other = await client.newAccount(otherKey);
    expectProblem(await client.post(accountUrl, otherKey, { kid: other.accountUrl, payload: { status: 'deactivated' } }), 'unauthorized', 403);
    expect((await client.post(accountUrl, key, { kid: accountUrl })).json().status).toBe('valid');
  });

  describe('negative requests: the RFC 8555 type, a working Replay-Nonce, nothing changed', () => {
    let before: { accounts: number; orders: number };
    beforeAll(() => {
      before = counts(dir);
    });
    afterAll(() => {
      expect(counts(dir)).toEqual(before);
    });

    it('a replayed nonce is badNonce, and the Replay-Nonce of that answer is accepted', async () => {
      const jws = await signAcme(key, { url: accountUrl, kid: accountUrl, nonce: await client.freshNonce(), payload: '' });
      expect((await client.send(accountUrl, jws)).status).toBe(200);
      const replayed = await client.send(accountUrl, jws);
      expectProblem(replayed, 'badNonce', 400);
      const retry = await signAcme(key, { url: accountUrl, kid: accountUrl, nonce: replayed.headers['replay-nonce'] as string });
      expect((await client.send(accountUrl, retry)).status).toBe(200);
    });

    it('a missing nonce is badNonce', async () => {
      expectProblem(await client.post(accountUrl, key, { kid: accountUrl, nonce: undefined }), 'badNonce', 400);
    });

    it('a url header other than the request URL is unauthorized', async () => {
      expectProblem(await client.send(accountUrl, await signAcme(key, { url: client.url('new-order'), kid: accountUrl, nonce: await client.nonce() })), 'unauthorized', 403);
    });

    it('both jwk and kid is malformed', async () => {
      expectProblem(await client.post(accountUrl, key, { kid: accountUrl, bothJwkAndKid: true, payload: { status: 'deactivated' } }), 'malformed', 400);
    });

    it('HS256 keyed with the account JWK, and alg none, are badSignatureAlgorithm', async () => {
      const url = client.url('new-account');
      for (const alg of ['HS256', 'none']) {
        const header = { alg, url, nonce: await client.nonce(), jwk: key.jwk };
        const payload = { termsOfServiceAgreed: true };
        const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
        const mac = alg === 'HS256' ? createHmac('sha256', JSON.stringify(key.jwk)).update(input).digest() : Buffer.from([0]);
        expectProblem(await client.send(url, forgedJws(header, payload, mac)), 'badSignatureAlgorithm', 400);
      }
    });

    it('an unknown kid is accountDoesNotExist', async () => {
      const ghost = `${client.url('account')}/AAAAAAAAAAAAAAAAAAAAAA`;
      expectProblem(await client.post(ghost, key, { kid: ghost }), 'accountDoesNotExist', 400);
    });

    it('a tampered payload is malformed', async () => {
      const jws = await signAcme(key, { url: accountUrl, kid: accountUrl, nonce: await client.nonce(), payload: { contact: ['mailto:new@example.test'] } });
      const tampered = { ...jws, payload: Buffer.from(JSON.stringify({ status: 'deactivated' })).toString('base64url') };
      expectProblem(await client.send(accountUrl, tampered), 'malformed', 400);
      expect((await client.post(accountUrl, key, { kid: accountUrl })).json().status).toBe('valid');
    });

    it('a body that is not application/jose+json is refused', async () => {
      const jws = await signAcme(key, { url: accountUrl, kid: accountUrl, nonce: await client.nonce() });
      expectProblem(await client.send(accountUrl, jws, 'application/json'), 'malformed', 415);
    });
  });

  it('two concurrent requests with one nonce: exactly one is accepted', async () => {
    const before = counts(dir).accounts;
    const nonce = await client.freshNonce();
    const url = client.url('new-account');
    const keys = await Promise.all([accountKey('ES256'), accountKey('ES256'), accountKey('ES256'), accountKey('ES256')]);
    const answers = await Promise.all(keys.map(async (k) => client.send(url, await signAcme(k, { url, nonce, payload: {} }))));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 400, 400, 400]);
    expect(answers.filter((a) => a.status === 400).every((a) => a.json().type === urn('badNonce'))).toBe(true);
    expect(counts(dir).accounts).toBe(before + 1);
  });

  it('keyChange: the account moves to the new key; the old key no longer signs; a key in use is 409 with its Location', async () => {
    const oldKey = await accountKey('ES256');
    const { accountUrl: url } = await client.newAccount(oldKey);
    const newKey = await accountKey('EdDSA');
    const keyChangeUrl = client.url('key-change');
    const inner = await signAcme(newKey, { url: keyChangeUrl, payload: { account: url, oldKey: oldKey.jwk } });
    expect((await client.post(keyChangeUrl, oldKey, { kid: url, payload: inner })).status).toBe(200);
    expect((await client.post(url, newKey, { kid: url })).json().status).toBe('valid');
    expectProblem(await client.post(url, oldKey, { kid: url }), 'malformed');
    expect((await client.newAccount(newKey, { onlyReturnExisting: true })).accountUrl).toBe(url);
    // The first account's key is taken: 409 naming that account.
    const conflict = await signAcme(key, { url: keyChangeUrl, payload: { account: url, oldKey: newKey.jwk } });
    const answer = await client.post(keyChangeUrl, newKey, { kid: url, payload: conflict });
    expect(answer.status).toBe(409);
    expect(answer.headers['location']).toBe(accountUrl);
    // An inner JWS naming another oldKey, or another account, is refused.
    const wrongOld = await signAcme(await accountKey('ES256'), { url: keyChangeUrl, payload: { account: url, oldKey: oldKey.jwk } });
    expectProblem(await client.post(keyChangeUrl, newKey, { kid: url, payload: wrongOld }), 'malformed');
    const wrongAccount = await signAcme(await accountKey('ES256'), { url: keyChangeUrl, payload: { account: accountUrl, oldKey: newKey.jwk } });
    expectProblem(await client.post(keyChangeUrl, newKey, { kid: url, payload: wrongAccount }), 'malformed');
    // An inner JWS not signed by the key it names is refused.
    const forged = { ...(await signAcme(await accountKey('ES256'), { url: keyChangeUrl, payload: { account: url, oldKey: newKey.jwk } })), protected: inner.protected };
    expectProblem(await client.post(keyChangeUrl, newKey, { kid: url, payload: forged }), 'malformed');
  });

  it('deactivation: the account says deactivated, then every request it signs is unauthorized', async () => {
    const k = await accountKey('ES384');
    const { accountUrl: url } = await client.newAccount(k);
    const answer = await client.post(url, k, { kid: url, payload: { status: 'deactivated' } });
    expect(answer.json().status).toBe('deactivated');
    expectProblem(await client.post(url, k, { kid: url }), 'unauthorized', 403);
    expectProblem((await client.newAccount(k)).answer, 'unauthorized', 403);
  });
});
