/**
 * The OCSP responder of `pki serve` (RFC 6960): answers for the certificates every issuing CA it holds
 * issued (the default intermediate, each `pki ca add` CA, each trust domain's, and the keys `pki ca rotate`
 * retired that are still valid: issue 14), from the inventory — good, revoked (time, reason) or unknown. A
 * request is dispatched by its CertID's issuer hashes to that key's authority, and signed by that key's
 * signer (signer.ts: a delegated responder the key issued, or the key).
 *
 * - A request without a nonce for one certificate is answered from the pre-signed cache (cache.ts): the
 *   hot path parses, looks up and writes bytes, and signs nothing. A miss signs once and caches.
 * - A request with a nonce (RFC 8954), or for several certificates, gets a freshly signed response.
 * - A CertID naming another issuer gets `unauthorized` (RFC 5019 §2.2.3: this responder is not
 *   authoritative for it), unsigned; so does a request whose CertIDs name two of our CAs (one response has
 *   one signer, and each CA's responder speaks for that CA only) — chosen over RFC 6960's signed `unknown` so a request about someone
 *   else's CA costs no signature. Garbage gets `malformedRequest`.
 * - Freshness: entries are re-signed when half their lifetime (settings.ocsp.lifetimeMs) has passed if
 *   they were asked for since, else dropped; a revocation in this process (ctx.revocations) or in another
 *   (`pki revoke`, seen by polling Inventory#revocationMark every 200 ms) re-signs that serial's entries
 *   at once.
 */
import { buildOcspResponse, certIdMatches, issuerHashes, ocspErrorResponse, parseOcspRequest, type CertId, type CertStatus, type IssuerHashes } from '../../core/ocsp/index.js';
import { formatDistinguishedName } from '../../core/x509/name-decoder.js';
import { crlDueness } from '../../store/crl-publication.js';
import { OcspCache, type CachedResponse } from './cache.js';
import type { OcspSignerHolder } from './signer.js';
import type { LoadedIssuer } from '../../core/x509/issuer.js';
import { refOfRecord, sameIssuingCa, type IssuingCaRef } from '../../store/issuing-ca.js';
import { caKeyId } from '../../store/retired-ca.js';
import type { ServeContext } from '../types.js';

export const POLL_MS = 200;
/** Most entries re-signed per sweep, so a sweep never blocks the event loop for long. */
const RESIGN_PER_SWEEP = 500;

const MALFORMED = ocspErrorResponse('malformedRequest');
const UNAUTHORIZED = ocspErrorResponse('unauthorized');
const INTERNAL = ocspErrorResponse('internalError');

export interface OcspAnswer {
  readonly der: Buffer;
  /** For a cacheable (nonce-less) response: seconds until its nextUpdate (HTTP Cache-Control, RFC 5019 §6). */
  readonly maxAgeSeconds?: number;
}

/** One key of an issuing CA, as the responder is given it: the CA's current key or one it retired, with its signer. */
export interface OcspKey {
  /** Unique among the keys: the CA's key (`default`, `systems`, `domain/redis`), `…#<key id>` for a retired one. */
  readonly id: string;
  readonly ref: IssuingCaRef;
  readonly issuer: LoadedIssuer;
  /** True for a key `pki ca rotate` retired: it answers only for records naming it by issuer_key_id. */
  readonly retired: boolean;
  readonly signer: OcspSignerHolder;
}

/** One key as the responder sees it: how CertIDs name it, how records name it, who signs for it. */
interface OcspAuthority {
  readonly id: string;
  readonly ref: IssuingCaRef;
  readonly hashes: IssuerHashes;
  readonly issuerName: string;
  readonly keyId: string;
  readonly retired: boolean;
  readonly signer: OcspSignerHolder;
}

export class OcspResponder {
  readonly #context: ServeContext;
  readonly #authorities = new Map<string, OcspAuthority>();
  readonly #cache = new OcspCache();
  readonly #knownRevoked = new Set<string>();
  #mark: string;
  #poll: NodeJS.Timeout | null = null;
  #sweep: NodeJS.Timeout | null = null;
  #pollFailed = false;

