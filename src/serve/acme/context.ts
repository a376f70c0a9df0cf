/**
 * What every ACME handler gets: the server's context, the ACME store, the provisioner the URL names, and
 * the URLs of its resources (absolute, from the external base URL when one is set, so the JWS `url`
 * header and every Location agree behind a proxy).
 */
import type { AcmeStore } from '../../store/inventory/acme.js';
import type { ProvisionerSettings } from '../settings.js';
import type { ServeContext, ServeRequest, ServeResponse } from '../types.js';

export type AcmeResource =
  | 'directory'
  | 'new-nonce'
  | 'new-account'
  | 'new-order'
  | 'revoke-cert'
  | 'key-change'
  | 'renewal-info'
  | 'account'
  | 'orders'
  | 'order'
  | 'finalize'
  | 'authz'
  | 'challenge'
  | 'certificate';

export interface AcmeContext {
  readonly serve: ServeContext;
  readonly store: AcmeStore;
  readonly provisioner: ProvisionerSettings;
  /** `https://host:port/acme/<provisioner>/<resource>[/<id>…]` for this request's origin. */
  url(resource: AcmeResource, ...ids: string[]): string;
}

/** One ACME resource's handler; `ids` are the path segments after the resource name (already checked to be base64url-ish). */
export type AcmeHandler = (context: AcmeContext, request: ServeRequest, ids: readonly string[]) => Promise<ServeResponse>;

/** A JSON resource response (RFC 8555 objects). */
export function acmeJson(status: number, body: unknown, headers: Record<string, string> = {}): ServeResponse {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
