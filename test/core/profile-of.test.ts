/**
 * Issue 10 point 3: one home for "which leaf profile do this certificate's usages name"
 * (core/x509/profiles.ts leafProfileOf). Its two callers keep their behaviours, now visible in the call:
 * renewal refuses a certificate with neither serverAuth nor clientAuth, the inventory's rebuild records it
 * as `server`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { parseCertificate, type CertificateFields } from '../../src/core/x509/certificate-fields.js';
import { leafProfileOf, PROFILES } from '../../src/core/x509/profiles.js';
import { profileFromExtKeyUsage } from '../../src/core/lifecycle/renewal.js';
import { inferProfile } from '../../src/store/inventory/record.js';
import { errorCode } from '../helpers/errors.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const issue = (profile: keyof typeof PROFILES): CertificateFields =>
  parseCertificate(
    issueCertificate({ serial: '61', subject: { commonName: 'p' }, sans: [], profile: PROFILES[profile], publicKey: key.publicKey, notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-04-01T00:00:00Z'), issuer: 'self', selfSigningKey: key.privateKey }),
  );

describe('leafProfileOf', () => {
  it.each(['server', 'client', 'peer'] as const)('%s usages name %s, for renewal and the inventory alike', (profile) => {
    const cert = issue(profile);
    expect([leafProfileOf(cert), profileFromExtKeyUsage(cert), inferProfile(cert)]).toEqual([profile, profile, profile]);
  });

  it('neither serverAuth nor clientAuth: refused without a fallback (renewal), the fallback with one (inventory: server)', () => {
    const noUsage = { extensions: [] };
    expect(errorCode(() => leafProfileOf(noUsage))).toBe('ERR_POLICY');
    expect(errorCode(() => profileFromExtKeyUsage(noUsage))).toBe('ERR_POLICY');
    expect(leafProfileOf(noUsage, 'client')).toBe('client');
    expect(inferProfile({ ...issue('server'), extensions: [] })).toBe('server');
  });

  it('CA certificates are told apart by the callers: renewal refuses them, the inventory names them', () => {
    const root = issue('root');
    expect(errorCode(() => profileFromExtKeyUsage(root))).toBe('ERR_POLICY');
    expect(inferProfile(root)).toBe('root');
  });
});
