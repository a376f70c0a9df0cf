/**
 * The intermediates `pki ca rotate` retired, as `pki serve` holds them (issue 14): a retired key issues
 * nothing new, but its leaves stay valid until they expire, so the server keeps answering for them — OCSP
 * signed for that key (a CertID names the issuer by its key hash, so the current key cannot answer), the
 * ACME download and revocation of such a leaf with the intermediate that signed it, ARI by its AKI.
 *
 * Loaded at start with the CA (the same passphrase), those still valid and not revoked
 * (store/retired-ca.ts#activeRetired). One that does not open is a start-up warning — OCSP then answers
 * `unauthorized` for its leaves — never a refusal: the CA still issues with its current key.
 */
import { isPkiError } from '../core/errors.js';
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import type { Inventory } from '../store/inventory/index.js';
import { activeRetired, loadRetiredIssuer } from '../store/retired-ca.js';
import type { ServeIssuer, ServeIssuingCa, ServeRetiredIssuer } from './types.js';

/** The still-valid retired intermediates of the CA at `home`, keys opened with `passphrase`; those that do not open are warnings. */
export async function loadRetiredIssuers(
  home: CaHome,
  key: string,
  options: { passphrase: PassphraseSource; now: Date; inventory: Pick<Inventory, 'find'>; warnings: string[] },
): Promise<ServeRetiredIssuer[]> {
  const out: ServeRetiredIssuer[] = [];
  for (const retired of activeRetired(home, options.now, options.inventory)) {
    try {
      const loaded = await loadRetiredIssuer(retired, options.passphrase, options.now);
      out.push({ keyId: retired.keyId, issuer: { ...loaded, certificatePem: retired.certificatePem } });
    } catch (e) {
      if (!isPkiError(e)) throw e;
      options.warnings.push(`the retired intermediate ${retired.keyId} of CA "${key}" is not served (${e.message}): OCSP answers unauthorized for its certificates`);
    }
  }
  return out;
}

/** The retired key of `ca` that signed a record (its issuer_key_id names one the server holds), or null. */
export function retiredIssuerOf(ca: ServeIssuingCa, record: { issuerKeyId?: string | null }): ServeRetiredIssuer['issuer'] | null {
  return (record.issuerKeyId && ca.retired.find((r) => r.keyId === record.issuerKeyId)?.issuer) || null;
}

/** The key of `ca` that signed a record: a retired one it names, else the current one (also for records from before key ids were kept). */
export function signingIssuerOf(ca: ServeIssuingCa, record: { issuerKeyId?: string | null }): ServeIssuer {
  return retiredIssuerOf(ca, record) ?? ca.issuer;
}
