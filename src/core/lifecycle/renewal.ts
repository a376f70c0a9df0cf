/**
 * Renewal as values: when a certificate is due, which profile it was issued under, and what its successor
 * says (same subject byte for byte, same SANs in the same order, same profile, a validity window of the
 * same length starting now). The CLI adds the serial, the key and the issuer. All times are UTC instants,
 * so leap days and DST changes need no special case: a lifetime is a number of milliseconds.
 */
import type { CertificateFields } from '../x509/certificate-fields.js';
import { childrenOf, contentOf, DerTag, expectTag, readRootTlv } from '../der/reader.js';
import { PkiError } from '../errors.js';
import { ExtensionOid } from '../x509/extensions.js';
import { decodeBasicConstraints } from '../x509/extension-decoders.js';
import { decodeName } from '../x509/name-decoder.js';
import { formatIpBytes, type San, type SubjectName } from '../x509/names.js';
import { leafProfileOf, type LeafProfileName } from '../x509/profiles.js';
import { DEFAULT_CLOCK_SKEW_MS, wholeSeconds, type Validity } from '../x509/validity.js';

/**
 * Renew once two thirds of the lifetime have passed: certbot's default (renew 30 days before the end of a
 * 90-day certificate) expressed as a fraction, so it scales to any lifetime and a failed run has a third
 * of the lifetime to be retried.
 */
export const DEFAULT_RENEWAL_THRESHOLD = 2 / 3;

/** When a certificate is due: a fraction of its lifetime passed, or a time span before its notAfter. */
export type RenewalPolicy = { readonly threshold: number } | { readonly expiresWithinMs: number };

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = { threshold: DEFAULT_RENEWAL_THRESHOLD };

/** Refuses a threshold outside [0, 1] (ERR_INVALID_OPTION). */
export function validateThreshold(threshold: number): number {
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw new PkiError('ERR_INVALID_OPTION', `threshold ${threshold} is not a fraction of the lifetime between 0 and 1`, {
      hint: 'use e.g. --threshold 0.66 (renew when two thirds of the lifetime have passed)',
    });
  }
  return threshold;
}

/** The instant from which the certificate is due for renewal. */
export function renewalDueAt(validity: Validity, policy: RenewalPolicy): Date {
  const start = validity.notBefore.getTime();
  const end = validity.notAfter.getTime();
  if ('expiresWithinMs' in policy) return new Date(end - policy.expiresWithinMs);
  return new Date(start + Math.floor((end - start) * validateThreshold(policy.threshold)));
}

/** True when the certificate is due at `now` (an expired certificate always is). */
export function isRenewalDue(validity: Validity, now: Date, policy: RenewalPolicy): boolean {
  return now.getTime() >= renewalDueAt(validity, policy).getTime() || now.getTime() >= validity.notAfter.getTime();
}

/**
 * The leaf profile a certificate was issued under, from its extended key usages (cfssl's names, as in
 * profiles.ts leafProfileOf). CA certificates and certificates with neither usage are refused: renew
 * re-issues leaves only.
 */
export function profileFromExtKeyUsage(fields: Pick<CertificateFields, 'extensions'>): LeafProfileName {
  if (decodeBasicConstraints(fields).isCA) {
    throw new PkiError('ERR_POLICY', 'this is a CA certificate; pki renew re-issues leaf certificates only', {
      hint: 're-create the CA with "pki init --force" instead',
    });
  }
  return leafProfileOf(fields);
}

/** The certificate's SANs in their order in the extension. Name forms pki cannot issue are refused. */
export function subjectAltNamesInOrder(fields: Pick<CertificateFields, 'extensions'>): San[] {
  const ext = fields.extensions.find((e) => e.oid === ExtensionOid.subjectAltName);
  if (!ext) return [];
  const out: San[] = [];
  for (const el of childrenOf(ext.value, expectTag(readRootTlv(ext.value), DerTag.sequence, 'GeneralNames'))) {
    const content = contentOf(ext.value, el);
    const text = () => Buffer.from(content).toString('latin1');
    if (el.tag === 0x81) out.push({ type: 'email', value: text() });
    else if (el.tag === 0x82) out.push({ type: 'dns', value: text() });
    else if (el.tag === 0x86) out.push({ type: 'uri', value: text() });
    else if (el.tag === 0x87) out.push({ type: 'ip', value: formatIpBytes(content) });
    else {
      throw new PkiError('ERR_POLICY', `the certificate has a subject alternative name of a form pki does not issue ([${el.tag & 0x1f}])`, {
        hint: 'issue a new certificate instead of renewing this one',
      });
    }
  }
  return out;
}

/** The old subject, kept byte for byte; CN and O are read out for the empty-subject checks. */
export function subjectOf(fields: Pick<CertificateFields, 'subjectDer'>): SubjectName {
  const attributes = decodeName(fields.subjectDer).flat();
  const last = (type: string) => attributes.filter((a) => a.type === type).pop()?.value;
  const commonName = last('CN');
  const organization = last('O');
  return {
    encoded: fields.subjectDer,
    ...(commonName !== undefined ? { commonName } : {}),
    ...(organization !== undefined ? { organization } : {}),
  };
}

export interface RenewalPlan {
  readonly subject: SubjectName;
  readonly sans: readonly San[];
  readonly profile: LeafProfileName;
  readonly validity: Validity;
}

/**
 * What the successor of `old` says. The validity starts at `now` minus the clock skew and lasts as long as
 * the old one (notAfter − notBefore, so a 90-day certificate stays a 90-day certificate), unless
 * `notAfter` is given. `profile` overrides the EKU-derived one (the inventory's record).
 */
export function planRenewal(
  old: CertificateFields,
  options: { readonly now: Date; readonly notAfter?: Date; readonly profile?: LeafProfileName; readonly skewMs?: number },
): RenewalPlan {
  const derived = profileFromExtKeyUsage(old); // also refuses CA certificates
  const notBefore = wholeSeconds(new Date(options.now.getTime() - (options.skewMs ?? DEFAULT_CLOCK_SKEW_MS)));
  const lifetime = old.notAfter.getTime() - old.notBefore.getTime();
  const notAfter = options.notAfter ?? wholeSeconds(new Date(notBefore.getTime() + lifetime));
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new PkiError('ERR_VALIDITY', `notAfter ${notAfter.toISOString()} is not after notBefore ${notBefore.toISOString()}`, {
      hint: 'choose a later --not-after',
    });
  }
  return { subject: subjectOf(old), sans: subjectAltNamesInOrder(old), profile: options.profile ?? derived, validity: { notBefore, notAfter } };
}
