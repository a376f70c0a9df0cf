/**
 * validateCertificatePath end to end with the real host, name-constraint and revocation checks: their
 * verdicts reach the result, after every certificate check, in the documented order (name constraints,
 * host, then CRLs), and a certificate failure earlier in the path still wins.
 */
import { describe, expect, it } from 'vitest';
import { validate, verdict } from './path-fixtures.js';
import { DAY, makeCa, makeCrl, makeLeaf, makeRoot, T0 } from './sub-check-fixtures.js';

const root = makeRoot('E2E Root');
const int = makeCa(root, 'E2E Intermediate');
const leaf = makeLeaf(int, { cn: 'api.internal', sans: ['api.internal', '10.1.2.3'] });
const base = { leaf: leaf.der, untrusted: [int.der], roots: [root.der], time: T0 };

describe('sub-checks through validateCertificatePath', () => {
  it('--host and --ip: valid for the SAN, ERR_HOSTNAME_MISMATCH naming both names otherwise', () => {
    const ok = validate({ ...base, host: 'api.internal' });
    expect(ok.error).toBeNull();
    expect(ok.checks.at(-1)).toMatchObject({ name: 'host', ok: true });
    expect(verdict(validate({ ...base, ip: '10.1.2.3' }))).toBe('valid');
    const bad = validate({ ...base, host: 'db.internal' });
    expect(bad.error).toMatchObject({ code: 'ERR_HOSTNAME_MISMATCH', certificate: 'CN=api.internal' });
    expect(bad.error!.message).toContain('db.internal');
  });

  it('name constraints of the intermediate apply to the leaf: ERR_NAME_CONSTRAINTS', () => {
    const constrained = makeCa(root, 'E2E Constrained', { nameConstraints: { permittedDns: ['example.com'], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] } });
    const outside = makeLeaf(constrained, { cn: 'api.internal', sans: ['api.internal'] });
    const r = validate({ leaf: outside.der, untrusted: [constrained.der], roots: [root.der], time: T0 });
    expect(r.error).toMatchObject({ code: 'ERR_NAME_CONSTRAINTS' });
    expect(r.error!.message).toContain('api.internal');
    const inside = makeLeaf(constrained, { cn: 'www.example.com', sans: ['www.example.com'] });
    expect(verdict(validate({ leaf: inside.der, untrusted: [constrained.der], roots: [root.der], time: T0 }))).toBe('valid');
  });

  it('a CRL: revoked → ERR_REVOKED; not listed → valid; stale → ERR_CRL_STALE; checks after the certificate checks', () => {
    const revoked = makeCrl(int, [{ serialHex: leaf.fields.serial, revokedAt: new Date(T0.getTime() - 2 * DAY), reason: 'keyCompromise' }]);
    const r = validate({ ...base, crls: [revoked], crlCheck: 'leaf' });
    expect(r.error).toMatchObject({ code: 'ERR_REVOKED', certificate: 'CN=api.internal' });
    expect(r.error!.message).toMatch(/^revoked on /);
    const names = r.checks.map((c) => c.name);
    expect(names.indexOf('crl')).toBeGreaterThan(names.lastIndexOf('validity'));

    expect(verdict(validate({ ...base, crls: [makeCrl(int)], crlCheck: 'leaf' }))).toBe('valid');
    const stale = makeCrl(int, [], { thisUpdate: new Date(T0.getTime() - 10 * DAY), nextUpdate: new Date(T0.getTime() - DAY) });
    expect(verdict(validate({ ...base, crls: [stale] }))).toBe('ERR_CRL_STALE');
  });

  it('an expired intermediate is reported before a host mismatch and a revocation', () => {
    const revoked = makeCrl(int, [{ serialHex: leaf.fields.serial, revokedAt: T0 }]);
    const later = new Date(T0.getTime() + 400 * DAY);
    expect(verdict(validate({ ...base, host: 'db.internal', crls: [revoked], crlCheck: 'all', time: later }))).toBe('ERR_CERT_EXPIRED');
  });
});
