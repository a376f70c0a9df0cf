import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { parseCertificate, type CertificateFields } from '../../src/core/x509/certificate-fields.js';
import type { PkiError } from '../../src/core/errors.js';
import { generateKeyPair, type KeyPair } from '../../src/core/keys/keys.js';
import { encodeSubjectName, parseSans, type SubjectName } from '../../src/core/x509/names.js';
import { PROFILES, type ProfileName } from '../../src/core/x509/profiles.js';
import {
  DEFAULT_RENEWAL_POLICY,
  isRenewalDue,
  planRenewal,
  profileFromExtKeyUsage,
  renewalDueAt,
  subjectAltNamesInOrder,
  validateThreshold,
} from '../../src/core/lifecycle/renewal.js';

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);
const errorCode = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as PkiError).code;
  }
  return 'no error';
};

let keys: KeyPair;
async function certificate(options: { profile?: ProfileName; subject?: SubjectName; sans?: string[]; notBefore: string; notAfter: string }): Promise<CertificateFields> {
  keys ??= await generateKeyPair({ kty: 'EC', crv: 'P-256' });
  const der = issueCertificate({
    serial: '4000000000000000000000000000000A',
    subject: options.subject ?? { commonName: 'redis' },
    sans: parseSans(options.sans ?? ['redis', '127.0.0.1', 'cache.internal']),
    profile: PROFILES[options.profile ?? 'peer'],
    publicKey: keys.publicKey,
    notBefore: at(options.notBefore),
    notAfter: at(options.notAfter),
    issuer: 'self',
    selfSigningKey: keys.privateKey,
  });
  return parseCertificate(der);
}

describe('renewalDueAt / isRenewalDue (all UTC: a lifetime is a number of milliseconds)', () => {
  const ninety = { notBefore: at('2026-01-01T00:00:00Z'), notAfter: at('2026-04-01T00:00:00Z') }; // 90 days
  it.each([
    ['ok two thirds of 90 days is day 60', ninety, DEFAULT_RENEWAL_POLICY, '2026-03-02T00:00:00.000Z'],
    ['ok --threshold 0.5', ninety, { threshold: 0.5 }, '2026-02-15T00:00:00.000Z'],
    ['ok --expires-in 30d', ninety, { expiresWithinMs: 30 * DAY }, '2026-03-02T00:00:00.000Z'],
    ['ok --threshold 0 is due from the start', ninety, { threshold: 0 }, '2026-01-01T00:00:00.000Z'],
    // 2028 is a leap year: Feb 29 counts as one more day of lifetime, nothing else.
    ['ok across a leap day', { notBefore: at('2028-02-01T00:00:00Z'), notAfter: at('2028-03-02T00:00:00Z') }, { threshold: 0.5 }, '2028-02-16T00:00:00.000Z'],
    // 2026-03-29 is the EU DST switch; UTC instants do not notice.
    ['ok across a DST change', { notBefore: at('2026-03-28T00:00:00Z'), notAfter: at('2026-03-31T00:00:00Z') }, { threshold: 1 / 3 }, '2026-03-29T00:00:00.000Z'],
  ])('%s', (_name, validity, policy, expected) => {
    expect(renewalDueAt(validity, policy).toISOString()).toBe(expected);
  });

  it.each([
    ['not due one second before the threshold', '2026-03-01T23:59:59Z', false],
    ['due at the threshold', '2026-03-02T00:00:00Z', true],
    ['due after expiry', '2026-05-01T00:00:00Z', true],
    ['not due before notBefore', '2025-12-01T00:00:00Z', false],
  ])('%s', (_name, now, due) => {
    expect(isRenewalDue(ninety, at(now), DEFAULT_RENEWAL_POLICY)).toBe(due);
  });

  it('an expired certificate is due even with a tiny --expires-in', () => {
    expect(isRenewalDue(ninety, at('2026-04-02T00:00:00Z'), { expiresWithinMs: 1000 })).toBe(true);
  });

  it.each([
    ['fail negative', -0.1],
    ['fail above one', 1.5],
    ['fail NaN', Number.NaN],
  ])('%s threshold is ERR_INVALID_OPTION', (_name, t) => {
    expect(errorCode(() => validateThreshold(t))).toBe('ERR_INVALID_OPTION');
    expect(errorCode(() => renewalDueAt(ninety, { threshold: t }))).toBe('ERR_INVALID_OPTION');
  });
});

