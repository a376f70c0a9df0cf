/**
 * Authorizations (incl. deactivation) and challenges (RFC 8555 §7.5): a challenge POSTed `{}` goes
 * pending → processing (compare-and-set, so two POSTs validate once) and is validated in the background by
 * serve/va/ with key authorization token '.' thumbprint (§8.1); the outcome makes the challenge and its
 * authorization valid or invalid (the problem kept as the challenge's error). Challenges a killed server
 * left `processing` are validated again at start (resumeProcessingChallenges).
 */
import { authorizationState } from '../../core/acme/order-status.js';
import type { AcmeAuthorization, AcmeChallenge, AcmeStore } from '../../store/inventory/acme.js';
import type { ProvisionerSettings } from '../settings.js';
import type { ServeContext } from '../types.js';
import { validateChallenge } from '../va/index.js';
import { acmeJson, type AcmeContext, type AcmeHandler } from './context.js';
import { verifyAcmeRequest } from './jws.js';
import { AcmeProblemError, acmeErrorUrn } from './problem.js';

/** Seconds a client is told to wait before polling a pending or processing resource again. */
export const RETRY_AFTER_SECONDS = 1;

/** The authorization with its expiry applied (a pending one past `expires` is stored as expired). */
export function currentAuthorization(store: AcmeStore, authz: AcmeAuthorization, now: Date): AcmeAuthorization {
  const state = authorizationState(authz.status, authz.expires, now);
  if (state === authz.status) return authz;
  return store.updateAuthorization(authz.id, { status: state }, { status: authz.status }) ?? store.findAuthorization(authz.id) ?? authz;
}

export function challengeJson(context: AcmeContext, authz: AcmeAuthorization, c: AcmeChallenge): Record<string, unknown> {
  return {
    type: c.type,
    url: context.url('challenge', authz.id, c.id),
    status: c.status,
    token: c.token,
    ...(c.validated ? { validated: c.validated } : {}),
    ...(c.error ? { error: c.error } : {}),
  };
}

function authorizationJson(context: AcmeContext, authz: AcmeAuthorization): Record<string, unknown> {
  const challenges = authz.challengeIds.map((id) => context.store.findChallenge(id)).filter((c): c is AcmeChallenge => c !== undefined);
  // RFC 8555 §7.1.4: a valid authorization lists only the challenge that validated it.
  const shown = authz.status === 'valid' ? challenges.filter((c) => c.status === 'valid') : challenges;
  return {
    identifier: authz.identifier,
    status: authz.status,
    expires: authz.expires,
    challenges: shown.map((c) => challengeJson(context, authz, c)),
    ...(authz.wildcard ? { wildcard: true } : {}),
  };
}

/** The authorization `id` of the requesting account, or the problem (404 unknown, 403 another account's). */
function ownAuthorization(context: AcmeContext, id: string, accountId: string): AcmeAuthorization {
  const authz = context.store.findAuthorization(id);
  if (!authz) throw new AcmeProblemError('malformed', `no authorization ${id}`, { status: 404 });
  if (authz.accountId !== accountId) throw new AcmeProblemError('unauthorized', `authorization ${id} belongs to another account`);
  return currentAuthorization(context.store, authz, context.serve.now());
}

export const authorization: AcmeHandler = async (context, request, ids) => {
  const verified = await verifyAcmeRequest(context, request, 'kid');
  let authz = ownAuthorization(context, ids[0]!, verified.account!.id);
  const payload = verified.payload as { status?: unknown } | null;
  if (payload !== null) {
    if (typeof payload !== 'object' || payload.status !== 'deactivated' || Object.keys(payload).length !== 1) {
      throw new AcmeProblemError('malformed', 'an authorization accepts only POST-as-GET or {"status":"deactivated"}');
    }
    if (authz.status !== 'pending' && authz.status !== 'valid') throw new AcmeProblemError('malformed', `an authorization that is ${authz.status} cannot be deactivated`);
    authz = context.store.updateAuthorization(authz.id, { status: 'deactivated' }, { status: authz.status }) ?? ownAuthorization(context, authz.id, authz.accountId);
  }
  const processing = authz.status === 'pending' && authz.challengeIds.some((id) => context.store.findChallenge(id)?.status === 'processing');
  return acmeJson(200, authorizationJson(context, authz), processing ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {});
};

