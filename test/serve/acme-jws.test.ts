/**
 * Issue 13: verifyAcmeRequest in process, against the real SQLite ACME store, with requests signed by
 * `jose` (RS256, ES256, ES384, EdDSA) and forged ones (HS256, none, tampered, both jwk and kid, wrong url,
 * replayed nonce, unknown kid, small RSA key): each refused with its RFC 8555 error type.
 */
import { createHmac, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { accountKey, forgedJws, signAcme, type TestAccountKey } from '../helpers/acme-jws.js';
import { acmeStore } from '../../src/store/inventory/acme.js';
import { SqliteInventory } from '../../src/store/inventory/sqlite.js';
import type { AcmeContext, AcmeResource } from '../../src/serve/acme/context.js';
import { verifyAcmeRequest } from '../../src/serve/acme/jws.js';
import { AcmeProblemError } from '../../src/serve/acme/problem.js';
import type { ProvisionerSettings } from '../../src/serve/settings.js';
import type { ServeContext, ServeRequest } from '../../src/serve/types.js';

const ORIGIN = 'https://127.0.0.1:8443';
const inventory = new SqliteInventory(join(tempDir(), 'pki.sqlite'), { create: true });
const store = inventory.acmeStore();
const provisioner = { name: 'acme', externalAccountRequired: false } as ProvisionerSettings;
const context: AcmeContext = {
  serve: { now: () => new Date() } as unknown as ServeContext,
  store: acmeStore(inventory),
  provisioner,
  url: (r: AcmeResource, ...ids: string[]) => [`${ORIGIN}/acme/acme/${r}`, ...ids].join('/'),
};
const NEW_ACCOUNT = context.url('new-account');
const nonce = () => store.createNonce(new Date(), new Date(Date.now() + 3_600_000));

function post(url: string, jws: unknown, contentType = 'application/jose+json'): ServeRequest {
  return { method: 'POST', path: new URL(url).pathname, query: '', url, headers: { 'content-type': contentType }, body: Buffer.from(JSON.stringify(jws)), remoteAddress: '127.0.0.1', listener: 'https' };
}

async function problemOf(promise: Promise<unknown>): Promise<{ type: string; status: number }> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof AcmeProblemError) return { type: e.type, status: e.status };
    throw e;
  }
  throw new Error('the request was accepted');
}

