/**
 * core/keys/signing-key.ts: r‖s (what a PKCS#11 token's CKM_ECDSA returns) to DER, checked against
 * Node's own DER encoding and verifier; an external signing key signs certificates through the same path.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ecdsaP1363ToDer, publicKeyOf, signData, type ExternalSigningKey } from '../../src/core/keys/signing-key.js';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { parseCertificate, certificatePublicKey } from '../../src/core/x509/certificate-fields.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { verifySignature } from '../../src/core/keys/signature.js';

describe('ecdsaP1363ToDer', () => {
  it.each(['P-256', 'P-384', 'P-521'])('gives DER that Node verifies (%s)', (namedCurve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    // Enough signatures that halves with a leading zero octet or a top bit set both occur.
    for (let i = 0; i < 64; i++) {
      const data = Buffer.from(`message ${i}`);
      const rs = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaP1363ToDer(rs);
      expect(verify('sha256', data, publicKey, der)).toBe(true);
      // The same r and s back in P1363 form: Node's decoder agrees with ours.
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rs)).toBe(true);
    }
  });

  it('refuses an odd or empty length', () => {
    expect(() => ecdsaP1363ToDer(Buffer.alloc(63))).toThrow(/not r‖s/);
    expect(() => ecdsaP1363ToDer(Buffer.alloc(0))).toThrow(/not r‖s/);
  });
});

describe('an ExternalSigningKey signs like a KeyObject', () => {
  it('a self-signed root made through one verifies with its public key; a wrong public key is refused by the issuer check', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const calls: string[] = [];
    const external: ExternalSigningKey = {
      publicKey: createPublicKey(privateKey),
      description: 'test key',
      sign(hash, data, dsaEncoding) {
        calls.push(`${hash} ${dsaEncoding}`);
        return ecdsaP1363ToDer(sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      },
    };
    const now = new Date('2026-01-01T00:00:00Z');
    const der = issueCertificate({
      serial: '01',
      subject: { commonName: 'External Root' },
      sans: [],
      profile: PROFILES.root,
      publicKey: publicKeyOf(external),
      notBefore: now,
      notAfter: new Date('2027-01-01T00:00:00Z'),
      issuer: 'self',
      selfSigningKey: external,
    });
    expect(calls).toEqual(['sha256 der']);
    const fields = parseCertificate(der);
    expect(verifySignature(fields.signatureAlgorithmOid, fields.tbsDer, fields.signature, certificatePublicKey(fields))).toBe(true);
    // SSH asks for r‖s: the key is told so (the token returns r‖s as it is).
    signData('sha256', Buffer.from('x'), external, 'ieee-p1363');
    expect(calls).toEqual(['sha256 der', 'sha256 ieee-p1363']);
  });
});
