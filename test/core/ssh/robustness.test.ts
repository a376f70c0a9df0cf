import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PkiError } from '../../../src/core/errors.js';
import {
  decodeSshCertificate,
  decodeSshPublicKeyBlob,
  encodeSshPublicKey,
  issueSshCertificate,
  parseSshPublicKey,
  verifySshCertificateSignature,
} from '../../../src/core/ssh/index.js';

/** mulberry32: a seeded PRNG so every run mutates the same bytes and failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn`; passes when it returns or throws a PkiError, fails on any other exception. */
function expectOnlyPkiError<T>(fn: () => T, label: string): T | PkiError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PkiError) return e;
    throw new Error(`${label}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

const keys: { name: string; key: KeyObject }[] = [
  { name: 'Ed25519', key: generateKeyPairSync('ed25519').privateKey },
  { name: 'P-256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
  { name: 'P-521', key: generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey },
  { name: 'RSA 3072', key: generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey },
];

function certificateFor(ca: KeyObject, subject: KeyObject): Buffer {
  return issueSshCertificate({
    publicKey: parseSshPublicKey(encodeSshPublicKey(subject, 'fuzz')),
    caPrivateKey: ca,
    certType: 'user',
    serial: 0x0123_4567_89ab_cdefn,
    keyId: 'fuzz@example',
    principals: ['alice', 'bob'],
    validAfter: new Date('2030-01-01T00:00:00Z'),
    validBefore: new Date('2030-01-02T00:00:00Z'),
    criticalOptions: { forceCommand: '/bin/true', sourceAddress: ['10.0.0.0/8'] },
    extensions: ['permit-pty', 'permit-agent-forwarding'],
    nonce: Buffer.alloc(32, 7),
  }).blob;
}

describe('certificate decoding survives hostile bytes', () => {
  it.each(keys.map((ca, i) => ({ ca: ca.name, caKey: ca.key, subject: keys[(i + 1) % keys.length]! })))(
    '$ca CA: every truncation throws ERR_MALFORMED_SSH',
    ({ caKey, subject }) => {
      const blob = certificateFor(caKey, subject.key);
      expect(verifySshCertificateSignature(blob)).toBe(true);
      for (let length = 0; length < blob.length; length++) {
        const result = expectOnlyPkiError(() => decodeSshCertificate(blob.subarray(0, length)), `truncated to ${length}`);
        expect(result).toBeInstanceOf(PkiError);
        expect((result as PkiError).code).toBe('ERR_MALFORMED_SSH');
      }
    },
  );

  it.each(keys.map((ca, i) => ({ ca: ca.name, caKey: ca.key, subject: keys[(i + 1) % keys.length]!, seed: i + 1 })))(
    '$ca CA: 300 random bit flips never verify and only ever throw PkiError',
    ({ caKey, subject, seed }) => {
      const blob = certificateFor(caKey, subject.key);
      const random = prng(seed);
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < 300; i++) {
        const mutated = Buffer.from(blob);
        const flips = 1 + Math.floor(random() * 3);
        for (let f = 0; f < flips; f++) {
          const bit = Math.floor(random() * mutated.length * 8);
          mutated[bit >> 3] = mutated[bit >> 3]! ^ (1 << (bit & 7));
        }
        const result = expectOnlyPkiError(() => verifySshCertificateSignature(mutated), `flip case ${i}`);
        expect(result).not.toBe(true);
      }
      // CPU time, not wall time: beside other CPU-heavy work the wall clock says nothing about this code.
      const cpu = process.cpuUsage(cpuStart);
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(20_000);
    },
  );

  it('length fields forged to 0xffffffff throw ERR_MALFORMED_SSH without allocating', () => {
    const blob = certificateFor(keys[0]!.key, keys[1]!.key);
    // Every 4-byte window is overwritten with 0xffffffff in turn, hitting every length field.
    for (let at = 0; at + 4 <= blob.length; at++) {
      const mutated = Buffer.from(blob);
      mutated.writeUInt32BE(0xffff_ffff, at);
      expectOnlyPkiError(() => verifySshCertificateSignature(mutated), `0xffffffff at ${at}`);
    }
  });

  it('random garbage of many sizes throws PkiError', () => {
    const random = prng(99);
    for (let i = 0; i < 200; i++) {
      const garbage = Buffer.from(Array.from({ length: Math.floor(random() * 600) }, () => Math.floor(random() * 256)));
      const result = expectOnlyPkiError(() => decodeSshCertificate(garbage), `garbage ${i}`);
      expect(result).toBeInstanceOf(PkiError);
    }
  });
});

describe('public key decoding survives hostile bytes', () => {
  it.each(keys.map((k, i) => ({ name: k.name, key: k.key, seed: 100 + i })))('$name: truncations and bit flips', ({ key, seed }) => {
    const blob = parseSshPublicKey(encodeSshPublicKey(key)).blob;
    for (let length = 0; length < blob.length; length++) {
      const result = expectOnlyPkiError(() => decodeSshPublicKeyBlob(blob.subarray(0, length)), `truncated to ${length}`);
      expect(result).toBeInstanceOf(PkiError);
    }
    const random = prng(seed);
    for (let i = 0; i < 300; i++) {
      const mutated = Buffer.from(blob);
      const bit = Math.floor(random() * mutated.length * 8);
      mutated[bit >> 3] = mutated[bit >> 3]! ^ (1 << (bit & 7));
      expectOnlyPkiError(() => decodeSshPublicKeyBlob(mutated), `flip ${i}`);
      // The same bytes as a .pub line go through the line parser's checks too.
      expectOnlyPkiError(() => parseSshPublicKey(`${blob.subarray(4, 4 + blob.readUInt32BE(0)).toString()} ${mutated.toString('base64')}`), `line flip ${i}`);
    }
  });
});
