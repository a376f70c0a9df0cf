/**
 * Issue 11, point 1 (revocation, RFC 5280 §6.3, §5): checkRevocation on a root ← intermediate ← leaf path
 * with CRLs from buildCrl (what `pki crl` publishes), CRLs written field by field (no nextUpdate,
 * issuingDistributionPoint, delta and indirect markers, critical entry extensions) and one from
 * `openssl ca -gencrl` with an unknown critical extension. The revoked / stale / wrong-key verdicts are
 * also asserted against `openssl verify -crl_check`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRevocation } from '../../../src/core/verify/revocation.js';
import type { CheckOutcome, CrlCheckMode } from '../../../src/core/verify/types.js';
import type { CertificateFields } from '../../../src/core/x509/certificate-fields.js';
import { enumerated, integer, octetString, sequence, tlv } from '../../../src/core/der/writer.js';
import { PROFILES } from '../../../src/core/x509/profiles.js';
import { runPeer } from '../../helpers/peers.js';
import { crlExtension, DAY, makeCa, makeCrl, makeLeaf, makeRoot, opensslCrl, rawCrl, T0, workDir, writePem, type TestCert } from './sub-check-fixtures.js';

/** The content of an IMPLICIT BOOLEAN field ([1] onlyContainsUserCerts…). */
const boolean = (v: boolean) => Buffer.from([v ? 0xff : 0x00]);

let dir: string;
let root: TestCert;
let intermediate: TestCert;
let leaf: TestCert;
let path: CertificateFields[];
beforeAll(() => {
  dir = workDir();
  root = makeRoot('pki Root CA');
  intermediate = makeCa(root, 'pki Intermediate CA');
  leaf = makeLeaf(intermediate, { cn: 'redis', sans: ['redis.internal'], serial: '4F1A09' });
  path = [leaf.fields, intermediate.fields, root.fields];
});

