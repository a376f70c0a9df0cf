/**
 * RSASSA-PSS verification (keys/signature.ts, keys/pss-parameters.ts): the AlgorithmIdentifier parameters
 * decide hash and salt; what Node cannot verify (another MGF1 hash) or must refuse (SHA-1, no parameters)
 * is said, never guessed at. Signing is unchanged: pki never signs with PSS.
 */
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { algorithmIdentifier, explicit, integer, nullValue, sequence } from '../../../src/core/der/writer.js';
import { acceptableAlgorithm, signatureAlgorithmFor, verificationScheme, verifySignature } from '../../../src/core/keys/signature.js';
import { PSS_OID } from '../../../src/core/keys/pss-parameters.js';
import { errorCode } from '../../helpers/errors.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const SHA384 = '2.16.840.1.101.3.4.2.2';
const SHA1 = '1.3.14.3.2.26';
const MGF1 = '1.2.840.113549.1.1.8';

const params = (hash: string, mgfHash: string, salt?: number) =>
  sequence(
    explicit(0, algorithmIdentifier(hash, nullValue())),
    explicit(1, algorithmIdentifier(MGF1, algorithmIdentifier(mgfHash, nullValue()))),
    ...(salt === undefined ? [] : [explicit(2, integer(salt))]),
  );

describe('RSASSA-PSS verification', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('to be signed');
  const signature = sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });

  it('verifies with its parameters (SHA-256, MGF1-SHA-256, salt 32), and not with another salt or hash', () => {
    expect(verifySignature(PSS_OID, data, signature, publicKey, params(SHA256, SHA256, 32))).toBe(true);
    expect(verifySignature(PSS_OID, data, signature, publicKey, params(SHA256, SHA256, 20))).toBe(false);
    expect(verifySignature(PSS_OID, data, signature, publicKey, params(SHA384, SHA384, 32))).toBe(false);
    expect(verifySignature(PSS_OID, Buffer.from('altered'), signature, publicKey, params(SHA256, SHA256, 32))).toBe(false);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(verifySignature(PSS_OID, data, signature, ec.publicKey, params(SHA256, SHA256, 32))).toBe(false);
  });

  it('names the scheme; SHA-1 (also the RFC 4055 default) is weak; another MGF1 hash and no parameters are unsupported', () => {
    expect(verificationScheme(PSS_OID, params(SHA256, SHA256, 32))).toMatchObject({ ok: true, scheme: { name: 'RSASSA-PSS (SHA-256, salt 32)', pssSaltLength: 32 } });
    expect(verificationScheme(PSS_OID, params(SHA1, SHA1, 20))).toMatchObject({ ok: false, weak: true });
    expect(verificationScheme(PSS_OID, sequence())).toMatchObject({ ok: false, weak: true }); // all DEFAULTs: SHA-1
    expect(verificationScheme(PSS_OID, params(SHA256, SHA384, 32))).toMatchObject({ ok: false, weak: false, reason: 'RSASSA-PSS whose MGF1 hash differs from its SHA-256 hash is not supported' });
    expect(verificationScheme(PSS_OID, undefined)).toMatchObject({ ok: false, weak: false, reason: expect.stringMatching(/without its parameters/) });
    expect(verificationScheme(PSS_OID, Buffer.from([0x30, 0x05, 0xa0]))).toMatchObject({ ok: false, reason: 'malformed RSASSA-PSS parameters' });
    expect(errorCode(() => verifySignature(PSS_OID, data, signature, publicKey))).toBe('ERR_POLICY');
  });

  it('unchanged: PSS certificate requests stay refused, and pki signs RSA with PKCS#1 v1.5', () => {
    expect(errorCode(() => acceptableAlgorithm(PSS_OID))).toBe('ERR_POLICY');
    expect(signatureAlgorithmFor(privateKey).name).toBe('sha256WithRSAEncryption');
    expect(verificationScheme('1.2.840.113549.1.1.5')).toMatchObject({ ok: false, weak: true });
    expect(verificationScheme('1.3.101.113')).toMatchObject({ ok: false, weak: false });
  });
});
