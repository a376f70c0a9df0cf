/**
 * Accounts (RFC 8555 §7.3): newAccount (incl. onlyReturnExisting, external account binding, the
 * per-address rate limit), the account resource (POST-as-GET, contact update, deactivation), the account's
 * orders list, and keyChange (§7.3.5).
 */
import { calculateJwkThumbprint } from 'jose';
import { isPkiError } from '../../core/errors.js';
import type { AcmeAccount } from '../../store/inventory/acme.js';
import type { ServeRequest } from '../types.js';
import { acmeJson, type AcmeContext, type AcmeHandler } from './context.js';
import { verifyExternalAccountBinding } from './eab.js';
import { checkAlgorithm, decodeProtectedHeader, parseFlattenedJws, publicJwk, verifyAcmeRequest, verifySignature, type VerifiedAcmeRequest } from './jws.js';
import { AcmeProblemError } from './problem.js';

const HOUR_MS = 3_600_000;
const MAX_CONTACTS = 10;
/** An addr-spec without hfields: local@domain, nothing a mail header could be smuggled with. */
const MAILTO = /^mailto:([A-Za-z0-9.!#$%&'*+/=^_`{|}~-]{1,64})@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$/;

/** The account object (§7.1.2). */
export function accountJson(context: AcmeContext, account: AcmeAccount): Record<string, unknown> {
  return {
    status: account.status,
    contact: account.contact,
    orders: context.url('orders', account.id),
    ...(account.eabKid ? { externalAccountBinding: { kid: account.eabKid } } : {}),
  };
}

function payloadObject(verified: VerifiedAcmeRequest): Record<string, unknown> {
  const p = verified.payload;
  if (p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p)) throw new AcmeProblemError('malformed', 'the payload must be a JSON object');
  return p as Record<string, unknown>;
}

/** `contact`: mailto: URIs only (§7.3: the server may support others; this one does not). */
export function checkContact(value: unknown): string[] {
  if (!Array.isArray(value)) throw new AcmeProblemError('malformed', '"contact" must be an array of URIs');
  if (value.length > MAX_CONTACTS) throw new AcmeProblemError('invalidContact', `at most ${MAX_CONTACTS} contacts`);
  return value.map((c: unknown) => {
    if (typeof c !== 'string') throw new AcmeProblemError('malformed', '"contact" must be an array of URIs');
    if (!/^mailto:/i.test(c)) throw new AcmeProblemError('unsupportedContact', `only mailto: contacts are supported, not ${JSON.stringify(c.slice(0, 60))}`);
    if (!MAILTO.test(c)) throw new AcmeProblemError('invalidContact', `${JSON.stringify(c.slice(0, 100))} is not a mailto: URI of one e-mail address`);
    return c;
  });
}

function checkRateLimit(context: AcmeContext, request: ServeRequest): void {
  const limit = context.serve.settings.limits.newAccountsPerAddressPerHour;
  const since = new Date(context.serve.now().getTime() - HOUR_MS);
  if (context.store.countAccountsCreatedFrom(request.remoteAddress, since) >= limit) {
    throw new AcmeProblemError('rateLimited', `at most ${limit} new accounts per address per hour`, { headers: { 'Retry-After': String(HOUR_MS / 1000) } });
  }
}

export const newAccount: AcmeHandler = async (context, request) => {
  const verified = await verifyAcmeRequest(context, request, 'jwk');
  const payload = payloadObject(verified);
  const existing = context.store.findAccountByThumbprint(context.provisioner.name, verified.thumbprint);
  if (existing) {
    if (existing.status !== 'valid') throw new AcmeProblemError('unauthorized', `the account of this key is ${existing.status}`);
    return acmeJson(200, accountJson(context, existing), { Location: context.url('account', existing.id) });
  }
  if (payload['onlyReturnExisting'] === true) throw new AcmeProblemError('accountDoesNotExist', 'no account exists for this key');
  if (payload['termsOfServiceAgreed'] !== undefined && typeof payload['termsOfServiceAgreed'] !== 'boolean') throw new AcmeProblemError('malformed', '"termsOfServiceAgreed" must be a boolean');
  const contact = payload['contact'] === undefined ? [] : checkContact(payload['contact']);
  const binding = payload['externalAccountBinding'];
  if (binding === undefined && context.provisioner.externalAccountRequired) {
    throw new AcmeProblemError('externalAccountRequired', `the provisioner "${context.provisioner.name}" requires an external account binding`);
  }
  const eabKid = binding === undefined ? null : await verifyExternalAccountBinding(context, binding, request.url, verified.thumbprint);
  checkRateLimit(context, request);
  const { account, created } = context.store.createAccount(
    { provisioner: context.provisioner.name, status: 'valid', jwk: verified.jwk, thumbprint: verified.thumbprint, contact, createdFrom: request.remoteAddress, eabKid },
    context.serve.now(),
  );
  if (created) context.serve.log.event('ACME account created', { provisioner: context.provisioner.name, account: account.id });
  return acmeJson(created ? 201 : 200, accountJson(context, account), { Location: context.url('account', account.id) });
};

/** A kid request to the resource of account `id`: only that account may. */
async function verifyOwnAccount(context: AcmeContext, request: ServeRequest, id: string | undefined): Promise<VerifiedAcmeRequest & { account: AcmeAccount }> {
  const verified = await verifyAcmeRequest(context, request, 'kid');
  if (!verified.account || verified.account.id !== id) throw new AcmeProblemError('unauthorized', 'a request about an account must be signed by that account');
  return verified as VerifiedAcmeRequest & { account: AcmeAccount };
}

export const account: AcmeHandler = async (context, request, ids) => {
  const verified = await verifyOwnAccount(context, request, ids[0]);
  const payload = payloadObject(verified);
  const changes: { status?: 'deactivated'; contact?: string[] } = {};
  if (payload['status'] !== undefined) {
    if (payload['status'] !== 'deactivated') throw new AcmeProblemError('malformed', 'an account\'s "status" can only be set to "deactivated"');
    changes.status = 'deactivated';
  }
  if (payload['contact'] !== undefined) changes.contact = checkContact(payload['contact']);
  let current = verified.account;
  if (changes.status !== undefined || changes.contact !== undefined) {
    current = context.store.updateAccount(current.id, changes);
    if (changes.status) context.serve.log.event('ACME account deactivated', { provisioner: context.provisioner.name, account: current.id });
  }
  return acmeJson(200, accountJson(context, current), { Location: context.url('account', current.id) });
};

export const accountOrders: AcmeHandler = async (context, request, ids) => {
  const verified = await verifyOwnAccount(context, request, ids[0]);
  if (verified.payload !== null) throw new AcmeProblemError('malformed', 'the orders list is fetched with POST-as-GET (an empty payload)');
  return acmeJson(200, { orders: context.store.listOrderIds(verified.account.id).map((id) => context.url('order', id)) });
};

/**
 * keyChange (§7.3.5): the outer JWS is the account's (kid); its payload is an inner JWS signed by the new
 * key (jwk), to the same url, whose payload names the account and its old key.
 */
export const keyChange: AcmeHandler = async (context, request) => {
  const outer = await verifyAcmeRequest(context, request, 'kid');
  const accountId = outer.account!.id;
  const inner = parseFlattenedJws(outer.payload);
  const header = decodeProtectedHeader(inner.protected);
  const alg = checkAlgorithm(header['alg']);
  if (header['kid'] !== undefined || header['jwk'] === undefined) throw new AcmeProblemError('malformed', 'the inner keyChange JWS must carry the new key as "jwk", and no "kid"');
  if (header['url'] !== request.url) throw new AcmeProblemError('malformed', 'the inner keyChange JWS "url" must be the keyChange URL');
  const newJwk = publicJwk(header['jwk'], alg);
  const body = Buffer.from(await verifySignature(inner, newJwk, alg)).toString('utf8');
  let payload: { account?: unknown; oldKey?: unknown };
  try {
    payload = JSON.parse(body) as typeof payload;
  } catch {
    throw new AcmeProblemError('malformed', 'the inner keyChange payload is not JSON');
  }
  if (payload?.account !== context.url('account', accountId)) throw new AcmeProblemError('malformed', 'the inner keyChange "account" is not the account that signed the request');
  const oldThumbprint = await calculateJwkThumbprint(payload.oldKey as Parameters<typeof calculateJwkThumbprint>[0], 'sha256').catch(() => undefined);
  if (oldThumbprint !== outer.thumbprint) throw new AcmeProblemError('malformed', 'the inner keyChange "oldKey" is not the account\'s current key');
  const thumbprint = await calculateJwkThumbprint(newJwk, 'sha256');
  const conflict = (holder: AcmeAccount | undefined) =>
    new AcmeProblemError('malformed', 'the new key is already the key of another account', { status: 409, headers: holder ? { Location: context.url('account', holder.id) } : {} });
  const holder = context.store.findAccountByThumbprint(context.provisioner.name, thumbprint);
  if (holder && holder.id !== accountId) throw conflict(holder);
  let updated: AcmeAccount;
  try {
    updated = context.store.updateAccount(accountId, { jwk: newJwk, thumbprint });
  } catch (e) {
    if (isPkiError(e, 'ERR_ACME_KEY_IN_USE')) throw conflict(context.store.findAccountByThumbprint(context.provisioner.name, thumbprint));
    throw e;
  }
  context.serve.log.event('ACME account key changed', { provisioner: context.provisioner.name, account: accountId });
  return acmeJson(200, accountJson(context, updated), { Location: context.url('account', accountId) });
};
