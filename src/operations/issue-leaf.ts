/**
 * Leaf issuance from the intermediate, shared by generate, sign and renew: the one place where a profile
 * (core/x509/profile-config.ts) meets pki.json — its subject attributes, extra SANs and required SAN
 * patterns applied, its (else pki.json's) CRL distribution points, OCSP and caIssuers URLs stamped, and
 * pki.json's maxSans and nameConstraints enforced.
 */
import type { KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { issueCertificate, type Issuer } from '../core/x509/certificate.js';
import { checkNameConstraints } from '../core/x509/name-constraints.js';
import { checkSanCount, type San, type SubjectName } from '../core/x509/names.js';
import { applyProfileSubject, checkRequiredSanPatterns, resolveLeafProfile, withProfileSans, type LeafProfile } from '../core/x509/profile-config.js';
import { generateSerial } from '../core/x509/serial.js';
import type { Validity } from '../core/x509/validity.js';
import { maxSans, type PkiConfig } from '../store/config.js';

export interface LeafRequest {
  readonly issuer: Issuer;
  readonly config: PkiConfig;
  readonly profile: LeafProfile;
  readonly subject: SubjectName;
  readonly sans: readonly San[];
  readonly publicKey: KeyObject;
  /** `publicKey`'s SubjectPublicKeyInfo when already in hand (a request's, see CertificateSpec.spkiDer). */
  readonly spkiDer?: Uint8Array;
  readonly validity: Validity;
}

/** The profile `name` from pki.json's profiles (a built-in one unless overridden); an unknown name lists the known ones. */
export function leafProfile(config: PkiConfig, name: string): LeafProfile {
  const profile = resolveLeafProfile(config.profiles, name);
  const ca = config.issuingCa;
  // A `pki ca add --profile-set` CA issues only those profiles (store/issuing-ca-policy.ts).
  if (ca?.profiles && !ca.profiles.includes(name)) {
    throw new PkiError('ERR_POLICY', `issuing CA ${ca.name} does not issue profile "${name}" (it issues ${ca.profiles.join(', ')})`, {
      hint: `choose one of those profiles, or another CA with --ca`,
    });
  }
  return profile;
}

/** What a leaf of `profile` will say for `subject` and `sans`, refused (before any key or passphrase is touched) when it breaks a rule. */
export function leafNames(config: PkiConfig, profile: LeafProfile, subject: SubjectName, sans: readonly San[]): { subject: SubjectName; sans: San[] } {
  const all = withProfileSans(sans, profile);
  checkSanCount(all, maxSans(config));
  checkRequiredSanPatterns(all, profile);
  const named = applyProfileSubject(subject, profile);
  if (config.nameConstraints) {
    try {
      checkNameConstraints(all, named, config.nameConstraints);
    } catch (e) {
      // A `pki ca add` CA's constraints are its own (ca/NAME/ca.json, stamped into its certificate).
      if (config.issuingCa && e instanceof PkiError) throw new PkiError(e.code, e.message.replace("the intermediate's", `issuing CA ${config.issuingCa.name}'s`), { hint: 'issue only names inside them, or from another CA (--ca)' });
      throw e;
    }
  }
  return { subject: named, sans: all };
}

/** Signs a leaf with a fresh random serial, after leafNames' checks; returns the subject and SANs it carries. */
export function issueLeafCertificate(request: LeafRequest): { der: Buffer; serial: string; subject: SubjectName; sans: San[] } {
  const { config, profile } = request;
  const { subject, sans } = leafNames(config, profile, request.subject, request.sans);
  const serial = generateSerial();
  // A profile's own list wins over pki.json's top-level one, even when empty (a profile without CRLs).
  const crl = profile.crlDistributionPoints ?? config.crl?.distributionPoints ?? [];
  const ocsp = profile.ocspUrls ?? config.ocsp?.urls ?? [];
  const caIssuers = profile.caIssuersUrls ?? config.aia?.caIssuers ?? [];
  const der = issueCertificate({
    serial,
    subject,
    sans,
    profile: profile.x509,
    publicKey: request.publicKey,
    ...(request.spkiDer ? { spkiDer: request.spkiDer } : {}),
    ...request.validity,
    issuer: request.issuer,
    ...(crl.length ? { crlDistributionPoints: crl } : {}),
    ...(ocsp.length ? { ocspUrls: ocsp } : {}),
    ...(caIssuers.length ? { caIssuersUrls: caIssuers } : {}),
  });
  return { der, serial, subject, sans };
}
