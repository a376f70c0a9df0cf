/**
 * Leaf issuance from the intermediate, shared by generate, sign and renew: the one place where pki.json's
 * crlDistributionPoints and OCSP URLs are stamped into every new leaf, and its maxSans and nameConstraints enforced.
 */
import type { KeyObject } from 'node:crypto';
import { issueCertificate, type Issuer } from '../core/x509/certificate.js';
import { checkNameConstraints } from '../core/x509/name-constraints.js';
import { checkSanCount, type San, type SubjectName } from '../core/x509/names.js';
import type { Profile } from '../core/x509/profiles.js';
import { generateSerial } from '../core/x509/serial.js';
import type { Validity } from '../core/x509/validity.js';
import { maxSans, type PkiConfig } from '../store/config.js';

export interface LeafRequest {
  readonly issuer: Issuer;
  readonly config: PkiConfig;
  readonly profile: Profile;
  readonly subject: SubjectName;
  readonly sans: readonly San[];
  readonly publicKey: KeyObject;
  /** `publicKey`'s SubjectPublicKeyInfo when already in hand (a request's, see CertificateSpec.spkiDer). */
  readonly spkiDer?: Uint8Array;
  readonly validity: Validity;
}

/** Signs a leaf with a fresh random serial; more SANs than pki.json's maxSans, or a name outside its nameConstraints, is refused first. */
export function issueLeafCertificate(request: LeafRequest): { der: Buffer; serial: string } {
  checkSanCount(request.sans, maxSans(request.config));
  if (request.config.nameConstraints) checkNameConstraints(request.sans, request.subject, request.config.nameConstraints);
  const serial = generateSerial();
  const der = issueCertificate({
    serial,
    subject: request.subject,
    sans: request.sans,
    profile: request.profile,
    publicKey: request.publicKey,
    ...(request.spkiDer ? { spkiDer: request.spkiDer } : {}),
    ...request.validity,
    issuer: request.issuer,
    ...(request.config.crl?.distributionPoints.length ? { crlDistributionPoints: request.config.crl.distributionPoints } : {}),
    ...(request.config.ocsp?.urls.length ? { ocspUrls: request.config.ocsp.urls } : {}),
  });
  return { der, serial };
}
