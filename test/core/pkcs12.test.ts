/**
 * core/export/pkcs12*.ts and core/inspect/pkcs12.ts without peers: the PKCS#12 KDF and RC2 against their
 * published vectors, encode → inspect round trips for each key type and both forms, and the refusals
 * (wrong password, altered bytes, a cipher pki does not have). The peers' view is test/export/pkcs12-*.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodePkcs12, PKCS12_ITERATIONS } from '../../src/core/export/pkcs12.js';
import { bmpPassword, pkcs12Kdf } from '../../src/core/export/pkcs12-kdf.js';
import { rc2DecryptBlockForTest } from '../../src/core/export/pkcs12-rc2.js';
import { inspectPkcs12, looksLikePkcs12 } from '../../src/core/inspect/pkcs12.js';
import { MAC_OID, pkcs12Mac } from '../../src/core/export/pkcs12-crypto.js';
import { childrenOf, readRootTlv } from '../../src/core/der/reader.js';
import { PkiError } from '../../src/core/errors.js';
import { generateKeyPair, resolveKeySpec } from '../../src/core/keys/keys.js';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { parseSans } from '../../src/core/x509/names.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { expectPkiError } from '../helpers/errors.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const password = new TextEncoder().encode('pässwört');

describe('the PKCS#12 key derivation (RFC 7292 appendix B)', () => {
  it('gives the published vectors (OpenSSL and Bouncy Castle test data: "smeg", "queeg")', () => {
    expect(pkcs12Kdf('sha1', 1, bmpPassword(Buffer.from('smeg')), hex('0A58CF64530D823F'), 1, 24).toString('hex')).toBe('8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
    expect(pkcs12Kdf('sha1', 2, bmpPassword(Buffer.from('smeg')), hex('0A58CF64530D823F'), 1, 8).toString('hex')).toBe('79993dfe048d3b76');
    expect(pkcs12Kdf('sha1', 1, bmpPassword(Buffer.from('queeg')), hex('05DEC959ACFF72F7'), 1000, 24).toString('hex')).toBe('ed2034e36328830ff09df1e1a07dd357185dac0d4f9eb3d4');
    expect(pkcs12Kdf('sha1', 2, bmpPassword(Buffer.from('queeg')), hex('05DEC959ACFF72F7'), 1000, 8).toString('hex')).toBe('11dedad7758d4860');
  });

  it('takes the password as a BMPString with two zero bytes at the end', () => {
    expect(bmpPassword(Buffer.from('ä1')).toString('hex')).toBe('00e400310000');
    expect(bmpPassword(Buffer.from([0xff, 0x41])).toString('hex')).toBe('00ff00410000'); // not UTF-8: Latin-1, as OpenSSL
  });
});

describe('RC2 decryption (RFC 2268 §5 vectors)', () => {
  it.each([
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
  ])('key %s, %i effective bits', (key, bits, plain, cipher) => {
    const block = hex(cipher);
    rc2DecryptBlockForTest(hex(key), bits, block);
    expect(block.toString('hex')).toBe(plain);
  });
});

async function pair(spec: Parameters<typeof resolveKeySpec>[0]) {
  const keys = await generateKeyPair(resolveKeySpec(spec));
  const cert = issueCertificate({ serial: '1F', subject: { commonName: 'leaf' }, sans: parseSans(['leaf']), profile: PROFILES.server, publicKey: keys.publicKey, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000), issuer: 'self', selfSigningKey: keys.privateKey });
  return { pkcs8: keys.privateKey.export({ type: 'pkcs8', format: 'der' }), cert };
}

describe('encodePkcs12 → inspectPkcs12', () => {
  it.each([
    ['RSA-2048', { kty: 'RSA', size: 2048 }, { type: 'RSA', size: 2048 }],
    ['EC P-256', { kty: 'EC', crv: 'P-256' }, { type: 'EC', curve: 'P-256' }],
    ['EC P-384', { kty: 'EC', crv: 'P-384' }, { type: 'EC', curve: 'P-384' }],
    ['Ed25519', { kty: 'OKP', crv: 'Ed25519' }, { type: 'OKP', curve: 'Ed25519' }],
  ] as const)('%s: both forms hold the key, the certificates, friendlyName and one localKeyId', async (_name, spec, key) => {
    const { pkcs8, cert } = await pair(spec);
    const other = (await pair({ kty: 'EC', crv: 'P-256' })).cert;
    for (const legacy of [false, true]) {
      const der = await encodePkcs12({ privateKeyPkcs8: pkcs8, certificates: [cert, other], friendlyName: 'léaf ☃', password, legacy, iterations: 1000 });
      expect(looksLikePkcs12(der)).toBe(true);
      const report = inspectPkcs12(der, password);
      expect(report.mac).toEqual({ algorithm: legacy ? 'sha1' : 'sha256', iterations: 1000, saltBytes: 16 });
      const scheme = legacy ? 'pbeWithSHA1And3-KeyTripleDES-CBC' : 'PBES2';
      expect(report.safeContents.map((s) => s.encryption?.scheme ?? null)).toEqual([scheme, null]);
      const bags = report.safeContents.flatMap((s) => s.bags);
      const localKeyId = createHash('sha1').update(cert).digest('hex').toUpperCase();
      expect(bags.map((b) => [b.type, b.friendlyName, b.localKeyId])).toEqual([
        ['certificate', 'léaf ☃', localKeyId],
        ['certificate', null, null],
        ['shroudedKey', 'léaf ☃', localKeyId],
      ]);
      expect(bags[2]!.key).toMatchObject(key);
      expect(bags[2]!.encryption).toMatchObject(legacy ? { scheme, iterations: 1000 } : { scheme, kdf: 'PBKDF2', prf: 'hmacWithSHA256', cipher: 'AES-256-CBC', iterations: 1000 });
    }
  });

  it('uses 600,000 iterations and fresh salts and IVs unless told otherwise', async () => {
    expect(PKCS12_ITERATIONS).toBe(600_000);
    const { pkcs8, cert } = await pair({ kty: 'EC', crv: 'P-256' });
    const contents = { privateKeyPkcs8: pkcs8, certificates: [cert], friendlyName: 'leaf', password, legacy: false };
    const [a, b] = [await encodePkcs12(contents), await encodePkcs12(contents)];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(a.length).toBe(b.length);
    expect(inspectPkcs12(a, password).mac?.iterations).toBe(600_000);
  });
});

describe('inspectPkcs12 refuses', () => {
  it('a wrong password and an altered file with ERR_BAD_PASSWORD', async () => {
    const { pkcs8, cert } = await pair({ kty: 'EC', crv: 'P-256' });
    const der = Buffer.from(await encodePkcs12({ privateKeyPkcs8: pkcs8, certificates: [cert], friendlyName: 'leaf', password, legacy: false, iterations: 1000 }));
    expectPkiError(() => inspectPkcs12(der, new TextEncoder().encode('passwort')), 'ERR_BAD_PASSWORD');
    const altered = Buffer.from(der);
    altered[120]! ^= 0x80;
    expectPkiError(() => inspectPkcs12(altered, password), 'ERR_BAD_PASSWORD');
    expectPkiError(() => inspectPkcs12(der.subarray(0, der.length - 10), password), 'ERR_MALFORMED_DER');
  });
});

/**
 * Hostile files: bytes of the MAC-protected AuthenticatedSafe changed and the MAC recomputed over them, so
 * the parser behind the MAC check sees the damage (a plain mutation stops at the MAC). Every outcome is a
 * report or a PkiError — never a TypeError, a RangeError or a hang.
 */