describe('verifyAcmeRequest', () => {
  const keys: Partial<Record<TestAccountKey['alg'], TestAccountKey>> = {};
  let es256: TestAccountKey;
  let accountUrl: string;
  beforeAll(async () => {
    for (const alg of ['RS256', 'ES256', 'ES384', 'EdDSA'] as const) keys[alg] = await accountKey(alg);
    es256 = keys.ES256!;
    const thumbprint = await calculateJwkThumbprint(es256.jwk, 'sha256');
    const { account } = store.createAccount({ provisioner: 'acme', status: 'valid', jwk: es256.jwk as Record<string, string>, thumbprint, contact: [], createdFrom: '127.0.0.1', eabKid: null }, new Date());
    accountUrl = context.url('account', account.id);
  });

  it.each(['RS256', 'ES256', 'ES384', 'EdDSA'] as const)('accepts a %s request with a jwk header, with its payload and thumbprint', async (alg) => {
    const key = keys[alg]!;
    const verified = await verifyAcmeRequest(context, post(NEW_ACCOUNT, await signAcme(key, { url: NEW_ACCOUNT, nonce: nonce(), payload: { termsOfServiceAgreed: true } })), 'jwk');
    expect(verified.payload).toEqual({ termsOfServiceAgreed: true });
    expect(verified.thumbprint).toBe(await calculateJwkThumbprint(key.jwk, 'sha256'));
    expect(verified.account).toBeNull();
    expect(verified.jwk).not.toHaveProperty('d');
  });

  it('accepts a kid request as POST-as-GET (payload null) with the account', async () => {
    const verified = await verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, nonce: nonce(), kid: accountUrl })), 'kid');
    expect(verified.payload).toBeNull();
    expect(verified.account?.id).toBe(accountUrl.split('/').pop());
  });

  it('a replayed nonce is badNonce; so are a missing and a never-issued one', async () => {
    const n = nonce();
    const jws = await signAcme(es256, { url: accountUrl, nonce: n, kid: accountUrl });
    await verifyAcmeRequest(context, post(accountUrl, jws), 'kid');
    expect(await problemOf(verifyAcmeRequest(context, post(accountUrl, jws), 'kid'))).toEqual({ type: 'badNonce', status: 400 });
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, kid: accountUrl })), 'kid'))).type).toBe('badNonce');
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, kid: accountUrl, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' })), 'kid'))).type).toBe('badNonce');
  });

  it('an expired nonce is badNonce', async () => {
    const n = store.createNonce(new Date(Date.now() - 7_200_000), new Date(Date.now() - 1));
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, kid: accountUrl, nonce: n })), 'kid'))).type).toBe('badNonce');
  });

  it('a url header that differs from the request URL is unauthorized, and leaves the nonce usable', async () => {
    const n = nonce();
    const jws = await signAcme(es256, { url: `${ORIGIN}/acme/acme/new-order`, nonce: n, kid: accountUrl });
    expect(await problemOf(verifyAcmeRequest(context, post(accountUrl, jws), 'kid'))).toEqual({ type: 'unauthorized', status: 403 });
    expect(store.consumeNonce(n, new Date())).toBe(true);
  });

  it('both jwk and kid is malformed; so is the wrong one of them for the resource', async () => {
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, nonce: nonce(), kid: accountUrl, bothJwkAndKid: true })), 'kid'))).type).toBe('malformed');
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, nonce: nonce(), kid: accountUrl, bothJwkAndKid: true })), 'either'))).type).toBe('malformed');
    expect((await problemOf(verifyAcmeRequest(context, post(NEW_ACCOUNT, await signAcme(es256, { url: NEW_ACCOUNT, nonce: nonce(), kid: accountUrl })), 'jwk'))).type).toBe('malformed');
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, nonce: nonce() })), 'kid'))).type).toBe('malformed');
  });

  it('HS256 (keyed with the public JWK, the classic confusion) and none are badSignatureAlgorithm', async () => {
    const payload = { termsOfServiceAgreed: true };
    for (const alg of ['HS256', 'none']) {
      const header = { alg, url: NEW_ACCOUNT, nonce: nonce(), jwk: es256.jwk };
      const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      const signature = alg === 'none' ? Buffer.alloc(0) : createHmac('sha256', JSON.stringify(es256.jwk)).update(signingInput).digest();
      const jws = alg === 'none' ? { ...forgedJws(header, payload, signature), signature: '' } : forgedJws(header, payload, signature);
      expect((await problemOf(verifyAcmeRequest(context, post(NEW_ACCOUNT, jws), 'jwk'))).type).toBe(alg === 'none' ? 'malformed' : 'badSignatureAlgorithm');
      if (alg === 'none') expect((await problemOf(verifyAcmeRequest(context, post(NEW_ACCOUNT, { ...jws, signature: 'AA' }), 'jwk'))).type).toBe('badSignatureAlgorithm');
    }
  });

  it('an unknown kid is accountDoesNotExist, also one of another provisioner', async () => {
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, nonce: nonce(), kid: context.url('account', 'no-such-account') })), 'kid'))).type).toBe('accountDoesNotExist');
    const foreign = accountUrl.replace('/acme/acme/', '/acme/other/');
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(es256, { url: accountUrl, nonce: nonce(), kid: foreign })), 'kid'))).type).toBe('accountDoesNotExist');
    const key = await accountKey('ES384');
    const other = store.createAccount({ provisioner: 'other', status: 'valid', jwk: key.jwk as Record<string, string>, thumbprint: await calculateJwkThumbprint(key.jwk, 'sha256'), contact: [], createdFrom: '127.0.0.1', eabKid: null }, new Date()).account;
    const url = context.url('account', other.id);
    expect((await problemOf(verifyAcmeRequest(context, post(url, await signAcme(key, { url, nonce: nonce(), kid: url })), 'kid'))).type).toBe('accountDoesNotExist');
  });

  it('a tampered payload is malformed, and its nonce is used up', async () => {
    const n = nonce();
    const jws = await signAcme(es256, { url: accountUrl, nonce: n, kid: accountUrl, payload: { contact: ['mailto:a@example.test'] } });
    const tampered = { ...jws, payload: Buffer.from(JSON.stringify({ contact: ['mailto:evil@example.test'] })).toString('base64url') };
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, tampered), 'kid'))).type).toBe('malformed');
    expect(store.consumeNonce(n, new Date())).toBe(false);
  });

  it('a request signed by another key than the account’s is malformed', async () => {
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, await signAcme(await accountKey('ES256'), { url: accountUrl, nonce: nonce(), kid: accountUrl })), 'kid'))).type).toBe('malformed');
  });

  it('a 1024-bit RSA account key is badPublicKey', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const header = { alg: 'RS256', url: NEW_ACCOUNT, nonce: nonce(), jwk };
    const p = Buffer.from('{}').toString('base64url');
    const h = Buffer.from(JSON.stringify(header)).toString('base64url');
    const signature = nodeSign('sha256', Buffer.from(`${h}.${p}`), privateKey).toString('base64url');
    expect((await problemOf(verifyAcmeRequest(context, post(NEW_ACCOUNT, { protected: h, payload: p, signature }), 'jwk'))).type).toBe('badPublicKey');
  });

  it('a wrong Content-Type, an unprotected header, a compact JWS and a non-JSON payload are malformed', async () => {
    const jws = await signAcme(es256, { url: accountUrl, nonce: nonce(), kid: accountUrl });
    expect(await problemOf(verifyAcmeRequest(context, post(accountUrl, jws, 'application/json'), 'kid'))).toEqual({ type: 'malformed', status: 415 });
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, { ...jws, header: { kid: accountUrl } }), 'kid'))).type).toBe('malformed');
    const compact = { ...post(accountUrl, jws), body: Buffer.from(`${jws.protected}.${jws.payload}.${jws.signature}`) };
    expect((await problemOf(verifyAcmeRequest(context, compact, 'kid'))).type).toBe('malformed');
    const { FlattenedSign } = await import('jose');
    const notJson = await new FlattenedSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'ES256', url: accountUrl, nonce: nonce(), kid: accountUrl }).sign(es256.privateKey);
    expect((await problemOf(verifyAcmeRequest(context, post(accountUrl, notJson), 'kid'))).type).toBe('malformed');
  });

  it('a deactivated account is unauthorized', async () => {
    const key = await accountKey('EdDSA');
    const { account } = store.createAccount({ provisioner: 'acme', status: 'deactivated', jwk: key.jwk as Record<string, string>, thumbprint: await calculateJwkThumbprint(key.jwk, 'sha256'), contact: [], createdFrom: '127.0.0.1', eabKid: null }, new Date());
    const url = context.url('account', account.id);
    expect((await problemOf(verifyAcmeRequest(context, post(url, await signAcme(key, { url, nonce: nonce(), kid: url })), 'kid'))).type).toBe('unauthorized');
  });
});
