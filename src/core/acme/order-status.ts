/**
 * ACME status rules (RFC 8555 §7.1.6), pure: an authorization that is still pending past its expiry is
 * `expired`; a pending order becomes `ready` once every authorization is valid and `invalid` as soon as
 * one is invalid, deactivated, expired or revoked, or when the order itself has expired before it was
 * finalised (RFC 8555 has no `expired` order status: an expired order is invalid).
 */
export type AuthorizationState = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type OrderState = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export function authorizationState(status: AuthorizationState, expires: string, now: Date): AuthorizationState {
  if ((status === 'pending' || status === 'valid') && Date.parse(expires) <= now.getTime()) return 'expired';
  return status;
}

export interface OrderStateChange {
  readonly status: OrderState;
  /** Why it became invalid (the first failed authorization's index, or 'expired'), when it did. */
  readonly cause?: { readonly authorization: number; readonly status: AuthorizationState } | 'expired';
}

/** What the order's status is now, from its stored status, expiry and its authorizations' states. */
export function orderState(status: OrderState, expires: string, authorizations: readonly AuthorizationState[], now: Date): OrderStateChange {
  if (status !== 'pending' && status !== 'ready') return { status };
  const failed = authorizations.findIndex((a) => a !== 'pending' && a !== 'valid');
  if (failed >= 0) return { status: 'invalid', cause: { authorization: failed, status: authorizations[failed]! } };
  if (Date.parse(expires) <= now.getTime()) return { status: 'invalid', cause: 'expired' };
  if (authorizations.length > 0 && authorizations.every((a) => a === 'valid')) return { status: 'ready' };
  return { status };
}
