/** Rows of the v7 ACME tables (sqlite-schema.ts) → the objects of store/inventory/acme.ts. */
import type { AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeIdentifier, AcmeOrder, AcmeProblem } from './acme.js';

export interface AccountRow {
  id: string;
  provisioner: string;
  status: AcmeAccount['status'];
  jwk: string;
  thumbprint: string;
  contact: string;
  created_at: string;
  created_from: string;
  eab_kid: string | null;
}

export interface OrderRow {
  id: string;
  account_id: string;
  provisioner: string;
  status: AcmeOrder['status'];
  expires: string;
  identifiers: string;
  not_before: string | null;
  not_after: string | null;
  error: string | null;
  certificate_serial: string | null;
  replaces: string | null;
  created_at: string;
}

export interface AuthorizationRow {
  id: string;
  order_id: string;
  position: number;
  account_id: string;
  identifier_type: AcmeIdentifier['type'];
  identifier_value: string;
  status: AcmeAuthorization['status'];
  expires: string;
  wildcard: number;
}

export interface ChallengeRow {
  id: string;
  authorization_id: string;
  position: number;
  type: AcmeChallenge['type'];
  token: string;
  status: AcmeChallenge['status'];
  validated: string | null;
  error: string | null;
}

function problem(text: string | null): AcmeProblem | null {
  return text === null ? null : (JSON.parse(text) as AcmeProblem);
}

export function accountOf(r: AccountRow): AcmeAccount {
  return {
    id: r.id,
    provisioner: r.provisioner,
    status: r.status,
    jwk: JSON.parse(r.jwk) as Record<string, string>,
    thumbprint: r.thumbprint,
    contact: JSON.parse(r.contact) as string[],
    createdAt: r.created_at,
    createdFrom: r.created_from,
    eabKid: r.eab_kid,
  };
}

export function orderOf(r: OrderRow, authorizationIds: string[]): AcmeOrder {
  return {
    id: r.id,
    accountId: r.account_id,
    provisioner: r.provisioner,
    status: r.status,
    expires: r.expires,
    identifiers: JSON.parse(r.identifiers) as AcmeIdentifier[],
    notBefore: r.not_before,
    notAfter: r.not_after,
    authorizationIds,
    error: problem(r.error),
    certificateSerial: r.certificate_serial,
    replaces: r.replaces,
    createdAt: r.created_at,
  };
}

export function authorizationOf(r: AuthorizationRow, challengeIds: string[]): AcmeAuthorization {
  return {
    id: r.id,
    accountId: r.account_id,
    identifier: { type: r.identifier_type, value: r.identifier_value },
    status: r.status,
    expires: r.expires,
    wildcard: r.wildcard === 1,
    challengeIds,
  };
}

export function challengeOf(r: ChallengeRow): AcmeChallenge {
  return { id: r.id, authorizationId: r.authorization_id, type: r.type, token: r.token, status: r.status, validated: r.validated, error: problem(r.error) };
}
