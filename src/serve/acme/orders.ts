/**
 * newOrder (RFC 8555 §7.4: identifiers checked against the provisioner's allowlist and the name constraints
 * of the provisioner's issuing CA, the per-account rate limit, notBefore/notAfter, ARI `replaces`), the order resource
 * (its status computed from its authorizations), and finalize (the CSR judged by operations/acme-issue.ts,
 * ready → processing compare-and-set so a double finalize issues once, then the certificate issued with
 * the provisioner's issuing CA, loaded at start, and recorded in the inventory with that CA's name).
 */
import { performance } from 'node:perf_hooks';
import { orderState } from '../../core/acme/order-status.js';
import { isPkiError } from '../../core/errors.js';
import { parseTimeSpec } from '../../core/x509/validity.js';
import { acmeLifetime, decideAcmeCsr, issueAcmeCertificate } from '../../operations/acme-issue.js';
import type { AcmeAccount, AcmeOrder, AcmeProblem } from '../../store/inventory/acme.js';
import { provisionerCa } from '../issuing-cas.js';
import type { ServeRequest } from '../types.js';
import { currentAuthorization, RETRY_AFTER_SECONDS } from './authorizations.js';
import { acmeJson, type AcmeContext, type AcmeHandler } from './context.js';
import { verifyAcmeRequest } from './jws.js';
import { checkIdentifiers, checkReplaces, challengeTypesFor } from './order-policy.js';
import { AcmeProblemError, acmeErrorUrn } from './problem.js';

/** An order must be finalised within 7 days; its authorizations live as long (docs/serve.md). */
export const ORDER_LIFETIME_MS = 7 * 24 * 3_600_000;
export const AUTHORIZATION_LIFETIME_MS = ORDER_LIFETIME_MS;
const HOUR_MS = 3_600_000;

export function orderJson(context: AcmeContext, order: AcmeOrder): Record<string, unknown> {
  return {
    status: order.status,
    expires: order.expires,
    identifiers: order.identifiers,
    ...(order.notBefore ? { notBefore: order.notBefore } : {}),
    ...(order.notAfter ? { notAfter: order.notAfter } : {}),
    authorizations: order.authorizationIds.map((id) => context.url('authz', id)),
    finalize: context.url('finalize', order.id),
    ...(order.certificateSerial ? { certificate: context.url('certificate', order.certificateSerial) } : {}),
    ...(order.error ? { error: order.error } : {}),
    ...(order.replaces ? { replaces: order.replaces } : {}),
  };
}

/** The order with its status brought up to date from its authorizations and expiry (stored when it changed). */
export function currentOrder(context: AcmeContext, order: AcmeOrder): AcmeOrder {
  if (order.status !== 'pending' && order.status !== 'ready') return order;
  const now = context.serve.now();
  const authzs = order.authorizationIds.map((id) => context.store.findAuthorization(id)).map((a) => (a ? currentAuthorization(context.store, a, now) : undefined));
  const change = orderState(order.status, order.expires, authzs.map((a) => a?.status ?? 'invalid'), now);
  if (change.status === order.status) return order;
  let error: AcmeProblem | null = null;
  if (change.cause === 'expired') error = { type: acmeErrorUrn('malformed'), detail: `the order expired on ${order.expires} before it was finalised` };
  else if (change.cause) {
    const authz = authzs[change.cause.authorization];
    const failed = authz?.challengeIds.map((id) => context.store.findChallenge(id)).find((c) => c?.error);
    const what = authz ? `${authz.identifier.type} ${authz.identifier.value}` : 'an identifier';
    error = failed?.error
      ? { ...failed.error, detail: `authorization for ${what} failed: ${failed.error.detail}` }
      : { type: acmeErrorUrn('unauthorized'), detail: `the authorization for ${what} is ${change.cause.status}` };
  }
  const changes = change.status === 'invalid' ? { status: change.status, error } : { status: change.status };
  return context.store.updateOrder(order.id, changes, { status: order.status }) ?? context.store.findOrder(order.id) ?? order;
}

function ownOrder(context: AcmeContext, id: string, account: AcmeAccount): AcmeOrder {
  const found = context.store.findOrder(id);
  if (!found || found.provisioner !== context.provisioner.name) throw new AcmeProblemError('malformed', `no order ${id}`, { status: 404 });
  if (found.accountId !== account.id) throw new AcmeProblemError('unauthorized', `order ${id} belongs to another account`);
  return currentOrder(context, found);
}

