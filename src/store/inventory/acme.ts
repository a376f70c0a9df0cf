/**
 * ACME state in the inventory (issue 13): accounts, orders, authorizations, challenges and nonces, in the
 * same database as the certificates (SQLite schema v7 here, `sqlite-acme.ts`), behind this interface so a
 * shared database can carry it next (issue 14). Every method is one transaction; the `expect` arguments
 * are compare-and-set guards (an order is finalised once even when two requests race: the second sees
 * `undefined`). Times are ISO 8601 strings, ids are random base64url strings the store makes.
 */
import { PkiError } from '../../core/errors.js';
import type { Inventory } from './index.js';

export interface AcmeProblem {
  readonly type: string;
  readonly detail: string;
  readonly status?: number;
  readonly subproblems?: readonly { readonly type: string; readonly detail: string; readonly identifier?: AcmeIdentifier }[];
}

export interface AcmeIdentifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';
export interface AcmeAccount {
  readonly id: string;
  readonly provisioner: string;
  readonly status: AcmeAccountStatus;
  /** The account's public JWK (RFC 7517 members only, no private parts). */
  readonly jwk: Readonly<Record<string, string>>;
  /** RFC 7638 SHA-256 thumbprint of `jwk`, base64url: unique per provisioner. */
  readonly thumbprint: string;
  readonly contact: readonly string[];
  readonly createdAt: string;
  /** The address the account was created from (newAccountsPerAddressPerHour). */
  readonly createdFrom: string;
  /** The external account binding key id it was bound with, or null. */
  readonly eabKid: string | null;
}

export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export interface AcmeOrder {
  readonly id: string;
  readonly accountId: string;
  readonly provisioner: string;
  readonly status: AcmeOrderStatus;
  readonly expires: string;
  readonly identifiers: readonly AcmeIdentifier[];
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  /** In the order of `identifiers`. */
  readonly authorizationIds: readonly string[];
  readonly error: AcmeProblem | null;
  /** The issued certificate's serial (inventory record), once valid. */
  readonly certificateSerial: string | null;
  /** ARI (RFC 9773) `replaces`: the certificate identifier this order renews, or null. */
  readonly replaces: string | null;
  readonly createdAt: string;
}

export type AcmeAuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export interface AcmeAuthorization {
  readonly id: string;
  readonly accountId: string;
  readonly identifier: AcmeIdentifier;
  readonly status: AcmeAuthorizationStatus;
  readonly expires: string;
  readonly wildcard: boolean;
  readonly challengeIds: readonly string[];
}

export type AcmeChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01';
export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';
export interface AcmeChallenge {
  readonly id: string;
  readonly authorizationId: string;
  readonly type: AcmeChallengeType;
  /** base64url, ≥ 128 bits of entropy (RFC 8555 §8.1). */
  readonly token: string;
  readonly status: AcmeChallengeStatus;
  readonly validated: string | null;
  readonly error: AcmeProblem | null;
}

export interface NewAcmeOrder {
  readonly accountId: string;
  readonly provisioner: string;
  readonly identifiers: readonly AcmeIdentifier[];
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly expires: string;
  readonly replaces: string | null;
  /** One per identifier, same order: the challenges offered for it (the store makes the tokens). */
  readonly authorizations: readonly { readonly identifier: AcmeIdentifier; readonly wildcard: boolean; readonly expires: string; readonly challengeTypes: readonly AcmeChallengeType[] }[];
}

export interface AcmeStore {
  /** A fresh nonce, valid until `expiresAt`; at most one `consumeNonce` succeeds for it, in any process. */
  createNonce(now: Date, expiresAt: Date): string;
  /** True once for a nonce made by createNonce and not expired at `now`; it is gone afterwards. */
  consumeNonce(nonce: string, now: Date): boolean;

  /** A new account; when the thumbprint is already registered for the provisioner, that account instead (`created: false`). */
  createAccount(account: Omit<AcmeAccount, 'id' | 'createdAt'>, now: Date): { account: AcmeAccount; created: boolean };
  findAccount(id: string): AcmeAccount | undefined;
  findAccountByThumbprint(provisioner: string, thumbprint: string): AcmeAccount | undefined;
  /** keyChange: `jwk`/`thumbprint` together; refused (ERR_ACME_KEY_IN_USE) when another account of the provisioner has the thumbprint. */
  updateAccount(id: string, changes: { status?: AcmeAccountStatus; contact?: readonly string[]; jwk?: Readonly<Record<string, string>>; thumbprint?: string }): AcmeAccount;
  countAccountsCreatedFrom(address: string, since: Date): number;

  /** The order, its authorizations and their challenges, in one transaction. */
  createOrder(order: NewAcmeOrder, now: Date): AcmeOrder;
  findOrder(id: string): AcmeOrder | undefined;
  /** The order that produced certificate `serial` (revokeCert by account key; ARI). */
  findOrderByCertificate(serial: string): AcmeOrder | undefined;
  listOrderIds(accountId: string): string[];
  countOrdersSince(accountId: string, since: Date): number;
  /** Applies `changes` only when the order's status is `expect.status` (when given); undefined when it was not. */
  updateOrder(id: string, changes: { status?: AcmeOrderStatus; error?: AcmeProblem | null; certificateSerial?: string }, expect?: { status: AcmeOrderStatus }): AcmeOrder | undefined;

  findAuthorization(id: string): AcmeAuthorization | undefined;
  updateAuthorization(id: string, changes: { status: AcmeAuthorizationStatus }, expect?: { status: AcmeAuthorizationStatus }): AcmeAuthorization | undefined;
  findChallenge(id: string): AcmeChallenge | undefined;
  updateChallenge(
    id: string,
    changes: { status: AcmeChallengeStatus; validated?: string | null; error?: AcmeProblem | null },
    expect?: { status: AcmeChallengeStatus },
  ): AcmeChallenge | undefined;
  /** Challenges left `processing` by a killed server (validated again at start). */
  listProcessingChallenges(): AcmeChallenge[];
}

/** A backend that carries the ACME tables (SqliteInventory): one store per inventory, on its connection. */
export interface AcmeStoreProvider {
  acmeStore(): AcmeStore;
}

/** The ACME store of an open inventory (same connection, same transactions; the same object on every call). */
export function acmeStore(inventory: Inventory): AcmeStore {
  const provider = inventory as Inventory & Partial<AcmeStoreProvider>;
  if (typeof provider.acmeStore !== 'function') throw new PkiError('ERR_INTERNAL', `the inventory ${inventory.path} has no ACME store`);
  return provider.acmeStore();
}
