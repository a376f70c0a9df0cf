/**
 * The pre-signed OCSP responses of `pki serve`: one per CertID as clients send it (its DER is the key —
 * a SHA-1 and a SHA-256 CertID for the same serial are two entries), for certificates the inventory knows.
 * Requests without a nonce are answered from here, so the hot path signs nothing; the responder refreshes
 * entries before their nextUpdate and at once when their serial is revoked.
 */

export interface CachedResponse {
  /** The whole OCSPResponse, DER. */
  readonly der: Buffer;
  readonly serial: string;
  /** The issuing CA whose responder signed it (re-signed by the same). */
  readonly ca: string;
  /** The CertID as the client sent it (a copy). */
  readonly certIdDer: Buffer;
  /** When it was signed (its thisUpdate and producedAt), ms. */
  readonly signedAt: number;
  /** Its nextUpdate, ms. */
  readonly nextUpdate: number;
  /** Asked for since it was signed: refreshed when due, else dropped. */
  hit: boolean;
}

/** Upper bound on entries (a few variants of each certificate); past it responses are signed per request. */
export const MAX_CACHE_ENTRIES = 500_000;

export class OcspCache {
  readonly #entries = new Map<string, CachedResponse>();
  readonly #bySerial = new Map<string, Set<string>>();
  /** signedAt of the oldest entry as of the last sweep or insertion (an entry re-signed since may be newer). */
  #oldest = Infinity;

  static keyOf(certIdDer: Uint8Array): string {
    return Buffer.from(certIdDer.buffer, certIdDer.byteOffset, certIdDer.byteLength).toString('latin1');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry for a CertID still valid at `now`, marked as asked for. */
  get(key: string, now: number): CachedResponse | undefined {
    const e = this.#entries.get(key);
    if (!e || e.nextUpdate <= now) return undefined;
    e.hit = true;
    return e;
  }

  set(key: string, entry: CachedResponse): void {
    if (!this.#entries.has(key) && this.#entries.size >= MAX_CACHE_ENTRIES) return;
    this.#entries.set(key, entry);
    let keys = this.#bySerial.get(entry.serial);
    if (!keys) this.#bySerial.set(entry.serial, (keys = new Set()));
    keys.add(key);
    this.#oldest = Math.min(this.#oldest, entry.signedAt);
  }

  delete(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    const keys = this.#bySerial.get(e.serial);
    keys?.delete(key);
    if (keys?.size === 0) this.#bySerial.delete(e.serial);
  }

  /** The entries of one serial (to re-sign after its revocation). */
  entriesOf(serial: string): CachedResponse[] {
    return [...(this.#bySerial.get(serial) ?? [])].map((k) => this.#entries.get(k)!);
  }

  /** Every entry signed at or before `signedBefore`, oldest first; recomputes the oldest age on the way. */
  due(signedBefore: number): CachedResponse[] {
    const out: CachedResponse[] = [];
    let oldest = Infinity;
    for (const e of this.#entries.values()) {
      if (e.signedAt < oldest) oldest = e.signedAt;
      if (e.signedAt <= signedBefore) out.push(e);
    }
    this.#oldest = oldest;
    return out.sort((a, b) => a.signedAt - b.signedAt);
  }

  /** Age in seconds of the oldest entry at `now` (0 when empty), for pki_ocsp_cache_age_seconds. */
  oldestAgeSeconds(now: number): number {
    return this.#entries.size === 0 || this.#oldest === Infinity ? 0 : Math.max(0, (now - this.#oldest) / 1000);
  }
}