function orderResponse(context: AcmeContext, order: AcmeOrder, status = 200): ReturnType<typeof acmeJson> {
  const headers: Record<string, string> = { Location: context.url('order', order.id) };
  if (order.status === 'processing') headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
  return acmeJson(status, orderJson(context, order), headers);
}

/** An RFC 3339 time of the newOrder payload, or null when absent; `malformed` otherwise. */
function orderTime(payload: Record<string, unknown>, field: 'notBefore' | 'notAfter', now: Date): Date | null {
  const value = payload[field];
  if (value === undefined) return null;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new AcmeProblemError('malformed', `${field} must be an RFC 3339 date-time`);
  try {
    return parseTimeSpec(value, now);
  } catch (e) {
    if (isPkiError(e)) throw new AcmeProblemError('malformed', `${field}: ${e.message}`);
    throw e;
  }
}

/** notBefore/notAfter of the payload, refused (`malformed`) unless they make a window this provisioner would issue. */
function orderWindow(context: AcmeContext, payload: Record<string, unknown>, now: Date): { notBefore: string | null; notAfter: string | null } {
  const notBefore = orderTime(payload, 'notBefore', now);
  const notAfter = orderTime(payload, 'notAfter', now);
  const lifetime = acmeLifetime(provisionerCa(context.serve, context.provisioner).config, context.provisioner.profile, context.provisioner.notAfter);
  const latest = parseTimeSpec(lifetime, now).getTime();
  if (notAfter && notAfter.getTime() <= now.getTime()) throw new AcmeProblemError('malformed', `notAfter ${notAfter.toISOString()} is in the past`);
  if (notAfter && notAfter.getTime() > latest) throw new AcmeProblemError('malformed', `notAfter ${notAfter.toISOString()} is beyond this provisioner's lifetime (${lifetime})`);
  if (notBefore && notBefore.getTime() >= (notAfter ?? new Date(latest)).getTime()) throw new AcmeProblemError('malformed', 'notBefore must be before notAfter');
  if (notBefore && notBefore.getTime() > now.getTime() + ORDER_LIFETIME_MS) throw new AcmeProblemError('malformed', 'notBefore is further in the future than the order lives');
  return { notBefore: notBefore?.toISOString() ?? null, notAfter: notAfter?.toISOString() ?? null };
}

/** `rateLimited` (429 + Retry-After) when the account has made its ordersPerAccountPerHour in the last hour. */
function checkOrderRate(context: AcmeContext, account: AcmeAccount, now: Date): void {
  const limit = context.serve.settings.limits.ordersPerAccountPerHour;
  const since = new Date(now.getTime() - HOUR_MS);
  const count = context.store.countOrdersSince(account.id, since);
  if (count < limit) return;
  // The limit frees up when the oldest order of the window is an hour old.
  const times = context.store
    .listOrderIds(account.id)
    .map((id) => Date.parse(context.store.findOrder(id)?.createdAt ?? ''))
    .filter((t) => t >= since.getTime());
  const oldest = times.length ? Math.min(...times) : now.getTime();
  const retry = Math.max(1, Math.ceil((oldest + HOUR_MS - now.getTime()) / 1000));
  throw new AcmeProblemError('rateLimited', `this account has made ${count} orders in the last hour (limit ${limit}); try again in ${retry} s`, { headers: { 'Retry-After': String(retry) } });
}

async function readPayload(context: AcmeContext, request: ServeRequest): Promise<{ account: AcmeAccount; payload: Record<string, unknown> | null }> {
  const verified = await verifyAcmeRequest(context, request, 'kid');
  const payload = verified.payload;
  if (payload !== null && (typeof payload !== 'object' || Array.isArray(payload))) throw new AcmeProblemError('malformed', 'the payload must be a JSON object');
  return { account: verified.account!, payload: payload as Record<string, unknown> | null };
}

