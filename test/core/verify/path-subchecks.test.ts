/**
 * The orchestrator's wiring of the three sub-checks that live in their own files (host-match.ts,
 * path-name-constraints.ts, revocation.ts): when each is called, with what, and that its outcome becomes a
 * check and, when failed, the verdict. The sub-checks themselves are replaced here by recorders (their own
 * tests prove them against real peers); the certificates, signatures and every other check are real.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckOutcome } from '../../../src/core/verify/types.js';
import { issueCertificate } from '../../../src/core/x509/certificate.js';
import { NO_NAME_CONSTRAINTS } from '../../../src/core/x509/name-constraints.js';
import { PROFILES } from '../../../src/core/x509/profiles.js';
import { entity, issue, threeTier, validate, verdict, type Entity } from './path-fixtures.js';

const calls = vi.hoisted(() => ({ host: [] as unknown[][], nameConstraints: [] as unknown[][], revocation: [] as unknown[][], answer: new Map<string, unknown>() }));

vi.mock('../../../src/core/verify/host-match.js', () => ({
  checkHost: (...args: unknown[]) => {
    calls.host.push(args);
    return calls.answer.get('host') ?? { ok: true, name: 'host', detail: 'host ok' };
  },
}));
vi.mock('../../../src/core/verify/path-name-constraints.js', () => ({
  checkPathNameConstraints: (...args: unknown[]) => {
    calls.nameConstraints.push(args);
    return calls.answer.get('nameConstraints') ?? { ok: true, name: 'nameConstraints', detail: 'constraints ok' };
  },
}));
vi.mock('../../../src/core/verify/revocation.js', () => ({
  checkRevocation: (...args: unknown[]) => {
    calls.revocation.push(args);
    return calls.answer.get('revocation') ?? [{ ok: true, name: 'revocation', detail: 'not revoked' }];
  },
}));

beforeEach(() => {
  calls.host.length = 0;
  calls.nameConstraints.length = 0;
  calls.revocation.length = 0;
  calls.answer.clear();
});

const t = threeTier('P-256', 'Wired');
const base = { leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [t.rootDer] };

describe('sub-check wiring', () => {
  it('none of the three runs without --host/--ip, name constraints, --crl or --crl-check', () => {
    expect(verdict(validate(base))).toBe('valid');
    expect([calls.host.length, calls.nameConstraints.length, calls.revocation.length]).toEqual([0, 0, 0]);
  });

  it('--host / --ip: checkHost gets the leaf and the target; a failure is the verdict, after the certificate checks', () => {
    const failure = { code: 'ERR_HOSTNAME_MISMATCH', message: 'valid for wired.leaf.test, not db.test', certificate: 'CN=wired.leaf.test' };
    calls.answer.set('host', { ok: false, name: 'host', failure } satisfies CheckOutcome);
    const r = validate({ ...base, host: 'db.test' });
    expect(r.error).toEqual(failure);
    expect(r.checks.at(-1)).toEqual({ name: 'host', ok: false, detail: failure.message });
    expect(r.checks.filter((c) => c.name === 'signature')).toHaveLength(2);
    expect(calls.host).toHaveLength(1);
    expect((calls.host[0]![0] as { der: Uint8Array }).der).toEqual(t.leafDer);
    expect(calls.host[0]![1]).toEqual({ host: 'db.test' });
    validate({ ...base, ip: '10.0.0.1' });
    expect(calls.host[1]![1]).toEqual({ ip: '10.0.0.1' });
  });

  it('name constraints: called with the whole path (leaf first) only when a CA certificate carries the extension', () => {
    const root = entity('Nc Root');
    const int = entity('Nc Intermediate');
    const intDer = issueConstrained(int, root);
    const leaf = issue(entity('nc.test'), int);
    const failure = { code: 'ERR_NAME_CONSTRAINTS', message: 'nc.test is outside the permitted subtrees', certificate: 'CN=nc.test' };
    calls.answer.set('nameConstraints', { ok: false, name: 'nameConstraints', failure } satisfies CheckOutcome);
    const r = validate({ leaf, untrusted: [intDer], roots: [issue(root, 'self')] });
    expect(r.error).toEqual(failure);
    const path = calls.nameConstraints[0]![0] as { der: Uint8Array }[];
    expect(path.map((f) => f.der)).toEqual([leaf, intDer, expect.anything()]);
  });

  it('revocation: called with --crl given or --crl-check, with the path, the CRLs, the mode and the time; its first failure is the verdict', () => {
    const crl = Buffer.from([0x30, 0x00]);
    validate({ ...base, crls: [crl] });
    expect(calls.revocation).toHaveLength(1);
    expect(calls.revocation[0]!.slice(1)).toEqual([[crl], 'none', new Date('2030-01-01T00:00:00Z')]);
    const failure = { code: 'ERR_REVOKED', message: 'revoked on 2029-12-01T00:00:00Z (keyCompromise)', certificate: 'CN=wired.leaf.test' };
    calls.answer.set('revocation', [
      { ok: true, name: 'crl', detail: 'CRL of CN=Wired Intermediate current' },
      { ok: false, name: 'revocation', failure },
      { ok: false, name: 'revocation', failure: { ...failure, certificate: 'later' } },
    ] satisfies CheckOutcome[]);
    const r = validate({ ...base, crlCheck: 'leaf' });
    expect(r.error).toEqual(failure);
    expect(r.checks.slice(-2).map((c) => c.name)).toEqual(['crl', 'revocation']);
    expect((calls.revocation[1]![0] as unknown[]).length).toBe(3);
    expect(calls.revocation[1]![2]).toBe('leaf');
  });

  it('a sub-check is not reached when a certificate check already failed', () => {
    const expired = issue(t.leaf, t.intermediate, { notAfter: new Date('2029-06-01T00:00:00Z') });
    expect(verdict(validate({ ...base, leaf: expired, host: 'x.test', crlCheck: 'all' }))).toBe('ERR_CERT_EXPIRED');
    expect([calls.host.length, calls.revocation.length]).toEqual([0, 0]);
  });
});

/** An intermediate whose certificate carries a nameConstraints extension (permitted DNS `test`). */
function issueConstrained(subject: Entity, issuer: Entity): Buffer {
  return issueCertificate({
    serial: '7A',
    subject: { commonName: subject.name },
    sans: [],
    profile: PROFILES.intermediate,
    publicKey: subject.publicKey,
    notBefore: new Date('2029-01-01T00:00:00Z'),
    notAfter: new Date('2039-01-01T00:00:00Z'),
    issuer: { subjectDer: issuer.subjectDer, keyIdentifier: issuer.keyId, privateKey: issuer.privateKey },
    nameConstraints: { ...NO_NAME_CONSTRAINTS, permittedDns: ['test'] },
  });
}
