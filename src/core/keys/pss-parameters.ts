/**
 * RSASSA-PSS-params (RFC 4055 §3.1, RFC 8017 appendix A.2.3) of a signature AlgorithmIdentifier: the hash,
 * the MGF1 hash, the salt length and the trailer field. pki verifies PSS (certificates made by openssl
 * `-sigopt rsa_padding_mode:pss`, some enterprise CAs) but never signs with it.
 *
 * Node's crypto.verify takes the salt length but always uses the message hash for MGF1, so a PSS
 * signature whose MGF1 hash differs from its hash is unsupported rather than guessed at.
 */
import { childrenOf, contentOf, DerTag, expectTag, readIntegerBigInt, readOid, readRootTlv, type DerElement } from '../der/reader.js';

export const PSS_OID = '1.2.840.113549.1.1.10';
const MGF1_OID = '1.2.840.113549.1.1.8';
const SHA1_OID = '1.3.14.3.2.26';

const HASHES: Readonly<Record<string, { hash: 'sha256' | 'sha384' | 'sha512'; name: string }>> = {
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', name: 'SHA-256' },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', name: 'SHA-384' },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', name: 'SHA-512' },
};

export type PssParameters =
  | { readonly ok: true; readonly hash: 'sha256' | 'sha384' | 'sha512'; readonly saltLength: number; readonly name: string }
  | { readonly ok: false; readonly weak: boolean; readonly reason: string };

/** The OID of an AlgorithmIdentifier SEQUENCE, and its parameters element if any. */
function algorithmOf(der: Uint8Array, el: DerElement): { oid: string; parameters?: DerElement } {
  const parts = childrenOf(der, expectTag(el, DerTag.sequence, 'AlgorithmIdentifier'));
  if (parts.length === 0) throw new Error('empty AlgorithmIdentifier');
  return { oid: readOid(der, expectTag(parts[0]!, DerTag.objectIdentifier, 'algorithm')), parameters: parts[1] };
}

/** The one element inside an EXPLICIT [n] wrapper. */
function explicitContent(der: Uint8Array, el: DerElement): DerElement {
  const inner = childrenOf(der, el);
  if (inner.length !== 1) throw new Error('an EXPLICIT field must hold one element');
  return inner[0]!;
}

/** `parameters`: the DER of the element following the PSS OID (undefined when absent, which RFC 4055 forbids in a signature). */
export function parsePssParameters(parameters: Uint8Array | undefined): PssParameters {
  if (parameters === undefined) return { ok: false, weak: false, reason: 'RSASSA-PSS signature without its parameters (RFC 4055 §3.1 requires them)' };
  // DEFAULTs of RFC 4055: SHA-1, MGF1 with SHA-1, salt 20, trailer 1.
  let hashOid = SHA1_OID;
  let mgfHashOid = SHA1_OID;
  let saltLength = 20;
  try {
    const der = parameters;
    for (const field of childrenOf(der, expectTag(readRootTlv(der), DerTag.sequence, 'RSASSA-PSS-params'))) {
      const value = explicitContent(der, field);
      if (field.tag === 0xa0) hashOid = algorithmOf(der, value).oid;
      else if (field.tag === 0xa1) {
        const mgf = algorithmOf(der, value);
        if (mgf.oid !== MGF1_OID || !mgf.parameters) return { ok: false, weak: false, reason: `RSASSA-PSS with mask generation ${mgf.oid} is not supported (only MGF1)` };
        mgfHashOid = algorithmOf(der, mgf.parameters).oid;
      } else if (field.tag === 0xa2) saltLength = Number(readIntegerBigInt(der, expectTag(value, DerTag.integer, 'saltLength')));
      else if (field.tag === 0xa3) {
        const trailer = contentOf(der, expectTag(value, DerTag.integer, 'trailerField'));
        if (trailer.length !== 1 || trailer[0] !== 1) return { ok: false, weak: false, reason: 'RSASSA-PSS with a trailer field other than 1 (RFC 4055 §3.1)' };
      } else return { ok: false, weak: false, reason: 'malformed RSASSA-PSS parameters' };
    }
  } catch {
    return { ok: false, weak: false, reason: 'malformed RSASSA-PSS parameters' };
  }
  if (hashOid === SHA1_OID) return { ok: false, weak: true, reason: 'RSASSA-PSS with SHA-1 is refused (collisions are practical)' };
  const hash = HASHES[hashOid];
  if (!hash) return { ok: false, weak: false, reason: `RSASSA-PSS with hash ${hashOid} is not supported (SHA-256, SHA-384 and SHA-512 are)` };
  if (mgfHashOid !== hashOid) return { ok: false, weak: false, reason: `RSASSA-PSS whose MGF1 hash differs from its ${hash.name} hash is not supported` };
  if (!Number.isSafeInteger(saltLength) || saltLength < 0) return { ok: false, weak: false, reason: 'RSASSA-PSS with a negative salt length' };
  return { ok: true, hash: hash.hash, saltLength, name: `RSASSA-PSS (${hash.name}, salt ${saltLength})` };
}