describe('inspectPkcs12 on damaged contents behind a valid MAC', () => {
  it('returns a report or throws a PkiError for 400 mutations', async () => {
    const { pkcs8, cert } = await pair({ kty: 'OKP', crv: 'Ed25519' });
    const der = Buffer.from(await encodePkcs12({ privateKeyPkcs8: pkcs8, certificates: [cert], friendlyName: 'leaf', password, legacy: false, iterations: 1 }));
    const [, authInfo, macData] = childrenOf(der, readRootTlv(der));
    const octets = childrenOf(der, childrenOf(der, authInfo!)[1]!)[0]!; // ContentInfo [0] → the OCTET STRING
    const [contentStart, contentEnd] = [octets.start + octets.headerLength, octets.end];
    const [digestInfo, saltEl] = childrenOf(der, macData!);
    const digestEl = childrenOf(der, digestInfo!)[1]!;
    const salt = der.subarray(saltEl!.start + saltEl!.headerLength, saltEl!.end);
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const copy = Buffer.from(der);
      for (let k = 0, n = 1 + random(3); k < n; k++) copy[contentStart + random(contentEnd - contentStart)] = random(256);
      const mac = pkcs12Mac('sha256', password, salt, 1, copy.subarray(contentStart, contentEnd));
      mac.copy(copy, digestEl.start + digestEl.headerLength);
      let outcome: string;
      try {
        inspectPkcs12(copy, password);
        outcome = 'report';
      } catch (e) {
        if (!(e instanceof PkiError)) throw new Error(`mutation ${i}: ${String(e)}`);
        outcome = e.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(MAC_OID.sha256).toBe('2.16.840.1.101.3.4.2.1');
    expect(outcomes.get('ERR_BAD_PASSWORD') ?? 0).toBeGreaterThan(0); // damaged ciphertext: padding
    expect(outcomes.get('ERR_MALFORMED_DER') ?? 0).toBeGreaterThan(0); // damaged structure
  });

  it('refuses an iteration count above 5,000,000 before deriving anything', async () => {
    const { pkcs8, cert } = await pair({ kty: 'OKP', crv: 'Ed25519' });
    const der = Buffer.from(await encodePkcs12({ privateKeyPkcs8: pkcs8, certificates: [cert], friendlyName: 'leaf', password, legacy: false, iterations: 1 }));
    // The MAC's iterations INTEGER is the PFX's last element: 02 01 01 → 02 04 7F FF FF FF (2^31-1).
    expect(der.subarray(der.length - 3).toString('hex')).toBe('020101');
    const patched = Buffer.concat([der.subarray(0, der.length - 3), Buffer.from('02047fffffff', 'hex')]);
    patched.writeUInt16BE(patched.readUInt16BE(2) + 3, 2); // the PFX SEQUENCE's two-byte length
    const macData = childrenOf(der, readRootTlv(der))[2]!;
    patched.writeUInt8(patched[macData.start + 1]! + 3, macData.start + 1);
    const started = Date.now();
    const e = expectPkiError(() => inspectPkcs12(patched, password), 'ERR_MALFORMED_DER');
    expect(e.message).toContain('2147483647 is outside 1..5000000');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
