/**
 * The delegated OCSP responder of `pki serve` (RFC 6960 §4.2.2.2): a fresh P-256 key that lives only in
 * the server's memory and a short-lived certificate from the intermediate with id-kp-OCSPSigning and
 * id-pkix-ocsp-nocheck, so relying parties accept its responses for the intermediate's certificates without
 * asking about the signer itself. The server asks for a successor before it is due (serve/ocsp/signer.ts).
 *
 * Not recorded in the inventory: it certifies nothing but OCSP answers, lives days, and carries ocsp-nocheck
 * (clients never ask about it); a compromise is answered by stopping the server, which forgets the key.
 */
import type { KeyObject } from 'node:crypto';
import { generateKeyPair } from '../core/keys/keys.js';
import { issueCertificate } from '../core/x509/certificate.js';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import { encodeSubjectName } from '../core/x509/names.js';
import { OCSP_SIGNING_PROFILE } from '../core/x509/profiles.js';
import { generateSerial } from '../core/x509/serial.js';

export interface OcspSignerRequest {
  /** The certificate's lifetime in ms (pki serve: three times the OCSP response lifetime, at least a minute). */
  readonly lifetimeMs: number;
  /** Back-dating of notBefore for clock skew, ms; default 60 s. */
  readonly skewMs?: number;
}

export interface DelegatedOcspSigner {
  readonly privateKey: KeyObject;
  readonly certificateDer: Buffer;
  readonly subjectDer: Uint8Array;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export const OCSP_SIGNER_COMMON_NAME = 'pki serve OCSP responder';

export async function issueOcspSigner(issuer: LoadedIssuer, request: OcspSignerRequest, now: Date): Promise<DelegatedOcspSigner> {
  const keys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
  const notBefore = new Date(now.getTime() - (request.skewMs ?? 60_000));
  // Never past the intermediate: issueCertificate refuses a certificate that outlives its issuer.
  const notAfter = new Date(Math.min(now.getTime() + request.lifetimeMs, issuer.certificate.notAfter.getTime()));
  const subject = { commonName: OCSP_SIGNER_COMMON_NAME };
  const serial = generateSerial();
  const certificateDer = issueCertificate({
    serial,
    subject,
    sans: [],
    profile: OCSP_SIGNING_PROFILE,
    publicKey: keys.publicKey,
    notBefore,
    notAfter,
    issuer,
    ocspNoCheck: true,
  });
  return { privateKey: keys.privateKey, certificateDer, subjectDer: encodeSubjectName(subject), serial, notBefore, notAfter };
}
