/**
 * Issue 13: account behaviour that needs pki.json or a restart, against a real `pki serve`: a nonce
 * fetched before `kill -9` and a restart is accepted after it (and only once); newAccountsPerAddressPerHour
 * → rateLimited 429 with Retry-After; external account binding (RFC 8555 §7.3.4) on a provisioner that
 * requires it; and npm's acme-client (a real client) creating, updating, re-keying and deactivating an account.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as acme from 'acme-client';
import { FlattenedSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { accountKey, AcmeTestClient, httpsCall, signAcme, type TestAccountKey } from '../helpers/acme-jws.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';

const urn = (type: string) => `urn:ietf:params:acme:error:${type}`;
const EAB_KEY = randomBytes(32).toString('base64url');

function accounts(dir: string): number {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM acme_accounts').pluck().get() as number;
  } finally {
    db.close();
  }
}

function configure(dir: string): void {
  const path = join(dir, 'pki.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  config['serve'] = {
    limits: { rateLimits: { newAccountsPerAddressPerHour: 3 } },
    provisioners: { bound: { allow: ['*.test'], externalAccountRequired: true, eab: { 'kid-1': 'eab-kid-1.key' } } },
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'eab-kid-1.key'), `${EAB_KEY}\n`, { mode: 0o600 });
}

async function binding(key: TestAccountKey, url: string, kid = 'kid-1', hmac = EAB_KEY, jwk: unknown = key.jwk) {
  return new FlattenedSign(new TextEncoder().encode(JSON.stringify(jwk))).setProtectedHeader({ alg: 'HS256', kid, url }).sign(Buffer.from(hmac, 'base64url'));
}

describe('ACME accounts: restart, rate limit, external account binding, acme-client', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  let client: AcmeTestClient;
  beforeAll(async () => {
    dir = initCa();
    configure(dir);
    ca = readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8');
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test'] });
    client = new AcmeTestClient(server.directoryUrl, ca);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('a nonce fetched before kill -9 and a restart is accepted after it, once', async () => {
    const nonce = await client.freshNonce();
    await server.stop('SIGKILL');
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test'] });
    client = new AcmeTestClient(server.directoryUrl, ca);
    const key = await accountKey('ES256');
    const url = client.url('new-account');
    const jws = await signAcme(key, { url, nonce, payload: { termsOfServiceAgreed: true } });
    expect((await client.send(url, jws)).status).toBe(201);
    const replay = await client.send(url, jws);
    expect(replay.json().type).toBe(urn('badNonce'));
  });

  it('newAccountsPerAddressPerHour: the fourth new account from this address is rateLimited with Retry-After', async () => {
    const keys: TestAccountKey[] = [];
    while (accounts(dir) < 3) {
      const key = await accountKey('ES256');
      keys.push(key);
      expect((await client.newAccount(key)).answer.status).toBe(201);
    }
    const refused = (await client.newAccount(await accountKey('ES256'))).answer;
    expect(refused.status).toBe(429);
    expect(refused.json().type).toBe(urn('rateLimited'));
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(accounts(dir)).toBe(3);
    // An existing account is still found.
    expect((await client.newAccount(keys[0]!, { onlyReturnExisting: true })).answer.status).toBe(200);
  });
});

describe('ACME external account binding and acme-client', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  beforeAll(async () => {
    dir = initCa();
    configure(dir);
    ca = readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8');
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test'] });
    acme.axios.defaults.httpsAgent = new Agent({ ca });
    acme.setLogger(() => undefined);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('a provisioner that requires EAB says so, refuses newAccount without or with a bad binding, accepts a good one', async () => {
    const bound = new AcmeTestClient(server.directoryUrl.replace('/acme/acme/', '/acme/bound/'), ca);
    expect((await httpsCall(bound.directoryUrl, ca)).json().meta).toEqual({ externalAccountRequired: true });
    const key = await accountKey('ES256');
    const url = bound.url('new-account');
    const type = async (payload: Record<string, unknown>) => (await bound.newAccount(key, payload)).answer.json().type;
    expect(await type({ termsOfServiceAgreed: true })).toBe(urn('externalAccountRequired'));
    expect(await type({ externalAccountBinding: await binding(key, url, 'kid-2') })).toBe(urn('unauthorized'));
    expect(await type({ externalAccountBinding: await binding(key, url, 'kid-1', randomBytes(32).toString('base64url')) })).toBe(urn('unauthorized'));
    expect(await type({ externalAccountBinding: await binding(key, url, 'kid-1', EAB_KEY, (await accountKey('ES256')).jwk) })).toBe(urn('unauthorized'));
    expect(await type({ externalAccountBinding: await binding(key, bound.url('new-order')) })).toBe(urn('unauthorized'));
    expect(accounts(dir)).toBe(0);
    const good = await bound.newAccount(key, { externalAccountBinding: await binding(key, url) });
    expect(good.answer.status).toBe(201);
    expect(good.answer.json().externalAccountBinding).toEqual({ kid: 'kid-1' });
  });

  it('acme-client creates an account with EAB, updates its contact, changes its key and deactivates it', async () => {
    const directoryUrl = server.directoryUrl.replace('/acme/acme/', '/acme/bound/');
    const c = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey('P-256'), externalAccountBinding: { kid: 'kid-1', hmacKey: EAB_KEY } });
    const created = await c.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
    expect(created.status).toBe('valid');
    expect(c.getAccountUrl()).toMatch(/\/acme\/bound\/account\/[A-Za-z0-9_-]+$/);
    expect((await c.updateAccount({ contact: ['mailto:new@example.test'] })).contact).toEqual(['mailto:new@example.test']);
    const newKey = await acme.crypto.createPrivateRsaKey(2048);
    await c.updateAccountKey(newKey);
    const again = new acme.Client({ directoryUrl, accountKey: newKey });
    await again.createAccount({ onlyReturnExisting: true });
    expect(again.getAccountUrl()).toBe(c.getAccountUrl());
    expect((await again.updateAccount({ status: 'deactivated' } as never)).status).toBe('deactivated');
  });
});
