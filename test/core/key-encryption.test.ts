/**
 * Issue 10 point 3: "is this key encrypted" has one home (core/keys/encryption.ts isEncryptedPrivateKey),
 * decided from the structure — the PEM label, or the shape of the DER — never from a substring: a plain key
 * whose file mentions "ENCRYPTED PRIVATE KEY" in a comment opens without a passphrase, and an encrypted DER
 * key asks for one.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encryptPrivateKey, encryptPrivateKeyPem, isEncryptedPrivateKey } from '../../src/core/keys/encryption.js';
import { importPrivateKey, keysMatch } from '../../src/core/keys/keys.js';
import { expectPkiError } from '../helpers/errors.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const passphrase = new TextEncoder().encode('correct horse');
const fast = { passphrase, iterations: 1000 };

describe('isEncryptedPrivateKey', () => {
  it('reads the PEM label and the DER structure', async () => {
    const encryptedPem = await encryptPrivateKeyPem(ec.privateKey, fast);
    const encryptedDer = await encryptPrivateKey(ec.privateKey, fast);
    const cases: [string, string | Uint8Array, boolean][] = [
      ['encrypted PKCS#8 PEM', encryptedPem, true],
      ['encrypted PKCS#8 PEM as bytes', Buffer.from(encryptedPem), true],
      ['encrypted PKCS#8 DER', encryptedDer, true],
      ['plain PKCS#8 PEM', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, false],
      ['plain PKCS#8 DER', ec.privateKey.export({ type: 'pkcs8', format: 'der' }), false],
      ['SEC1 DER', ec.privateKey.export({ type: 'sec1', format: 'der' }), false],
      ['PKCS#1 DER', rsa.privateKey.export({ type: 'pkcs1', format: 'der' }), false],
      ['PKCS#1 PEM', rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, false],
      ['not a key', 'hello', false],
      ['truncated DER', encryptedDer.subarray(0, 20), false],
    ];
    for (const [what, data, expected] of cases) expect([what, isEncryptedPrivateKey(data)]).toEqual([what, expected]);
  });

  it('is not fooled by the words in text around a plain key', () => {
    const plain = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const commented = `# was: -----BEGIN ENCRYPTED PRIVATE KEY----- (decrypted with openssl pkey)\n${plain}`;
    expect(isEncryptedPrivateKey(commented)).toBe(false);
    expect(keysMatch(importPrivateKey(commented), ec.publicKey)).toBe(true);
  });

  it('an encrypted DER key asks for its passphrase, and opens with it', async () => {
    const der = await encryptPrivateKey(ec.privateKey, fast);
    expectPkiError(() => importPrivateKey(der), 'ERR_PASSWORD_REQUIRED');
    expectPkiError(() => importPrivateKey(der, new TextEncoder().encode('wrong')), 'ERR_BAD_PASSWORD');
    expect(keysMatch(importPrivateKey(der, passphrase), ec.publicKey)).toBe(true);
  });
});