  /** `keys`: each CA key it answers for (every issuing CA's current key and retired keys), with its signer. */
  constructor(context: ServeContext, keys: readonly OcspKey[]) {
    this.#context = context;
    for (const k of keys) {
      const issuer = k.issuer.certificate;
      const hashes = issuerHashes(issuer.subjectDer, issuer.spkiDer);
      this.#authorities.set(k.id, { id: k.id, ref: k.ref, hashes, issuerName: formatDistinguishedName(issuer.subjectDer), keyId: caKeyId(issuer), retired: k.retired, signer: k.signer });
    }
    this.#mark = context.inventory.revocationMark('x509');
    for (const e of context.inventory.listRevocations('x509', context.now())) this.#knownRevoked.add(e.serial);
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  /** Answers one DER request; never throws (an unexpected failure is `internalError`, logged). */
  answer(der: Uint8Array): OcspAnswer {
    let request;
    try {
      request = parseOcspRequest(der);
    } catch {
      return { der: MALFORMED };
    }
    const authority = [...this.#authorities.values()].find((a) => certIdMatches(request.certIds[0]!, a.hashes));
    if (!authority || !request.certIds.every((id) => certIdMatches(id, authority.hashes))) return { der: UNAUTHORIZED };
    try {
      const now = this.#context.now().getTime();
      if (request.nonce === null && request.certIds.length === 1) return this.#cached(authority, request.certIds[0]!, now);
      return { der: this.#sign(authority, request.certIds, now, request.nonce) };
    } catch (e) {
      this.#context.log.event('OCSP response failed', { error: e instanceof Error ? e.message : String(e) });
      return { der: INTERNAL };
    }
  }

  #cached(authority: OcspAuthority, id: CertId, now: number): OcspAnswer {
    const key = OcspCache.keyOf(id.der);
    let entry: CachedResponse | undefined = this.#cache.get(key, now);
    if (!entry) {
      const status = this.#status(authority, id.serial);
      if (status.kind === 'unknown') return { der: this.#sign(authority, [id], now, null) }; // not cached: any serial can be asked
      entry = this.#store(authority, Buffer.from(id.der), id.serial, status, now);
    }
    return { der: entry.der, maxAgeSeconds: Math.max(0, Math.floor((entry.nextUpdate - now) / 1000)) };
  }

  #store(authority: OcspAuthority, certIdDer: Buffer, serial: string, status: CertStatus, now: number): CachedResponse {
    const der = this.#signStatuses(authority, [{ certIdDer, status }], now, null);
    const entry: CachedResponse = { der, serial, ca: authority.id, certIdDer, signedAt: now, nextUpdate: now + this.#context.settings.ocsp.lifetimeMs, hit: false };
    this.#cache.set(OcspCache.keyOf(certIdDer), entry);
    return entry;
  }

  /** The inventory's answer about a serial of the authority's key. */
  #status(authority: OcspAuthority, serial: string): CertStatus {
    const r = this.#context.inventory.find('x509', serial);
    // Only what this key signed: not the CA certificates, not a replaced CA's carried-over leaves, not another
    // CA's (a trust domain's intermediate may share a name), not the other key of a rotated CA (same name).
    if (!r || r.previousCa || r.issuer !== authority.issuerName || r.profile === 'root' || r.profile === 'intermediate') return { kind: 'unknown' };
    if (!sameIssuingCa(refOfRecord(r), authority.ref)) return { kind: 'unknown' };
    if (r.issuerKeyId ? r.issuerKeyId !== authority.keyId : authority.retired) return { kind: 'unknown' };
    if (r.status === 'revoked') return { kind: 'revoked', at: new Date(r.revokedAt!), reason: r.revocationReason };
    return { kind: 'good' };
  }

  #sign(authority: OcspAuthority, ids: readonly CertId[], now: number, nonce: Uint8Array | null): Buffer {
    return this.#signStatuses(authority, ids.map((id) => ({ certIdDer: id.der, status: this.#status(authority, id.serial) })), now, nonce);
  }

  #signStatuses(authority: OcspAuthority, items: readonly { certIdDer: Uint8Array; status: CertStatus }[], now: number, nonce: Uint8Array | null): Buffer {
    const thisUpdate = new Date(now);
    const nextUpdate = new Date(now + this.#context.settings.ocsp.lifetimeMs);
    return buildOcspResponse({
      signer: authority.signer.current(),
      producedAt: thisUpdate,
      responses: items.map((i) => ({ certIdDer: i.certIdDer, status: i.status, thisUpdate, nextUpdate })),
      nonce,
    });
  }

  /** Re-signs a serial's cached responses with its current status (after a revocation). */
  refreshSerial(serial: string): void {
    this.#knownRevoked.add(serial);
    const entries = this.#cache.entriesOf(serial);
    if (entries.length === 0) return;
    const now = this.#context.now().getTime();
    let status: CertStatus = { kind: 'unknown' };
    for (const e of entries) {
      const authority = this.#authorities.get(e.ca)!;
      status = this.#status(authority, serial);
      if (status.kind === 'unknown') this.#cache.delete(OcspCache.keyOf(e.certIdDer));
      else this.#store(authority, e.certIdDer, serial, status, now);
    }
    this.#context.log.event('OCSP responses re-signed after a revocation', { serial, status: status.kind });
  }

  /** One poll: the inventory's revocation mark; when it moved, the newly revoked serials are re-signed. */
  pollRevocations(): void {
    const inventory = this.#context.inventory;
    const mark = inventory.revocationMark('x509');
    const now = this.#context.now();
    this.#context.metrics.setGauge('pki_ocsp_cache_age_seconds', 'Age of the oldest pre-signed OCSP response in the cache.', this.#cache.oldestAgeSeconds(now.getTime()));
    if (mark === this.#mark) return;
    this.#mark = mark;
    this.crlGauge(); // a revocation re-published the CRL
    for (const e of inventory.listRevocations('x509', now)) {
      if (!this.#knownRevoked.has(e.serial)) this.refreshSerial(e.serial);
    }
  }

  /**
   * pki_crl_next_update_timestamp_seconds of each issuing CA's published CRL, from its first 16 KiB (`pki crl`
   * may run elsewhere): the default intermediate's unlabelled (as before issue 14), `{ca="NAME"}` for a
   * `pki ca add` CA, `{trust_domain="NAME"}` for a trust domain's.
   */
  crlGauge(): void {
    const now = this.#context.now();
    for (const ca of this.#context.issuingCas.values()) {
      const { nextUpdate } = crlDueness(ca.home.crlPath, now);
      if (!nextUpdate) continue;
      const labels: Record<string, string> = ca.ref.trustDomain ? { trust_domain: ca.ref.trustDomain } : ca.ref.name ? { ca: ca.ref.name } : {};
      this.#context.metrics.setGauge('pki_crl_next_update_timestamp_seconds', 'nextUpdate of the published CRL of an issuing CA, Unix time.', Date.parse(nextUpdate) / 1000, labels);
    }
  }

  /** One sweep: entries past half their life are re-signed when asked for since, else dropped. */
  sweep(): void {
    this.crlGauge();
    const now = this.#context.now().getTime();
    let budget = RESIGN_PER_SWEEP;
    for (const e of this.#cache.due(now - this.#context.settings.ocsp.lifetimeMs / 2)) {
      const key = OcspCache.keyOf(e.certIdDer);
      if (!e.hit || budget <= 0) {
        // Dropped when not asked for; past the budget, kept (valid for another half life) for the next sweep.
        if (!e.hit) this.#cache.delete(key);
        continue;
      }
      budget--;
      const authority = this.#authorities.get(e.ca)!;
      const status = this.#status(authority, e.serial);
      if (status.kind === 'unknown') this.#cache.delete(key);
      else this.#store(authority, e.certIdDer, e.serial, status, now);
    }
  }

  /** The poll and sweep timers (unref'd: they never keep the process alive). */
  start(): void {
    this.#context.revocations.subscribe((serial) => this.refreshSerial(serial));
    for (const a of this.#authorities.values()) a.signer.scheduleRotation(() => {});
    this.#guard('CRL gauge', () => this.crlGauge());
    this.#poll = setInterval(() => this.#guard('poll', () => this.pollRevocations()), POLL_MS);
    this.#poll.unref();
    const sweepMs = Math.min(60_000, Math.max(1_000, this.#context.settings.ocsp.lifetimeMs / 10));
    this.#sweep = setInterval(() => this.#guard('sweep', () => this.sweep()), sweepMs);
    this.#sweep.unref();
  }

  stop(): void {
    if (this.#poll) clearInterval(this.#poll);
    if (this.#sweep) clearInterval(this.#sweep);
    for (const a of this.#authorities.values()) a.signer.stop();
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
      this.#pollFailed = false;
    } catch (e) {
      // Logged once per failure streak (a busy or closing database), not every 200 ms.
      if (!this.#pollFailed) this.#context.log.event(`OCSP ${what} failed; retrying`, { error: e instanceof Error ? e.message : String(e) });
      this.#pollFailed = true;
    }
  }
}