describe('profileFromExtKeyUsage', () => {
  it.each([
    ['ok serverAuth+clientAuth is peer', 'peer', 'peer'],
    ['ok serverAuth is server', 'server', 'server'],
    ['ok clientAuth is client', 'client', 'client'],
  ] as const)('%s', async (_name, issued, expected) => {
    const cert = await certificate({ profile: issued, notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' });
    expect(profileFromExtKeyUsage(cert)).toBe(expected);
  });

  it('fail a CA certificate is ERR_POLICY', async () => {
    const cert = await certificate({ profile: 'intermediate', notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' });
    expect(errorCode(() => profileFromExtKeyUsage(cert))).toBe('ERR_POLICY');
    expect(errorCode(() => planRenewal(cert, { now: at('2026-03-15T00:00:00Z') }))).toBe('ERR_POLICY');
  });
});

describe('planRenewal', () => {
  it('ok keeps subject bytes, SANs in order and profile; same lifetime from now minus the skew', async () => {
    const old = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z', sans: ['redis', '127.0.0.1', 'cache.internal', '::1'] });
    const plan = planRenewal(old, { now: at('2026-03-10T12:00:00.500Z') });
    expect(Buffer.from(encodeSubjectName(plan.subject)).equals(Buffer.from(old.subjectDer))).toBe(true);
    expect(plan.subject.commonName).toBe('redis');
    expect(plan.sans.map((s) => `${s.type}:${s.value}`)).toEqual(['dns:redis', 'ip:127.0.0.1', 'dns:cache.internal', 'ip:::1']);
    expect(plan.profile).toBe('peer');
    expect(plan.validity.notBefore.toISOString()).toBe('2026-03-10T11:59:00.000Z');
    expect(plan.validity.notAfter.getTime() - plan.validity.notBefore.getTime()).toBe(90 * DAY);
  });

  it('ok a lifetime spanning a leap day stays the same number of milliseconds', async () => {
    const old = await certificate({ notBefore: '2028-02-28T00:00:00Z', notAfter: '2028-03-01T00:00:00Z' }); // 2 days
    const plan = planRenewal(old, { now: at('2028-02-29T12:00:00Z'), skewMs: 0 });
    expect(plan.validity.notAfter.toISOString()).toBe('2028-03-02T12:00:00.000Z');
  });

  it('ok --not-after and an inventory profile override', async () => {
    const old = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' });
    const plan = planRenewal(old, { now: at('2026-03-10T00:00:00Z'), notAfter: at('2027-01-01T00:00:00Z'), profile: 'server' });
    expect(plan.validity.notAfter.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(plan.profile).toBe('server');
  });

  it('ok a subject with attributes pki does not write is copied byte for byte', async () => {
    // C=DE, O=Example, OU=Ops, CN=db.example — built by hand as an external CSR would carry it.
    const { sequence, set, oid, tlv } = await import('../../src/core/der/writer.js');
    const attr = (type: string, value: string, tag = 0x13) => set(sequence(oid(type), tlv(tag, Buffer.from(value))));
    const encoded = sequence(attr('2.5.4.6', 'DE'), attr('2.5.4.10', 'Example'), attr('2.5.4.11', 'Ops'), attr('2.5.4.3', 'db.example', 0x0c));
    const old = await certificate({ subject: { encoded, commonName: 'db.example' }, sans: ['db.example'], notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' });
    const plan = planRenewal(old, { now: at('2026-03-10T00:00:00Z') });
    expect(Buffer.from(encodeSubjectName(plan.subject)).equals(encoded)).toBe(true);
    expect(plan.subject.organization).toBe('Example');
  });

  it('fail --not-after before now is ERR_VALIDITY', async () => {
    const old = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' });
    expect(errorCode(() => planRenewal(old, { now: at('2026-03-10T00:00:00Z'), notAfter: at('2026-03-01T00:00:00Z') }))).toBe('ERR_VALIDITY');
  });

  it('ok a certificate without SANs renews without SANs', async () => {
    const old = await certificate({ profile: 'client', sans: [], notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' });
    expect(subjectAltNamesInOrder(old)).toEqual([]);
  });
});
