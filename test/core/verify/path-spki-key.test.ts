/**
 * spki-key.ts: the fast JWK import gives the same key as Node's DER import for every key type pki
 * verifies, falls back to the DER import for the rest (compressed EC points, RSA-PSS keys), and the
 * description read from the DER matches the key.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeSpki, publicKeyFromSpki } from '../../../src/core/verify/spki-key.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { peer } from '../../helpers/peers.js';

describe('SubjectPublicKeyInfo import', () => {
  const cases = [
    ['EC P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['EC P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['EC P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['RSA 1031', generateKeyPairSync('rsa', { modulusLength: 1031 })],
    ['Ed25519', generateKeyPairSync('ed25519')],
    ['RSA-PSS 2048', generateKeyPairSync('rsa-pss', { modulusLength: 2048 })],
  ] as const;
  for (const [text, keys] of cases) {
    it(`${text}: the same key as the DER import, and described as such`, () => {
      const spki = keys.publicKey.export({ format: 'der', type: 'spki' });
      const key = publicKeyFromSpki(spki);
      expect(key.equals(createPublicKey({ key: spki, format: 'der', type: 'spki' }))).toBe(true);
      expect(key.asymmetricKeyType).toBe(keys.publicKey.asymmetricKeyType);
      expect(describeSpki(spki).text).toBe(text);
    });
  }

  it('a compressed EC point goes through the DER import; a point off the curve is refused', () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = tempDir('pki-spki-');
    writeFileSync(join(dir, 'k.pem'), keys.publicKey.export({ format: 'pem', type: 'spki' }));
    peer('openssl', ['ec', '-pubin', '-in', join(dir, 'k.pem'), '-conv_form', 'compressed', '-outform', 'DER', '-out', join(dir, 'k.der')]);
    const compressed = readFileSync(join(dir, 'k.der'));
    expect(compressed.length).toBeLessThan(keys.publicKey.export({ format: 'der', type: 'spki' }).length);
    expect(publicKeyFromSpki(compressed).equals(keys.publicKey)).toBe(true);
    expect(describeSpki(compressed).text).toBe('EC P-256');
    const spki = keys.publicKey.export({ format: 'der', type: 'spki' });
    const offCurve = Buffer.from(spki);
    offCurve[offCurve.length - 1]! ^= 0x01; // y no longer on the curve
    expect(() => publicKeyFromSpki(offCurve)).toThrow();
  });
});
