import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeKeyIdentifier, issueCertificate } from '../../src/core/x509/certificate.js';
import { parseCertificate } from '../../src/core/x509/certificate-fields.js';
import { inspectCertificate } from '../../src/core/inspect/certificate.js';
import { generateKeyPair, importSpki, resolveKeySpec, spkiDer } from '../../src/core/keys/keys.js';
import { encodeSubjectName, parseSans } from '../../src/core/x509/names.js';
import { encodePem } from '../../src/core/der/pem.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { certificateRecord, issuedCertificateRecord } from '../../src/store/inventory/record.js';
import { formatDistinguishedName } from '../../src/core/x509/name-decoder.js';
import { tempDir } from '../helpers/cli.js';
import { errorCode } from '../helpers/errors.js';
import { runPeer } from '../helpers/peers.js';


describe('issueCertificate', () => {
  it('writes UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), which openssl reads', async () => {
    const keys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
    const der = issueCertificate({
      serial: '4000000000000000000000000000000A',
      subject: { commonName: 'future' },
      sans: [],
      profile: PROFILES.root,
      publicKey: keys.publicKey,
      notBefore: new Date('2049-12-31T23:59:59.999Z'),
      notAfter: new Date('2051-01-01T00:00:00Z'),
      issuer: 'self',
      selfSigningKey: keys.privateKey,
    });
    const fields = parseCertificate(der);
    expect(fields.notBefore.toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(fields.notAfter.toISOString()).toBe('2051-01-01T00:00:00.000Z');
    const file = join(tempDir(), 'c.pem');
    writeFileSync(file, encodePem('CERTIFICATE', der));
    const asn1 = runPeer('openssl', ['asn1parse', '-in', file]).stdout;
    expect(asn1).toMatch(/UTCTIME\s+:491231235959Z/);
    expect(asn1).toMatch(/GENERALIZEDTIME\s+:20510101000000Z/);
    expect(runPeer('openssl', ['x509', '-in', file, '-noout', '-enddate']).stdout).toMatch(/Jan  1 00:00:00 2051 GMT/);
  });

  it('refuses a leaf that would outlive its issuer, and a window that is empty', async () => {
    const ca = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
    const leaf = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
    const issuer = { subjectDer: encodeSubjectName({ commonName: 'CA' }), keyIdentifier: computeKeyIdentifier(ca.publicKey), privateKey: ca.privateKey, notAfter: new Date('2030-01-01T00:00:00Z') };
    const base = { serial: '41', subject: { commonName: 'x' }, sans: parseSans(['x']), profile: PROFILES.server, publicKey: leaf.publicKey, issuer };
    expect(errorCode(() => issueCertificate({ ...base, notBefore: new Date('2029-01-01T00:00:00Z'), notAfter: new Date('2030-01-02T00:00:00Z') }))).toBe('ERR_VALIDITY');
    expect(errorCode(() => issueCertificate({ ...base, notBefore: new Date('2029-01-01T00:00:00Z'), notAfter: new Date('2029-01-01T00:00:00Z') }))).toBe('ERR_VALIDITY');
  });

  it('keyEncipherment only for RSA leaves; the issuer decides every extension', async () => {
    for (const [spec, usages] of [
      [{ kty: 'RSA', size: 2048 }, ['digitalSignature', 'keyEncipherment']],
      [{ kty: 'EC', crv: 'P-256' }, ['digitalSignature']],
      [{ kty: 'OKP', crv: 'Ed25519' }, ['digitalSignature']],
    ] as const) {
      const keys = await generateKeyPair(resolveKeySpec(spec));
      const der = issueCertificate({ serial: '42', subject: { commonName: 'leaf' }, sans: parseSans(['leaf']), profile: PROFILES.server, publicKey: keys.publicKey, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000), issuer: 'self', selfSigningKey: keys.privateKey });
      const report = inspectCertificate(der);
      expect(report.keyUsage).toEqual(usages);
      expect(report.extKeyUsage).toEqual(['serverAuth']);
    }
  });

  it('refuses RSA keys under 2048 bits and unsupported key types', async () => {
    expect(errorCode(() => resolveKeySpec({ kty: 'RSA', size: 1024 }))).toBe('ERR_WEAK_KEY');
    expect(errorCode(() => resolveKeySpec({ kty: 'EC', crv: 'secp256k1' }))).toBe('ERR_UNSUPPORTED_KEY');
    const { generateKeyPairSync } = await import('node:crypto');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(errorCode(() => issueCertificate({ serial: '43', subject: { commonName: 'weak' }, sans: [], profile: PROFILES.server, publicKey: weak.publicKey, notBefore: new Date(), notAfter: new Date(Date.now() + 1000_000), issuer: 'self', selfSigningKey: weak.privateKey }))).toBe('ERR_WEAK_KEY');
  });

  it('importSpki: the same key and the same certificate SPKI as importing the DER and exporting it again', async () => {
    const { createPublicKey, generateKeyPairSync } = await import('node:crypto');
    for (const spec of [{ kty: 'EC', crv: 'P-256' }, { kty: 'EC', crv: 'P-384' }, { kty: 'RSA', size: 2048 }, { kty: 'OKP', crv: 'Ed25519' }] as const) {
      const keys = await generateKeyPair(resolveKeySpec(spec));
      const der = spkiDer(keys.publicKey);
      const imported = importSpki(der);
      expect(imported.key.equals(keys.publicKey)).toBe(true);
      expect(Buffer.from(imported.spkiDer).equals(der)).toBe(true);
    }
    // A compressed point takes the DER path: the certificate carries what exporting the imported key gives, as before.
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const full = spkiDer(ec.publicKey);
    const compressed = Buffer.concat([
      Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
      Buffer.from([0x02 | (full[full.length - 1]! & 1)]),
      full.subarray(27, 59),
    ]);
    expect(createPublicKey({ key: compressed, format: 'der', type: 'spki' }).equals(ec.publicKey)).toBe(true);
    const fromCompressed = importSpki(compressed);
    expect(fromCompressed.key.equals(ec.publicKey)).toBe(true);
    expect(Buffer.from(fromCompressed.spkiDer).equals(spkiDer(createPublicKey({ key: compressed, format: 'der', type: 'spki' })))).toBe(true);
    // A point that is not on the curve is refused on the fast path as on the DER path.
    const bad = Buffer.from(spkiDer(ec.publicKey));
    bad[bad.length - 1]! ^= 1;
    expect(() => importSpki(bad)).toThrow();
    expect(() => createPublicKey({ key: bad, format: 'der', type: 'spki' })).toThrow();
  });

  it('spkiDer in the spec gives the same certificate as the key; issuedCertificateRecord agrees with parsing it back', async () => {
    const ca = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
    const issuer = { subjectDer: encodeSubjectName({ organization: 'Acme, Inc.', commonName: 'Acme Intermediate' }), keyIdentifier: computeKeyIdentifier(ca.publicKey), privateKey: ca.privateKey };
    const leaf = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
    const validity = { notBefore: new Date('2026-03-01T10:00:00.250Z'), notAfter: new Date('2026-05-30T10:00:00.999Z') };
    for (const [subject, sanText] of [
      [{ commonName: 'web.example' }, ['web.example', '10.0.0.1', '2001:DB8::0:1', 'ops@example.org', 'https://web.example/x']],
      [{ organization: 'O=+,"x"', commonName: 'a;b' }, []],
      [{}, ['only.san.example', '::1']],
    ] as const) {
      const sans = parseSans(sanText);
      const spec = { serial: '4A0000000000000000000000000000FF', subject, sans, profile: PROFILES.peer, publicKey: leaf.publicKey, ...validity, issuer };
      const viaKey = issueCertificate(spec);
      const viaSpki = issueCertificate({ ...spec, spkiDer: spkiDer(leaf.publicKey) });
      // ECDSA signatures differ run to run: compare what was signed.
      expect(parseCertificate(viaSpki).tbsDer).toEqual(parseCertificate(viaKey).tbsDer);
      const where = { profile: 'peer' as const, certificatePath: '/x/y.crt', keyPath: null };
      const fromValues = issuedCertificateRecord({ der: viaSpki, serial: spec.serial, subject, sans, issuer: formatDistinguishedName(issuer.subjectDer), issuerKeyIdentifier: issuer.keyIdentifier, validity }, where);
      expect(fromValues).toEqual(certificateRecord(viaSpki, where));
    }
  });
});