/** Validates `challenge` and records the outcome; never throws (failures are logged). */
export async function runValidation(serve: ServeContext, store: AcmeStore, provisioner: ProvisionerSettings, authz: AcmeAuthorization, challenge: AcmeChallenge, thumbprint: string): Promise<void> {
  try {
    const value = authz.wildcard ? authz.identifier.value.replace(/^\*\./, '') : authz.identifier.value;
    const result = await validateChallenge(serve.settings, provisioner, {
      type: challenge.type,
      identifier: { type: authz.identifier.type, value },
      token: challenge.token,
      keyAuthorization: `${challenge.token}.${thumbprint}`,
    });
    const now = serve.now().toISOString();
    if (result.valid) {
      if (store.updateChallenge(challenge.id, { status: 'valid', validated: now, error: null }, { status: 'processing' })) {
        store.updateAuthorization(authz.id, { status: 'valid' }, { status: 'pending' });
      }
    } else if (store.updateChallenge(challenge.id, { status: 'invalid', validated: now, error: result.problem }, { status: 'processing' })) {
      store.updateAuthorization(authz.id, { status: 'invalid' }, { status: 'pending' });
    }
    serve.log.event('acme challenge validated', { challenge: challenge.id, type: challenge.type, identifier: value, valid: result.valid, ...(result.valid ? {} : { problem: result.problem.type }) });
  } catch (e) {
    serve.log.event('acme challenge validation failed', { challenge: challenge.id, error: e instanceof Error ? e.message : String(e) });
    try {
      const problem = { type: acmeErrorUrn('serverInternal'), detail: 'validation could not be completed', status: 500 };
      if (store.updateChallenge(challenge.id, { status: 'invalid', error: problem }, { status: 'processing' })) store.updateAuthorization(authz.id, { status: 'invalid' }, { status: 'pending' });
    } catch {
      // The inventory is closed (shutdown): the challenge stays processing and is validated again at the next start.
    }
  }
}

export const challenge: AcmeHandler = async (context, request, ids) => {
  const verified = await verifyAcmeRequest(context, request, 'kid');
  const authz = ownAuthorization(context, ids[0]!, verified.account!.id);
  let found = context.store.findChallenge(ids[1]!);
  if (!found || found.authorizationId !== authz.id) throw new AcmeProblemError('malformed', `no challenge ${ids[1]} in authorization ${authz.id}`, { status: 404 });
  const payload = verified.payload;
  if (payload !== null) {
    if (typeof payload !== 'object' || Array.isArray(payload)) throw new AcmeProblemError('malformed', 'a challenge is answered with the JSON object {}');
    if (found.status === 'pending' && authz.status === 'pending') {
      const started = context.store.updateChallenge(found.id, { status: 'processing' }, { status: 'pending' });
      if (started) {
        found = started;
        void runValidation(context.serve, context.store, context.provisioner, authz, started, verified.thumbprint);
      } else {
        found = context.store.findChallenge(found.id) ?? found;
      }
    }
  }
  const headers: Record<string, string> = { Link: `<${context.url('authz', authz.id)}>;rel="up"` };
  if (found.status === 'processing') headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
  return acmeJson(200, challengeJson(context, authz, found), headers);
};

/**
 * Challenges left `processing` by a killed server, validated again (in the background; call once at
 * start, after the inventory is open). Returns how many were restarted.
 */
export function resumeProcessingChallenges(serve: ServeContext, store: AcmeStore): number {
  let started = 0;
  for (const c of store.listProcessingChallenges()) {
    const authz = store.findAuthorization(c.authorizationId);
    const account = authz ? store.findAccount(authz.accountId) : undefined;
    const provisioner = account ? serve.settings.provisioners.get(account.provisioner) : undefined;
    if (!authz || !account || !provisioner) continue;
    void runValidation(serve, store, provisioner, authz, c, account.thumbprint);
    started++;
  }
  if (started) serve.log.event('acme challenges left processing are validated again', { count: started });
  return started;
}
