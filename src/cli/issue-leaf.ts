/**
 * Leaf issuance from the intermediate, shared by generate, sign and renew: the one place where pki.json's
 * crlDistributionPoints and OCSP URLs are stamped into every new leaf, and its nameConstraints enforced.
 */
import type { KeyObject } from 'node:crypto';
import { issueCertificate, type Issuer } from '../core/certificate.js';
import { checkNameConstraints } from '../core/name-constraints.js';
import type { San, SubjectName } from '../core/names.js';
import type { Profile } from '../core/profiles.js';
import { generateSerial } from '../core/serial.js';
import type { Validity } from '../core/validity.js';
import type { PkiConfig } from '../store/config.js';

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

/** Signs a leaf with a fresh random serial; a name outside pki.json's nameConstraints is refused first. */
export function issueLeafCertificate(request: LeafRequest): { der: Buffer; serial: string } {
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
