/**
 * validateCertificatePath's verdicts on broken chains made in process: each asserts the code, the failing
 * certificate and that the message names the cause.
 */
import { describe, expect, it } from 'vitest';
import { encodeSubjectName } from '../../../src/core/x509/names.js';
import { PROFILES, type Profile } from '../../../src/core/x509/profiles.js';
import { AT, entity, issue, threeTier, validate, verdict } from './path-fixtures.js';

const BEFORE_ALL = new Date('2028-01-01T00:00:00Z');

describe('validity', () => {
  it('an expired leaf: ERR_CERT_EXPIRED naming notAfter, with the renew hint', () => {
    const t = threeTier('P-256', 'Exp');
    const leaf = issue(t.leaf, t.intermediate, { notAfter: new Date('2029-10-01T00:00:00Z') });
    const r = validate({ leaf, untrusted: [t.intermediateDer], roots: [t.rootDer] });
    expect(r.error).toEqual({ code: 'ERR_CERT_EXPIRED', message: 'certificate has expired on 2029-10-01T00:00:00Z', certificate: 'CN=exp.leaf.test', hint: 'renew it: pki renew <file>' });
    expect(r.valid).toBe(false);
    expect(r.chain).toHaveLength(3);
    expect(r.checks.at(-1)).toEqual({ name: 'validity', ok: false, detail: 'certificate has expired on 2029-10-01T00:00:00Z' });
  });

  it('notAfter itself is still valid (RFC 5280: inclusive), one second later is expired', () => {
    const t = threeTier('P-256', 'Edge');
    const leaf = issue(t.leaf, t.intermediate, { notAfter: AT });
    expect(verdict(validate({ leaf, untrusted: [t.intermediateDer], roots: [t.rootDer] }))).toBe('valid');
    expect(verdict(validate({ leaf, untrusted: [t.intermediateDer], roots: [t.rootDer], time: new Date(AT.getTime() + 1000) }))).toBe('ERR_CERT_EXPIRED');
  });

  it('an expired intermediate under a valid leaf: ERR_CERT_EXPIRED on the intermediate', () => {
    const t = threeTier('P-256', 'ExpInt');
    const int = issue(t.intermediate, t.root, { profile: PROFILES.intermediate, notAfter: new Date('2029-12-01T00:00:00Z') });
    const r = validate({ leaf: t.leafDer, untrusted: [int], roots: [t.rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_CERT_EXPIRED', certificate: 'CN=ExpInt Intermediate', message: 'certificate has expired on 2029-12-01T00:00:00Z' });
  });

  it('a not-yet-valid leaf and intermediate: ERR_CERT_NOT_YET_VALID naming notBefore', () => {
    const t = threeTier('P-256', 'Early');
    const leaf = issue(t.leaf, t.intermediate, { notBefore: new Date('2030-06-01T00:00:00Z') });
    const r = validate({ leaf, untrusted: [t.intermediateDer], roots: [t.rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_CERT_NOT_YET_VALID', certificate: 'CN=early.leaf.test', message: 'certificate is not valid before 2030-06-01T00:00:00Z' });
    const int = issue(t.intermediate, t.root, { profile: PROFILES.intermediate, notBefore: new Date('2030-02-01T00:00:00Z') });
    const r2 = validate({ leaf: t.leafDer, untrusted: [int], roots: [t.rootDer] });
    expect(r2.error).toMatchObject({ code: 'ERR_CERT_NOT_YET_VALID', certificate: 'CN=Early Intermediate' });
  });

  it("the anchor's validity counts too (as openssl and Go check it)", () => {
    const t = threeTier('P-256', 'Anchor');
    const r = validate({ leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [t.rootDer], time: BEFORE_ALL });
    // Anchor first: the root's notBefore is the first failure.
    expect(r.error).toMatchObject({ code: 'ERR_CERT_NOT_YET_VALID', certificate: 'CN=Anchor Root' });
  });
});

describe('path building', () => {
  it('wrong root: ERR_UNKNOWN_AUTHORITY naming the missing issuer DN', () => {
    const t = threeTier('P-256', 'Right');
    const other = threeTier('P-256', 'Other');
    const r = validate({ leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [other.rootDer] });
    expect(r.error).toEqual({
      code: 'ERR_UNKNOWN_AUTHORITY',
      message: 'signed by unknown authority CN=Right Root',
      certificate: 'CN=Right Intermediate',
      hint: 'give the intermediate with --untrusted, or the right --roots',
    });
    expect(r.chain.map((e) => e.subject)).toEqual(['CN=right.leaf.test', 'CN=Right Intermediate']);
  });

  it('a root of the same name but another key is no candidate (AKI ≠ SKI): ERR_UNKNOWN_AUTHORITY', () => {
    const t = threeTier('P-256', 'Twin');
    const twin = issue(entity('Twin Root'), 'self');
    const r = validate({ leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [twin] });
    expect(r.error).toMatchObject({ code: 'ERR_UNKNOWN_AUTHORITY', certificate: 'CN=Twin Intermediate' });
  });

  it('missing intermediate: ERR_UNKNOWN_AUTHORITY on the leaf, naming the intermediate', () => {
    const t = threeTier('P-256', 'Gap');
    const r = validate({ leaf: t.leafDer, roots: [t.rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_UNKNOWN_AUTHORITY', certificate: 'CN=gap.leaf.test', message: 'signed by unknown authority CN=Gap Intermediate' });
  });

  it('a self-signed certificate not among the roots says so', () => {
    const self = issue(entity('lonely.test'), 'self', { profile: PROFILES.server });
    const r = validate({ leaf: self, roots: [threeTier('P-256', 'X').rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_UNKNOWN_AUTHORITY', certificate: 'CN=lonely.test' });
    expect(r.error!.message).toBe('signed by unknown authority CN=lonely.test (a self-signed certificate not among the roots)');
  });

  it('a tampered leaf: ERR_BAD_SIGNATURE naming the issuer whose key does not verify it', () => {
    const t = threeTier('P-256', 'Tamper');
    const leaf = Buffer.from(t.leafDer);
    leaf[leaf.length - 5]! ^= 0x01; // inside the signature value
    const r = validate({ leaf, untrusted: [t.intermediateDer], roots: [t.rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_BAD_SIGNATURE', certificate: 'CN=tamper.leaf.test', message: 'signature does not verify with the key of CN=Tamper Intermediate' });
  });

  it('issuer names that differ only in case and spacing match (RFC 5280 §7.1), when no name matches byte for byte', () => {
    const root = entity('Case  Root');
    const rootDer = issue(root, 'self');
    const sloppy = { ...root, subjectDer: encodeSubjectName({ commonName: 'case root' }) };
    const leaf = issue(entity('case.test'), sloppy);
    const r = validate({ leaf, roots: [rootDer] });
    expect(r.error).toBeNull();
    expect(r.chain.map((e) => e.issuer)).toEqual(['CN=case root', 'CN=Case  Root']);
  });

  it('an outer signature algorithm that differs from the signed one: ERR_MALFORMED_CERTIFICATE (RFC 5280 §4.1.1.2)', () => {
    const t = threeTier('P-256', 'Outer');
    const leaf = Buffer.from(t.leafDer);
    const sha256 = Buffer.from('06082a8648ce3d040302', 'hex'); // ecdsa-with-SHA256
    const outer = leaf.lastIndexOf(sha256);
    expect(outer).toBeGreaterThan(leaf.indexOf(sha256));
    leaf[outer + sha256.length - 1] = 0x03; // outer now claims ecdsa-with-SHA384
    const r = validate({ leaf, untrusted: [t.intermediateDer], roots: [t.rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_MALFORMED_CERTIFICATE', certificate: 'CN=outer.leaf.test' });
    expect(r.error!.message).toMatch(/signature algorithm outside the signed part differs/);
  });

  it('cross-signed intermediate with two roots: each root alone works, and both together', () => {
    const rootA = entity('Cross Root A');
    const rootB = entity('Cross Root B');
    const int = entity('Cross Intermediate');
    const leaf = entity('cross.test');
    const intByA = issue(int, rootA, { profile: PROFILES.intermediate });
    const intByB = issue(int, rootB, { profile: PROFILES.intermediate });
    const leafDer = issue(leaf, int);
    const rootADer = issue(rootA, 'self');
    const rootBDer = issue(rootB, 'self');
    const untrusted = [intByA, intByB];
    const a = validate({ leaf: leafDer, untrusted, roots: [rootADer] });
    expect(a.error).toBeNull();
    expect(a.chain.at(-1)!.subject).toBe('CN=Cross Root A');
    // With only root B, the first candidate (signed by A) dead-ends and the second is tried.
    const b = validate({ leaf: leafDer, untrusted, roots: [rootBDer] });
    expect(b.error).toBeNull();
    expect(b.chain.at(-1)!.subject).toBe('CN=Cross Root B');
    expect(verdict(validate({ leaf: leafDer, untrusted, roots: [rootBDer, rootADer] }))).toBe('valid');
    expect(verdict(validate({ leaf: leafDer, untrusted, roots: [] }))).toBe('ERR_UNKNOWN_AUTHORITY');
  });

  it('when every path fails, the one reaching an anchor is reported (an expired cross-sign beats a dead end)', () => {
    const rootA = entity('Best Root A');
    const rootB = entity('Best Root B');
    const int = entity('Best Intermediate');
    const intByA = issue(int, rootA, { profile: PROFILES.intermediate });
    const intByB = issue(int, rootB, { profile: PROFILES.intermediate, notAfter: new Date('2029-06-01T00:00:00Z') });
    const leafDer = issue(entity('best.test'), int);
    const r = validate({ leaf: leafDer, untrusted: [intByA, intByB], roots: [issue(rootB, 'self')] });
    expect(r.error).toMatchObject({ code: 'ERR_CERT_EXPIRED', certificate: 'CN=Best Intermediate' });
    expect(r.chain.at(-1)!.subject).toBe('CN=Best Root B');
  });

  it('a loop of two CAs cross-signing each other: ERR_CHAIN_LOOP', () => {
    const x = entity('Loop X');
    const y = entity('Loop Y');
    const xByY = issue(x, y, { profile: PROFILES.intermediate });
    const yByX = issue(y, x, { profile: PROFILES.intermediate });
    const leaf = issue(entity('loop.test'), x);
    const r = validate({ leaf, untrusted: [xByY, yByX], roots: [threeTier('P-256', 'Elsewhere').rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_CHAIN_LOOP', certificate: 'CN=Loop Y' });
    expect(r.error!.message).toBe('certificate chain loops: CN=Loop Y is issued by CN=Loop X, which is already in the path');
    // The same loop with X's root given: the path leaves the loop and is valid.
    const rootX = issue(x, 'self');
    expect(verdict(validate({ leaf, untrusted: [xByY, yByX], roots: [rootX] }))).toBe('valid');
  });

  it('a leaf in --roots: a self-signed CA is its own path; a non-CA is not an anchor for itself', () => {
    const t = threeTier('P-256', 'Self');
    const alone = validate({ leaf: t.rootDer, roots: [t.rootDer] });
    expect(alone.error).toBeNull();
    expect(alone.chain.map((e) => e.subject)).toEqual(['CN=Self Root']);

    const selfLeaf = issue(entity('self-leaf.test'), 'self', { profile: PROFILES.server });
    const r = validate({ leaf: selfLeaf, roots: [selfLeaf] });
    expect(r.error).toMatchObject({ code: 'ERR_NOT_CA', certificate: 'CN=self-leaf.test' });
    expect(r.error!.message).toMatch(/in --roots.*self-signed CA certificate/);

    // A leaf listed in --roots beside its issuer still validates through the issuer.
    const leaf2 = issue(entity('listed.test'), t.root);
    expect(verdict(validate({ leaf: leaf2, roots: [leaf2, t.rootDer] }))).toBe('valid');
  });
});

describe('CA constraints', () => {
  it('a CA:FALSE issuer: ERR_NOT_CA on the issuer', () => {
    const root = entity('NotCa Root');
    const fake = entity('notca-server.test');
    const fakeDer = issue(fake, root, { profile: PROFILES.server });
    const leaf = issue(entity('notca.leaf.test'), fake);
    const r = validate({ leaf, untrusted: [fakeDer], roots: [issue(root, 'self')] });
    expect(r.error).toMatchObject({ code: 'ERR_NOT_CA', certificate: 'CN=notca-server.test' });
    expect(r.error!.message).toBe('not a CA certificate (basicConstraints cA is false), yet it issued CN=notca.leaf.test');
  });

  it('a CA without keyCertSign in its keyUsage: ERR_KEY_USAGE', () => {
    const root = entity('Ku Root');
    const int = entity('Ku Intermediate');
    const noCertSign: Profile = { ...PROFILES.intermediate, keyUsage: ['digitalSignature', 'cRLSign'] };
    const intDer = issue(int, root, { profile: noCertSign });
    const r = validate({ leaf: issue(entity('ku.test'), int), untrusted: [intDer], roots: [issue(root, 'self')] });
    expect(r.error).toMatchObject({ code: 'ERR_KEY_USAGE', certificate: 'CN=Ku Intermediate' });
    expect(r.error!.message).toMatch(/^key usage lacks keyCertSign \(its key usage: digitalSignature, cRLSign\)/);
  });

  it('pathLenConstraint 0 on an intermediate with another CA below it: ERR_PATH_LENGTH on that intermediate', () => {
    const root = entity('Len Root');
    const int1 = entity('Len Intermediate 1');
    const int2 = entity('Len Intermediate 2');
    const int1Der = issue(int1, root, { profile: PROFILES.intermediate }); // pathLen 0
    const int2Der = issue(int2, int1, { profile: { ...PROFILES.intermediate, pathLen: null } });
    const rootDer = issue(root, 'self', { profile: { ...PROFILES.root, pathLen: null } });
    const r = validate({ leaf: issue(entity('len.test'), int2), untrusted: [int2Der, int1Der], roots: [rootDer] });
    expect(r.error).toMatchObject({ code: 'ERR_PATH_LENGTH', certificate: 'CN=Len Intermediate 1' });
    expect(r.error!.message).toBe('pathLenConstraint 0 allows 0 CA certificate(s) below it, the path has 1');
    // The root's own pathLenConstraint counts too (anchor first, as openssl and Go apply it): 1 < 2.
    const strictRoot = issue(root, 'self');
    const r2 = validate({ leaf: issue(entity('len.test'), int2), untrusted: [int2Der, int1Der], roots: [strictRoot] });
    expect(r2.error).toMatchObject({ code: 'ERR_PATH_LENGTH', certificate: 'CN=Len Root', message: 'pathLenConstraint 1 allows 1 CA certificate(s) below it, the path has 2' });
  });

  it('a self-issued intermediate (key rollover) does not count against pathLenConstraint (RFC 5280 §6.1.4 (l))', () => {
    const oldKey = entity('Roll Root');
    const newKey = entity('Roll Root');
    const root = issue(oldKey, 'self', { profile: { ...PROFILES.root, pathLen: 0 } });
    const rollover = issue(newKey, oldKey, { profile: { ...PROFILES.root, pathLen: 0 } });
    const leaf = issue(entity('roll.test'), newKey);
    const r = validate({ leaf, untrusted: [rollover], roots: [root] });
    expect(r.error).toBeNull();
    expect(r.chain).toHaveLength(3);
  });

  it('--max-depth bounds the number of intermediates: ERR_PATH_LENGTH naming --max-depth', () => {
    const t = threeTier('P-256', 'Depth');
    const input = { leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [t.rootDer] };
    const r = validate({ ...input, maxDepth: 0 });
    expect(r.error).toMatchObject({ code: 'ERR_PATH_LENGTH', certificate: 'CN=depth.leaf.test', message: 'the path has 1 intermediate CA certificates, more than --max-depth 0' });
    expect(verdict(validate({ ...input, maxDepth: 1 }))).toBe('valid');
  });
});

describe('extended key usage', () => {
  const root = entity('Eku Root');
  const rootDer = issue(root, 'self');

  it('a client-only leaf used as a server: ERR_PURPOSE naming what it has; fine as a client and for any purpose', () => {
    const leaf = issue(entity('client.test'), root, { profile: PROFILES.client });
    const r = validate({ leaf, roots: [rootDer], purpose: 'server' });
    expect(r.error).toMatchObject({ code: 'ERR_PURPOSE', certificate: 'CN=client.test', message: 'certificate lacks serverAuth (its extended key usage: clientAuth)' });
    expect(verdict(validate({ leaf, roots: [rootDer], purpose: 'client' }))).toBe('valid');
    expect(verdict(validate({ leaf, roots: [rootDer], purpose: 'any' }))).toBe('valid');
    const server = issue(entity('server.test'), root, { profile: PROFILES.server });
    expect(validate({ leaf: server, roots: [rootDer], purpose: 'client' }).error!.message).toBe('certificate lacks clientAuth (its extended key usage: serverAuth)');
  });

  it('a leaf without an extKeyUsage extension allows every purpose (RFC 5280 §4.2.1.12)', () => {
    const leaf = issue(entity('noeku.test'), root, { profile: { ...PROFILES.server, extKeyUsage: [] } });
    expect(verdict(validate({ leaf, roots: [rootDer], purpose: 'server' }))).toBe('valid');
    expect(verdict(validate({ leaf, roots: [rootDer], purpose: 'client' }))).toBe('valid');
  });

  it('an intermediate with an extKeyUsage extension constrains its leaves (as Go and browsers do)', () => {
    const int = entity('Eku Server-only CA');
    const intDer = issue(int, root, { profile: { ...PROFILES.intermediate, extKeyUsage: ['serverAuth'] } });
    const leaf = issue(entity('peer.test'), int, { profile: PROFILES.peer });
    expect(verdict(validate({ leaf, untrusted: [intDer], roots: [rootDer], purpose: 'server' }))).toBe('valid');
    const r = validate({ leaf, untrusted: [intDer], roots: [rootDer], purpose: 'client' });
    expect(r.error).toMatchObject({ code: 'ERR_PURPOSE', certificate: 'CN=Eku Server-only CA' });
    expect(r.error!.message).toMatch(/^CA certificate lacks clientAuth \(its extended key usage: serverAuth\)/);
  });
});