export const newOrder: AcmeHandler = async (context, request) => {
  const { account, payload } = await readPayload(context, request);
  if (payload === null) throw new AcmeProblemError('malformed', 'newOrder needs a payload with identifiers');
  const now = context.serve.now();
  const identifiers = checkIdentifiers(context, payload.identifiers);
  const window = orderWindow(context, payload, now);
  const replaces = checkReplaces(context, payload.replaces, account);
  checkOrderRate(context, account, now);
  const expires = new Date(now.getTime() + ORDER_LIFETIME_MS).toISOString();
  const authzExpires = new Date(now.getTime() + Math.min(ORDER_LIFETIME_MS, AUTHORIZATION_LIFETIME_MS)).toISOString();
  const created = context.store.createOrder(
    {
      accountId: account.id,
      provisioner: context.provisioner.name,
      identifiers,
      ...window,
      expires,
      replaces,
      authorizations: identifiers.map((id) => {
        const wildcard = id.type === 'dns' && id.value.startsWith('*.');
        return { identifier: wildcard ? { type: 'dns', value: id.value.slice(2) } : id, wildcard, expires: authzExpires, challengeTypes: challengeTypesFor(id) };
      }),
    },
    now,
  );
  context.serve.log.event('acme order created', { order: created.id, account: account.id, identifiers: identifiers.length });
  return orderResponse(context, created, 201);
};

export const order: AcmeHandler = async (context, request, ids) => {
  const { account } = await readPayload(context, request);
  return orderResponse(context, ownOrder(context, ids[0]!, account));
};

function csrBytes(payload: Record<string, unknown> | null): Buffer {
  const csr = payload?.csr;
  if (typeof csr !== 'string' || !/^[A-Za-z0-9_-]+$/.test(csr)) throw new AcmeProblemError('malformed', 'finalize needs "csr": the CSR as base64url DER');
  return Buffer.from(csr, 'base64url');
}

export const finalize: AcmeHandler = async (context, request, ids) => {
  const { account, payload } = await readPayload(context, request);
  const found = ownOrder(context, ids[0]!, account);
  if (found.status !== 'ready') throw new AcmeProblemError('orderNotReady', `the order is ${found.status}, not ready`);
  const csrDer = csrBytes(payload);
  const serve = context.serve;
  const now = serve.now();
  const { provisioner } = context;
  // The provisioner's CA (serve.provisioners.NAME.ca): its name constraints and profile set judge the CSR, its key signs.
  const ca = provisionerCa(serve, provisioner);
  const decided = decideAcmeCsr(ca.config, { csrDer, identifiers: found.identifiers, profile: provisioner.profile, lifetime: provisioner.notAfter, keyTypes: provisioner.keyTypes, notBefore: found.notBefore, notAfter: found.notAfter }, now);
  if (!decided.ok) throw new AcmeProblemError('badCSR', decided.detail);
  const started = performance.now();
  // One inventory transaction: ready → processing (compare-and-set: a finalize racing this one, in this
  // process or another, sees it no longer ready), the certificate signed and recorded, the order valid. A
  // kill anywhere inside leaves the order ready and nothing recorded, so the client's retry issues once.
  let outcome: { serial: string; notAfter: string; order: AcmeOrder } | null;
  try {
    outcome = serve.inventory.exclusive(() => {
      if (!context.store.updateOrder(found.id, { status: 'processing' }, { status: 'ready' })) return null;
      const issued = issueAcmeCertificate({ issuer: ca.issuer, inventory: serve.inventory, config: ca.config, recordColumns: ca.home.recordColumns, now }, decided);
      const valid = context.store.updateOrder(found.id, { status: 'valid', certificateSerial: issued.serial }, { status: 'processing' });
      if (!valid) throw new Error('the order changed while its certificate was issued');
      return { serial: issued.serial, notAfter: issued.notAfter, order: valid };
    });
  } catch (e) {
    const detail = `the certificate could not be issued: ${e instanceof Error ? e.message : String(e)}`;
    context.store.updateOrder(found.id, { status: 'invalid', error: { type: acmeErrorUrn('serverInternal'), detail, status: 500 } }, { status: 'ready' });
    serve.log.event('acme issuance failed', { order: found.id, error: detail });
    throw new AcmeProblemError('serverInternal', detail, { status: 500 });
  }
  if (!outcome) throw new AcmeProblemError('orderNotReady', 'the order is being finalised by another request');
  serve.metrics.observeIssuance('acme', (performance.now() - started) / 1000);
  serve.log.event('acme certificate issued', { order: found.id, serial: outcome.serial, notAfter: outcome.notAfter });
  return orderResponse(context, outcome.order);
};
