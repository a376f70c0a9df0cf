/**
 * validateCertificatePath on valid chains: 2- and 3-tier for every key type pki verifies (EC P-256/384/521,
 * RSA 2048 PKCS#1 v1.5, Ed25519 in process; RSASSA-PSS made by openssl), the result's shape (chain leaf
 * first, names, serial, RFC 3339 times, fingerprint) and the checks made, anchor first.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rfc3339Seconds } from '../../../src/core/verify/chain-entry.js';
import { encodePem } from '../../../src/core/der/pem.js';
import { verifyCrlSignature } from '../../../src/core/inspect/crl.js';
import { crlsInFile } from '../../../src/core/x509/certificate-file.js';
import { certificatePublicKey, parseCertificate } from '../../../src/core/x509/certificate-fields.js';
import { isIssuedBy } from '../../../src/core/x509/issued-by.js';
import { PROFILES } from '../../../src/core/x509/profiles.js';
import { peer } from '../../helpers/peers.js';
import { entity, issue, OpensslFolder, PSS_SIGNING, RSA_2048, threeTier, validate, verdict, type KeyKind } from './path-fixtures.js';

const KINDS: KeyKind[] = ['P-256', 'P-384', 'P-521', 'RSA', 'Ed25519'];

describe('valid chains per key type', () => {
  for (const kind of KINDS) {
    it(`${kind}: a 3-tier chain (intermediate untrusted) and a 2-tier chain are valid`, () => {
      const t = threeTier(kind);
      const three = validate({ leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [t.rootDer] });
      expect(three.error).toBeNull();
      expect(three.valid).toBe(true);
      expect(three.chain.map((e) => e.subject)).toEqual([`CN=${t.leaf.name}`, `CN=${kind} Intermediate`, `CN=${kind} Root`]);
      // Two signatures checked (the anchor's own self-signature is not), each with its issuer's key.
      expect(three.checks.filter((c) => c.name === 'signature')).toEqual([
        { name: 'signature', ok: true, detail: `CN=${kind} Intermediate ← CN=${kind} Root` },
        { name: 'signature', ok: true, detail: `CN=${t.leaf.name} ← CN=${kind} Intermediate` },
      ]);

      const leaf2 = entity(`two.${kind.toLowerCase()}.test`, kind);
      const two = validate({ leaf: issue(leaf2, t.root), roots: [t.rootDer] });
      expect(verdict(two)).toBe('valid');
      expect(two.chain.map((e) => e.subject)).toEqual([`CN=two.${kind.toLowerCase()}.test`, `CN=${kind} Root`]);
    });
  }

  it('a chain mixing key types (RSA root, EC intermediate, Ed25519 leaf) is valid', () => {
    const root = entity('Mixed Root', 'RSA');
    const int = entity('Mixed Intermediate', 'P-384');
    const leaf = entity('mixed.test', 'Ed25519');
    const r = validate({ leaf: issue(leaf, int), untrusted: [issue(int, root, { profile: PROFILES.intermediate })], roots: [issue(root, 'self')] });
    expect(verdict(r)).toBe('valid');
  });

  it('RSASSA-PSS (openssl -sigopt rsa_padding_mode:pss, salt 32): 3-tier and 2-tier chains are valid', () => {
    const o = new OpensslFolder();
    const rootKey = o.key('pss-root', RSA_2048);
    const intKey = o.key('pss-int', RSA_2048);
    const leafKey = o.key('pss-leaf', RSA_2048);
    const root = o.certificate('pss-root', rootKey, 'ca', 'self', PSS_SIGNING);
    const int = o.certificate('pss-int', intKey, 'ca', { name: 'pss-root', key: rootKey }, PSS_SIGNING);
    const leaf = o.certificate('pss-leaf', leafKey, 'leaf', { name: 'pss-int', key: intKey }, PSS_SIGNING);
    const leaf2 = o.certificate('pss-leaf2', leafKey, 'leaf', { name: 'pss-root', key: rootKey }, PSS_SIGNING);
    const now = new Date();
    const three = validate({ leaf, untrusted: [int], roots: [root], time: now });
    expect(three.error).toBeNull();
    expect(three.checks.filter((c) => c.name === 'algorithm').map((c) => c.detail)).toContain('CN=pss-leaf: signed with RSASSA-PSS (SHA-256, salt 32)');
    expect(verdict(validate({ leaf: leaf2, roots: [root], time: now }))).toBe('valid');
    // The PSS signature really is checked: the same leaf under a root of another key does not verify.
    const otherKey = o.key('pss-other', RSA_2048);
    const impostor = o.certificate('pss-root', otherKey, 'ca', 'self', PSS_SIGNING);
    const bad = validate({ leaf: leaf2, roots: [impostor], time: now });
    expect(['ERR_BAD_SIGNATURE', 'ERR_UNKNOWN_AUTHORITY']).toContain(verdict(bad));
    // isIssuedBy (renew's and rebuild's "did this CA sign it") reads the PSS parameters the same way.
    expect(isIssuedBy(parseCertificate(leaf2), parseCertificate(root))).toBe(true);
    expect(isIssuedBy(parseCertificate(leaf2), parseCertificate(impostor))).toBe(false);
    // A CRL signed with RSASSA-PSS by openssl ca -gencrl: inspect's and the validator's CRL readers pass its parameters.
    writeFileSync(join(o.dir, 'index.txt'), '');
    writeFileSync(join(o.dir, 'crlnumber'), '01\n');
    writeFileSync(join(o.dir, 'ca.cnf'), `[ca]\ndefault_ca = d\n[d]\ndatabase = ${o.dir}/index.txt\ncrlnumber = ${o.dir}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n`);
    const crlPem = join(o.dir, 'pss.crl');
    writeFileSync(join(o.dir, 'crl-signer.crt'), encodePem('CERTIFICATE', root)); // pss-root.crt is the impostor's now
    peer('openssl', ['ca', '-gencrl', '-config', join(o.dir, 'ca.cnf'), '-cert', join(o.dir, 'crl-signer.crt'), '-keyfile', rootKey, '-sigopt', 'rsa_padding_mode:pss', '-out', crlPem]);
    const crl = crlsInFile(readFileSync(crlPem), 'the CRL')[0]!;
    expect(verifyCrlSignature(crl, certificatePublicKey(parseCertificate(root)))).toBe(true);
    expect(verifyCrlSignature(crl, certificatePublicKey(parseCertificate(impostor)))).toBe(false);
    const checked = validate({ leaf: leaf2, roots: [root], time: new Date(Date.now() + 2000), crls: [crl], crlCheck: 'leaf' }); // after the CRL's thisUpdate
    expect(checked.error).toBeNull();
    expect(checked.checks.filter((c) => c.name === 'crl').map((c) => c.ok)).toEqual([true]);
  });

  it('an RSA-PSS key (id-RSASSA-PSS SubjectPublicKeyInfo) signing with PSS is valid', () => {
    const o = new OpensslFolder();
    const rootKey = o.key('pk-root', ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048']);
    const leafKey = o.key('pk-leaf', RSA_2048);
    const root = o.certificate('pk-root', rootKey, 'ca', 'self', PSS_SIGNING);
    const leaf = o.certificate('pk-leaf', leafKey, 'leaf', { name: 'pk-root', key: rootKey }, PSS_SIGNING);
    const r = validate({ leaf, roots: [root], time: new Date() });
    expect(r.error).toBeNull();
    expect(r.checks.find((c) => c.name === 'algorithm')?.detail).toBe('CN=pk-root: RSA-PSS 2048 key');
  });
});

describe('the result', () => {
  it('chain entries: RFC 4514 names, upper-case serial, RFC 3339 seconds, lower-case SHA-256 of the DER; checks anchor first', () => {
    const t = threeTier('P-256', 'Shape');
    const leafDer = issue(t.leaf, t.intermediate, { serial: '0ABCDEF1', notBefore: new Date('2029-06-01T12:30:45.678Z'), notAfter: new Date('2031-06-01T00:00:00Z') });
    const r = validate({ leaf: leafDer, untrusted: [t.intermediateDer], roots: [t.rootDer] });
    expect(r.chain[0]).toEqual({
      subject: 'CN=shape.leaf.test',
      issuer: 'CN=Shape Intermediate',
      serial: '0ABCDEF1',
      notBefore: '2029-06-01T12:30:45Z',
      notAfter: '2031-06-01T00:00:00Z',
      fingerprintSha256: createHash('sha256').update(leafDer).digest('hex'),
    });
    expect(r.chain[2]!.issuer).toBe('CN=Shape Root');
    expect(r.checks[0]).toEqual({ name: 'path', ok: true, detail: 'CN=shape.leaf.test ← CN=Shape Intermediate ← CN=Shape Root' });
    // Anchor first: the root's checks come before the intermediate's, the leaf's last.
    const validity = r.checks.filter((c) => c.name === 'validity').map((c) => c.detail.split(':')[0]);
    expect(validity).toEqual(['CN=Shape Root', 'CN=Shape Intermediate', 'CN=shape.leaf.test']);
    expect(r.checks.every((c) => c.ok)).toBe(true);
  });

  it('is deterministic: the same input gives the same result', () => {
    const t = threeTier('P-256', 'Same');
    const input = { leaf: t.leafDer, untrusted: [t.intermediateDer], roots: [t.rootDer] };
    expect(validate(input)).toEqual(validate(input));
  });

  it('an unreadable leaf is ERR_MALFORMED_CERTIFICATE with an empty chain; an unreadable extra certificate is skipped and noted', () => {
    const bad = validate({ leaf: Buffer.from('not a certificate') });
    expect(verdict(bad)).toBe('ERR_MALFORMED_CERTIFICATE');
    expect(bad.chain).toEqual([]);
    expect(bad.error!.message).toMatch(/^not a valid X.509 certificate: /);

    const t = threeTier('P-256', 'Skip');
    const r = validate({ leaf: t.leafDer, untrusted: [Buffer.from([0x30, 0x03, 0x02, 0x01]), t.intermediateDer], roots: [t.rootDer] });
    expect(verdict(r)).toBe('valid');
    expect(r.checks[0]).toMatchObject({ name: 'path', ok: true });
    expect(r.checks[0]!.detail).toMatch(/^skipped certificate 1 of the untrusted certificates/);
  });

  it('a candidate whose names read but whose body does not is skipped when it matters, noted once, and the next candidate used', () => {
    const t = threeTier('P-256', 'Lazy');
    const broken = Buffer.from(t.intermediateDer);
    const utcTime = broken.indexOf(Buffer.from([0x17, 0x0d]));
    broken[utcTime] = 0x04; // notBefore no longer a time: parseCertificate refuses, the names still read
    const alone = validate({ leaf: t.leafDer, untrusted: [broken], roots: [t.rootDer] });
    expect(alone.error).toMatchObject({ code: 'ERR_UNKNOWN_AUTHORITY', certificate: 'CN=lazy.leaf.test' });
    expect(alone.checks[0]!.detail).toMatch(/^skipped certificate 1 of the untrusted certificates: not a valid X.509 certificate: /);
    const withGood = validate({ leaf: t.leafDer, untrusted: [broken, t.intermediateDer], roots: [t.rootDer] });
    expect(withGood.error).toBeNull();
    expect(withGood.checks.filter((c) => c.detail.startsWith('skipped'))).toHaveLength(1);
  });

  it('the leaf file may repeat the root and the intermediate among the untrusted certificates', () => {
    const t = threeTier('P-256', 'Bundle');
    const r = validate({ leaf: t.leafDer, untrusted: [t.leafDer, t.intermediateDer, t.rootDer], roots: [t.rootDer] });
    expect(verdict(r)).toBe('valid');
    expect(r.chain).toHaveLength(3);
  });
});

describe('rfc3339Seconds', () => {
  it('is the ISO form without the fraction, for the years certificates hold', () => {
    for (const iso of ['1950-01-01T00:00:00.000Z', '2026-10-01T09:05:03.999Z', '2049-12-31T23:59:59.000Z', '9999-12-31T23:59:59.000Z']) {
      expect(rfc3339Seconds(new Date(iso))).toBe(`${iso.slice(0, 19)}Z`);
    }
  });
});
