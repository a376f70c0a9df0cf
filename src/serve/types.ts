/**
 * The vocabulary of `pki serve` (issue 13): a request as a handler sees it (body already read and capped),
 * the response it returns, and the context every handler shares. Handlers are plain async functions of a
 * `ServeRequest`, so they are tested and fuzzed without sockets; `server.ts` is the one place that speaks
 * node:http. serve/ sits where cli/ sits: it calls operations/, store/, net/ and core/, never cli/, and
 * logs through `ServeContext.log` rather than `console`.
 */
import type { PeerCertificate } from 'node:tls';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import type { PkiConfig } from '../store/config.js';
import type { CaHome } from '../store/ca-home.js';
import type { IssuingCaRef } from '../store/issuing-ca.js';
import type { RetiredIntermediate } from '../store/retired-ca.js';
import type { Inventory } from '../store/inventory/index.js';
import type { ServeSettings } from './settings.js';

export interface ServeRequest {
  readonly method: string;
  /** The path without the query, percent-decoding not applied (`/acme/acme/new-order`). */
  readonly path: string;
  /** The query string without `?`, or ''. */
  readonly query: string;
  /**
   * The URL the client asked for, as the JWS `url` header must name it: the configured external base URL
   * (`--base-url`) + path + query when one is set, else the listener's own scheme://host:port.
   */
  readonly url: string;
  /** Lower-case header names; repeated headers joined with ', ' (node:http's `headers`). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The whole body, at most `limits.bodyBytes` (the server answers 413 before a handler sees more). */
  readonly body: Buffer;
  /** The client's address (for per-address rate limits and the access log). */
  readonly remoteAddress: string;
  /** 'https' or 'http': which listener took it. */
  readonly listener: 'https' | 'http';
  /** The verified client certificate chain on the HTTPS listener when the client sent one (mTLS renewal), leaf first, DER. */
  readonly clientCertificates?: readonly Uint8Array[];
  /** node's view of the client certificate, when sent (authorized or not: handlers decide). */
  readonly peerCertificate?: PeerCertificate;
}

export interface ServeResponse {
  readonly status: number;
  /** Header names as sent; `Content-Type` is expected whenever there is a body. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Buffer | string;
  /**
   * A finer endpoint label than the route's (`acme.new-order` under the `acme` route), for /metrics and
   * the access log; server.ts prefers it. A fixed word per resource: never an identifier or user input.
   */
  readonly endpoint?: string;
}

export type Handler = (request: ServeRequest) => Promise<ServeResponse>;

/** One route: an exact path, or a prefix ending in '/' (the handler reads the rest of the path). */
export interface Route {
  readonly path: string;
  /** Methods it answers; another gets 405 with `Allow`. */
  readonly methods: readonly string[];
  readonly handler: Handler;
  /** The endpoint label in /metrics and the access log (`acme.new-order`, `ocsp`, …): no identifiers in it. */
  readonly endpoint: string;
  /** Which listeners serve it (default: both). ACME and /1.0/renew are HTTPS only. */
  readonly listeners?: readonly ('https' | 'http')[];
}

/** A JSON line of the access log or an event; never a secret, a key, a JWS payload or a passphrase. */
export type LogFields = Record<string, string | number | boolean | null>;

export interface ServeLogger {
  /** An access-log line (one per request). */
  access(fields: LogFields): void;
  /** Something the operator should know (start, reload, renewal of the listener certificate, a failure). */
  event(message: string, fields?: LogFields): void;
}

export interface ServeMetrics {
  /** One finished request. */
  observeRequest(endpoint: string, status: number, seconds: number): void;
  /** One certificate issued by the server (ACME finalize, /1.0/renew, the HTTPS listener's own), with how long the issuance took. */
  observeIssuance(source: 'acme' | 'renew' | 'listener', seconds: number): void;
  /** A gauge series set by its owner: `pki_ocsp_cache_age_seconds`, `pki_crl_next_update_timestamp_seconds{ca="systems"}`, … (labels: fixed words or CA names, never user input). */
  setGauge(name: string, help: string, value: number, labels?: Readonly<Record<string, string>>): void;
  /** The Prometheus text exposition. */
  render(): string;
}

/** The issuer as the server holds it: certificate, key in memory, the chain every leaf is sent with. */
export type ServeIssuer = LoadedIssuer & { certificatePem: string };

/** An intermediate `pki ca rotate` retired that is still valid (store/retired-ca.ts): it signs OCSP and CRLs for what its key issued. */
export interface ServeRetiredIssuer {
  /** Its subjectKeyIdentifier, upper-case hex: the inventory's issuer_key_id of its leaves. */
  readonly keyId: string;
  readonly issuer: ServeIssuer & { readonly retired: RetiredIntermediate };
}

/**
 * One issuing CA as the server holds it (issue 14, serve/issuing-cas.ts), loaded once at start: the default
 * intermediate, a `pki ca add` CA, or a trust domain's intermediate — with its retired keys still valid.
 */
export interface ServeIssuingCa {
  /** How the server names it (map key, logs): `default`, a `pki ca add` name, or `domain/NAME`. */
  readonly key: string;
  readonly ref: IssuingCaRef;
  /** CaHome#homeOf(ref): its files, CRL and inventory columns. */
  readonly home: CaHome;
  readonly issuer: ServeIssuer;
  /** The intermediates `pki ca rotate` retired that are still valid, their keys loaded at start (oldest first). */
  readonly retired: readonly ServeRetiredIssuer[];
  /** Its root, PEM: the main root, or the trust domain's own. */
  readonly rootPem: string;
  /** pki.json as this CA issues with (its name constraints and profile set, base URL stamping); replaced on SIGHUP. */
  config: PkiConfig;
}

/** What every handler shares. One process holds one inventory connection and its issuers, each loaded once. */
export interface ServeContext {
  readonly home: CaHome;
  /** pki.json as loaded at start or at the last SIGHUP (a reload replaces the context's `config` and `settings`). */
  config: PkiConfig;
  settings: ServeSettings;
  readonly inventory: Inventory;
  /** The intermediate, key in memory for the life of the process (the passphrase is asked once, at start). */
  readonly issuer: ServeIssuer;
  /** Every issuing CA loaded at start by key (ServeIssuingCa#key), `default` (the same as `issuer`) and each trust domain's included. */
  readonly issuingCas: ReadonlyMap<string, ServeIssuingCa>;
  /** The root certificate, PEM (served at /roots.pem, the trust anchor of the HTTPS listener). */
  readonly rootPem: string;
  readonly now: () => Date;
  readonly log: ServeLogger;
  readonly metrics: ServeMetrics;
  /**
   * Told after any revocation this process makes (ACME revokeCert, and polling notices the CLI's): the
   * OCSP cache refreshes at once. Subscribers are added by the roles that cache (ocsp/).
   */
  readonly revocations: { notify(serial: string): void; subscribe(fn: (serial: string) => void): void };
}
