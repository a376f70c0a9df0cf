/**
 * Short names for the one-line verdict: each chain entry's CN (its subject when it has none), found by
 * fingerprint among the certificates the validator was given. `pki verify` and `pki inspect --tls` print
 * `chain redis ← pki Intermediate CA ← pki Root CA` with these.
 */
import { parseCertificate } from '../x509/certificate-fields.js';
import { sha256Fingerprint } from '../x509/fingerprint.js';
import { commonNameOf } from '../x509/name-decoder.js';
import type { ChainEntry } from './types.js';

export function chainCommonNames(chain: readonly ChainEntry[], known: readonly Uint8Array[]): string[] {
  return chain.map((entry) => {
    const wanted = entry.fingerprintSha256.toUpperCase();
    const der = known.find((d) => sha256Fingerprint(d) === wanted);
    const cn = der ? commonNameOf(parseCertificate(der).subjectDer) : undefined;
    return cn !== undefined && cn !== '' ? cn : entry.subject;
  });
}