const run = (crls: Uint8Array[], mode: CrlCheckMode = 'leaf', time = T0) => checkRevocation(path, crls, mode, time);
const summary = (outcomes: CheckOutcome[]) => outcomes.map((o) => (o.ok ? `${o.name}: ok` : `${o.name}: ${o.failure.code}`));
const firstFailure = (outcomes: CheckOutcome[]) => {
  const f = outcomes.find((o) => !o.ok);
  if (!f || f.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcomes)}`);
  return f.failure;
};

/** openssl verify -crl_check at T0 on the same path and CRLs: true when it accepts. */
function opensslAccepts(crls: Uint8Array[], flag = '-crl_check'): boolean {
  const id = Math.random().toString(36).slice(2);
  const args = ['verify', flag, '-attime', String(T0.getTime() / 1000), '-CAfile', writePem(dir, `${id}-root.crt`, 'CERTIFICATE', root.der), '-untrusted', writePem(dir, `${id}-int.crt`, 'CERTIFICATE', intermediate.der)];
  crls.forEach((c, i) => args.push('-CRLfile', writePem(dir, `${id}-${i}.crl`, 'X509 CRL', c)));
  return runPeer('openssl', [...args, writePem(dir, `${id}-leaf.crt`, 'CERTIFICATE', leaf.der)]).status === 0;
}

describe('revoked or not', () => {
  it('a current CRL of the issuer without the leaf: one crl check, one revocation check, both ok (openssl agrees)', () => {
    const crl = makeCrl(intermediate, [{ serialHex: '77', revokedAt: T0, reason: 'superseded' }], { crlNumber: 5n });
    expect(run([crl])).toEqual([
      { ok: true, name: 'crl', detail: 'CRL of CN=pki Intermediate CA, number 5, 1 revoked, current until 2026-06-08T00:00:00Z' },
      { ok: true, name: 'revocation', detail: 'CN=redis (serial 4F1A09) is not on the CRL of CN=pki Intermediate CA' },
    ]);
    expect(opensslAccepts([crl])).toBe(true);
  });

  it('a revoked leaf: ERR_REVOKED with the date and reason (openssl agrees)', () => {
    const crl = makeCrl(intermediate, [{ serialHex: '01', revokedAt: T0 }, { serialHex: '4f1a09', revokedAt: new Date('2026-05-02T10:00:00Z'), reason: 'keyCompromise' }]);
    const outcomes = run([crl]);
    expect(summary(outcomes)).toEqual(['crl: ok', 'revocation: ERR_REVOKED']);
    expect(firstFailure(outcomes)).toEqual({ code: 'ERR_REVOKED', message: 'revoked on 2026-05-02T10:00:00Z (keyCompromise)', certificate: 'CN=redis', hint: 'issue a new certificate with a new key (pki generate --force, or pki sign) and deploy it' });
    expect(opensslAccepts([crl])).toBe(false);
  });

  it('a revoked leaf without a reason code; a removeFromCRL entry is not a revocation', () => {
    const plain = rawCrl(intermediate, { entries: [{ serialHex: '4F1A09', revokedAt: new Date('2026-05-03T00:00:00Z') }] });
    expect(firstFailure(run([plain])).message).toBe('revoked on 2026-05-03T00:00:00Z');
    const removed = rawCrl(intermediate, { entries: [{ serialHex: '4F1A09', revokedAt: T0, extensions: [crlExtension('2.5.29.21', enumerated(8))] }] });
    expect(summary(run([removed]))).toEqual(['crl: ok', 'revocation: ok']);
  });

  it('a CRL of 100,000 entries is judged and searched (the leaf is the last entry)', () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => ({ serialHex: (0x100000 + i).toString(16), revokedAt: T0, reason: 'superseded' as const }));
    entries.push({ serialHex: '4F1A09', revokedAt: T0, reason: 'superseded' });
    const crl = makeCrl(intermediate, entries);
    const started = performance.now();
    const outcomes = run([crl]);
    const ms = performance.now() - started;
    console.log(`checkRevocation over a ${crl.length}-byte CRL of 100,001 entries: ${ms.toFixed(0)} ms`);
    expect(firstFailure(outcomes).message).toBe('revoked on 2026-06-01T00:00:00Z (superseded)');
    expect((outcomes[0] as { detail: string }).detail).toMatch(/100001 revoked/);
    expect(ms).toBeLessThan(5_000); // a hang guard, not a benchmark
  });
});

describe('every CRL given is judged, whatever the mode', () => {
  it.each<[string, CrlCheckMode]>([['none', 'none'], ['leaf', 'leaf'], ['all', 'all']])('a stale CRL makes the verdict invalid (mode %s; openssl agrees)', (_n, mode) => {
    const crl = makeCrl(intermediate, [], { thisUpdate: new Date(T0.getTime() - 10 * DAY), nextUpdate: new Date(T0.getTime() - DAY) });
    const f = firstFailure(run([crl], mode));
    expect(f).toEqual({ code: 'ERR_CRL_STALE', message: 'the CRL of CN=pki Intermediate CA is stale: its nextUpdate was 2026-05-31T00:00:00Z', certificate: 'CN=pki Intermediate CA', hint: 'publish a fresh CRL (pki crl) and give that one' });
    if (mode === 'leaf') expect(opensslAccepts([crl])).toBe(false);
  });

  it('nextUpdate exactly at the validation time is stale (time < nextUpdate)', () => {
    expect(firstFailure(run([makeCrl(intermediate, [], { nextUpdate: T0 })])).code).toBe('ERR_CRL_STALE');
  });

  it('a CRL without nextUpdate is stale by policy', () => {
    const f = firstFailure(run([rawCrl(intermediate, { nextUpdate: null })], 'none'));
    expect([f.code, f.message]).toEqual(['ERR_CRL_STALE', 'the CRL of CN=pki Intermediate CA has no nextUpdate, so nothing says it is still current']);
  });

  it('a CRL from the future: ERR_CRL_NOT_YET_VALID', () => {
    const f = firstFailure(run([makeCrl(intermediate, [], { thisUpdate: new Date(T0.getTime() + DAY), nextUpdate: new Date(T0.getTime() + 8 * DAY) })], 'none'));
    expect([f.code, f.message]).toEqual(['ERR_CRL_NOT_YET_VALID', 'the CRL of CN=pki Intermediate CA is not valid before 2026-06-02T00:00:00Z (its thisUpdate)']);
  });

  it('a CRL with the issuer name signed by another key: ERR_CRL_BAD_SIGNATURE (openssl agrees)', () => {
    const impostor = makeCa(root, 'pki Intermediate CA');
    const crl = makeCrl(impostor);
    const outcomes = run([crl], 'none');
    const f = firstFailure(outcomes);
    expect(f.code).toBe('ERR_CRL_BAD_SIGNATURE');
    expect(f.message).toMatch(/^the CRL naming CN=pki Intermediate CA as its issuer cannot be trusted: its signature is by another key \(authority key identifier [0-9A-F:]+, while CN=pki Intermediate CA in this path has [0-9A-F:]+\)$/);
    expect(f.certificate).toBe('CN=pki Intermediate CA');
    expect(opensslAccepts([crl])).toBe(false);
  });

  it('a CRL whose signature was altered (same AKI): ERR_CRL_BAD_SIGNATURE', () => {
    const crl = Buffer.from(makeCrl(intermediate));
    crl[crl.length - 3]! ^= 0x01;
    const f = firstFailure(run([crl], 'none'));
    expect([f.code, f.message]).toEqual(['ERR_CRL_BAD_SIGNATURE', 'the CRL naming CN=pki Intermediate CA as its issuer cannot be trusted: its signature does not verify with the key of CN=pki Intermediate CA']);
  });

  it('a CRL signed by a CA whose keyUsage lacks cRLSign: ERR_CRL_BAD_SIGNATURE', () => {
    const noCrlSign = makeCa(root, 'no-crl CA', { profile: { ...PROFILES.intermediate, keyUsage: ['keyCertSign'] } });
    const f = firstFailure(checkRevocation([makeLeaf(noCrlSign, { sans: ['x.internal'] }).fields, noCrlSign.fields, root.fields], [makeCrl(noCrlSign)], 'leaf', T0));
    expect([f.code, f.message]).toEqual(['ERR_CRL_BAD_SIGNATURE', 'CN=no-crl CA may not sign CRLs: its keyUsage lacks cRLSign']);
  });

  it('a CRL signed with SHA-1 (openssl ca -md sha1): ERR_CRL_BAD_SIGNATURE naming the algorithm', () => {
    const f = firstFailure(run([opensslCrl(dir, intermediate, [], [], 'sha1')], 'none', new Date(Date.now() + 3_600_000)));
    expect([f.code, f.message]).toEqual(['ERR_CRL_BAD_SIGNATURE', 'the CRL of CN=pki Intermediate CA is signed with ecdsa-with-SHA1, which pki does not accept']);
  });

  it('a CRL of a CA outside the path is an ok check "not for this path"; the leaf then has no CRL', () => {
    const other = makeCa(makeRoot('other root'), 'other CA');
    const outcomes = run([makeCrl(other)], 'leaf');
    expect(outcomes[0]).toEqual({ ok: true, name: 'crl', detail: 'CRL of CN=other CA: not for this path (its issuer is no CA of the path)' });
    expect(summary(outcomes)).toEqual(['crl: ok', 'revocation: ERR_CRL_MISSING']);
    expect(summary(run([makeCrl(other)], 'none'))).toEqual(['crl: ok']);
  });

  it('garbage is ERR_CRL_MALFORMED, naming which CRL', () => {
    const f = firstFailure(run([makeCrl(intermediate), Buffer.from('not a crl at all')], 'none'));
    expect(f.code).toBe('ERR_CRL_MALFORMED');
    expect(f.message).toMatch(/^CRL 2 of 2 cannot be read: /);
  });
});

describe('extensions a relying party must refuse (RFC 5280 §5.2, §5.3)', () => {
  it('an unknown critical CRL extension (openssl ca -gencrl) refuses the CRL; the same extension non-critical is ignored', () => {
    const critical = opensslCrl(dir, intermediate, ['1.2.3.4 = critical,DER:0500']);
    const now = new Date(Date.now() + 3_600_000);
    const f = firstFailure(run([critical], 'none', now));
    expect([f.code, f.message]).toEqual(['ERR_CRL_UNKNOWN_CRITICAL_EXTENSION', 'the CRL of CN=pki Intermediate CA cannot be used: it carries the critical extension 1.2.3.4, which pki does not process']);
    const plain = opensslCrl(dir, intermediate, ['1.2.3.4 = DER:0500'], [{ serialHex: '4F1A09', reason: 'keyCompromise' }]);
    expect(firstFailure(run([plain], 'leaf', now)).message).toBe('revoked on 2026-01-01T00:00:00Z (keyCompromise)');
  });

  it.each<[string, Buffer[], RegExp]>([
    ['delta CRL', [crlExtension('2.5.29.27', integer(1), true)], /it is a delta CRL \(deltaCRLIndicator\), which pki does not support/],
    ['indirect CRL', [crlExtension('2.5.29.28', sequence(tlv(0x84, boolean(true))), true)], /indirect CRLs are not supported/],
    ['onlySomeReasons', [crlExtension('2.5.29.28', sequence(tlv(0x83, Buffer.from([0x07, 0x80]))), true)], /onlySomeReasons/],
  ])('%s: ERR_CRL_UNKNOWN_CRITICAL_EXTENSION', (_n, extensions, message) => {
    const f = firstFailure(run([rawCrl(intermediate, { extensions })], 'none'));
    expect(f.code).toBe('ERR_CRL_UNKNOWN_CRITICAL_EXTENSION');
    expect(f.message).toMatch(message);
  });

  it('a critical entry extension pki does not know refuses the CRL; a critical known one (invalidityDate) does not', () => {
    const unknown = rawCrl(intermediate, { entries: [{ serialHex: '99', revokedAt: T0, extensions: [crlExtension('1.2.3.5', octetString(Buffer.from('x')), true)] }] });
    expect(firstFailure(run([unknown], 'none')).message).toBe('the CRL of CN=pki Intermediate CA cannot be used: the entry of serial 99 carries the critical extension 1.2.3.5, which pki does not process');
    const certificateIssuer = rawCrl(intermediate, { entries: [{ serialHex: '99', revokedAt: T0, extensions: [crlExtension('2.5.29.29', sequence(), true)] }] });
    expect(firstFailure(run([certificateIssuer], 'none')).message).toMatch(/certificateIssuer\): indirect CRLs are not supported/);
    const known = rawCrl(intermediate, { entries: [{ serialHex: '99', revokedAt: T0, extensions: [crlExtension('2.5.29.24', Buffer.from('180f32303236303530313030303030305a', 'hex'), true)] }] });
    expect(summary(run([known], 'leaf'))).toEqual(['crl: ok', 'revocation: ok']);
  });
});

describe('which certificates are checked, and ERR_CRL_MISSING', () => {
  it('mode leaf without any CRL: the leaf has none (hint names the intermediate CRL)', () => {
    expect(run([], 'leaf')).toEqual([
      { ok: false, name: 'revocation', failure: { code: 'ERR_CRL_MISSING', message: 'no CRL of CN=pki Intermediate CA was given, so its revocation cannot be checked', certificate: 'CN=redis', hint: "give its issuer's CRL with --crl, e.g. crl/intermediate_ca.crl" } },
    ]);
  });

  it('mode none checks no certificate', () => {
    expect(run([], 'none')).toEqual([]);
  });

  it('mode all: the intermediate needs the root CRL too; with both, two revocation checks pass (openssl -crl_check_all agrees)', () => {
    const intCrl = makeCrl(intermediate);
    const outcomes = run([intCrl], 'all');
    expect(summary(outcomes)).toEqual(['crl: ok', 'revocation: ok', 'revocation: ERR_CRL_MISSING']);
    expect(firstFailure(outcomes)).toMatchObject({ certificate: 'CN=pki Intermediate CA', hint: "give its issuer's CRL with --crl, e.g. crl/root_ca.crl" });
    expect(opensslAccepts([intCrl], '-crl_check_all')).toBe(false);
    const rootCrl = makeCrl(root);
    expect(summary(run([intCrl, rootCrl], 'all'))).toEqual(['crl: ok', 'crl: ok', 'revocation: ok', 'revocation: ok']);
    expect(opensslAccepts([intCrl, rootCrl], '-crl_check_all')).toBe(true);
  });

  it('a revoked intermediate fails mode all, and is not looked at in mode leaf', () => {
    const rootCrl = makeCrl(root, [{ serialHex: intermediate.fields.serial, revokedAt: new Date('2026-05-20T08:00:00Z'), reason: 'cACompromise' }]);
    const crls = [makeCrl(intermediate), rootCrl];
    const f = firstFailure(run(crls, 'all'));
    expect([f.code, f.message, f.certificate]).toEqual(['ERR_REVOKED', 'revoked on 2026-05-20T08:00:00Z (cACompromise)', 'CN=pki Intermediate CA']);
    expect(summary(run(crls, 'leaf'))).toEqual(['crl: ok', 'crl: ok', 'revocation: ok']);
    expect(opensslAccepts(crls, '-crl_check_all')).toBe(false);
  });

  it('the root CRL does not stand in for the intermediate CRL of the leaf', () => {
    expect(summary(run([makeCrl(root)], 'leaf'))).toEqual(['crl: ok', 'revocation: ERR_CRL_MISSING']);
  });

  it('issuingDistributionPoint scope: onlyContainsCACerts does not cover the leaf, onlyContainsUserCerts does', () => {
    const caOnly = rawCrl(intermediate, { extensions: [crlExtension('2.5.29.28', sequence(tlv(0x82, boolean(true))), true)] });
    const f = firstFailure(run([caOnly], 'leaf'));
    expect([f.code, f.message]).toEqual(['ERR_CRL_MISSING', 'no CRL of CN=pki Intermediate CA was given, so its revocation cannot be checked (the CRL of CN=pki Intermediate CA given does not cover this certificate: its issuingDistributionPoint limits it)']);
    const userOnly = rawCrl(intermediate, { extensions: [crlExtension('2.5.29.28', sequence(tlv(0x81, boolean(true))), true)], entries: [{ serialHex: '4F1A09', revokedAt: T0 }] });
    expect(firstFailure(run([userOnly], 'leaf')).code).toBe('ERR_REVOKED');
    const rootUserOnly = rawCrl(root, { extensions: [crlExtension('2.5.29.28', sequence(tlv(0x81, boolean(true))), true)] });
    expect(summary(run([makeCrl(intermediate), rootUserOnly], 'all'))).toEqual(['crl: ok', 'crl: ok', 'revocation: ok', 'revocation: ERR_CRL_MISSING']);
  });

  it('issuingDistributionPoint naming a distribution point covers only certificates pointing there', () => {
    const uri = (u: string) => tlv(0x86, Buffer.from(u));
    const idp = (u: string) => crlExtension('2.5.29.28', sequence(tlv(0xa0, tlv(0xa0, uri(u)))), true);
    const crl = rawCrl(intermediate, { extensions: [idp('http://crl.example/a.crl')] });
    const check = (cert: TestCert) => summary(checkRevocation([cert.fields, intermediate.fields, root.fields], [crl], 'leaf', T0));
    expect(check(makeLeaf(intermediate, { cn: 'a', sans: ['a.internal'], crlDistributionPoints: ['http://crl.example/a.crl'] }))).toEqual(['crl: ok', 'revocation: ok']);
    expect(check(makeLeaf(intermediate, { cn: 'b', sans: ['b.internal'], crlDistributionPoints: ['http://crl.example/b.crl'] }))).toEqual(['crl: ok', 'revocation: ERR_CRL_MISSING']);
    expect(check(makeLeaf(intermediate, { cn: 'c', sans: ['c.internal'] }))).toEqual(['crl: ok', 'revocation: ERR_CRL_MISSING']);
  });
});
