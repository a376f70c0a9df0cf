/**
 * Fuzzing the OpenSSH decoders with mutated ssh-keygen fixtures and pki-issued certificates: bit flips,
 * truncations, forged uint32 string lengths (0xffffffff, 2^31, off by one), inserted and deleted runs, and
 * mutated `.pub` lines. Contract: a value or a PkiError with a code within the hang guard, and a mutated
 * certificate never verifies unless the bytes the CA signed are unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectBytes } from '../../src/core/inspect/index.js';
import { decodeSshCertificate, decodeSshPublicKeyBlob, parseSshPublicKey, verifySshCertificateSignature } from '../../src/core/ssh/index.js';
import { decodeOutcome, mutatedFrom, PROPERTY_TIMEOUT_MS, runs } from './harness.js';
import { sshSeeds } from './seeds.js';

const seeds = sshSeeds();
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('OpenSSH certificates', () => {
  it('mutated certificate blobs decode or throw a PkiError, and never verify unless the signed bytes are intact', () => {
    fc.assert(
      fc.property(mutatedFrom(seeds.certificates), ({ seed, bytes }) => {
        const original = decodeSshCertificate(seed.bytes);
        const decoded = decodeOutcome('decodeSshCertificate', () => decodeSshCertificate(bytes));
        const verified = decodeOutcome('verifySshCertificateSignature', () => verifySshCertificateSignature(bytes));
        if (verified.ok && verified.value) {
          expect(decoded.ok).toBe(true);
          if (decoded.ok) expect(same(decoded.value.raw.signedData, original.raw.signedData)).toBe(true);
        }
        if (decoded.ok) expect(() => JSON.stringify({ ...decoded.value, raw: undefined })).not.toThrow();
      }),
      runs(500),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('mutated -cert.pub lines (re-encoded blobs, damaged text) decode or throw a PkiError, also through inspect', () => {
    const lines = seeds.certificates.map((s) => ({ ...s, bytes: Buffer.from(`${s.line}\n`, 'utf8') }));
    fc.assert(
      fc.property(mutatedFrom(seeds.certificates), mutatedFrom(lines), ({ seed, bytes }, text) => {
        const [type, , ...comment] = seed.line.split(' ');
        const reencoded = `${type} ${Buffer.from(bytes).toString('base64')} ${comment.join(' ')}`;
        const report = decodeOutcome('inspectBytes (SSH)', () => inspectBytes(Buffer.from(reencoded)));
        if (report.ok) {
          expect(() => JSON.stringify(report.value)).not.toThrow();
          const r = report.value[0]!;
          if (r.type === 'sshCertificate' && r.signatureValid) {
            expect(same(decodeSshCertificate(reencoded).raw.signedData, decodeSshCertificate(seed.line).raw.signedData)).toBe(true);
          }
        }
        const textLine = Buffer.from(text.bytes).toString('utf8');
        decodeOutcome('decodeSshCertificate (line)', () => decodeSshCertificate(textLine));
        decodeOutcome('inspectBytes (SSH)', () => inspectBytes(text.bytes));
      }),
      runs(300),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('OpenSSH public keys', () => {
  it('mutated public key blobs and lines decode or throw a PkiError', () => {
    const lines = seeds.publicKeys.map((s) => ({ ...s, bytes: Buffer.from(`${s.line}\n`, 'utf8') }));
    fc.assert(
      fc.property(mutatedFrom(seeds.publicKeys), mutatedFrom(lines), ({ seed, bytes }, text) => {
        decodeOutcome('decodeSshPublicKeyBlob', () => decodeSshPublicKeyBlob(bytes));
        const [type, , ...comment] = seed.line.split(' ');
        const reencoded = `${type} ${Buffer.from(bytes).toString('base64')} ${comment.join(' ')}`;
        decodeOutcome('parseSshPublicKey', () => parseSshPublicKey(reencoded));
        const textLine = Buffer.from(text.bytes).toString('utf8');
        decodeOutcome('parseSshPublicKey', () => parseSshPublicKey(textLine));
        const report = decodeOutcome('inspectBytes (SSH)', () => inspectBytes(text.bytes));
        if (report.ok) expect(() => JSON.stringify(report.value)).not.toThrow();
      }),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('random text shaped like key lines', () => {
    const keyType = fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-dss', 'sk-ssh-ed25519@openssh.com', 'x');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(keyType, fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 20 })).map(([t, b, c]) => `${t} ${Buffer.from(b).toString('base64')} ${c}`),
          fc.tuple(keyType, fc.string({ unit: 'binary', maxLength: 100 })).map(([t, s]) => `${t} AAAA${s}`),
          fc.string({ unit: 'binary', maxLength: 150 }),
        ),
        (line) => {
          decodeOutcome('parseSshPublicKey', () => parseSshPublicKey(line));
          decodeOutcome('decodeSshCertificate (line)', () => decodeSshCertificate(line));
          decodeOutcome('inspectBytes (SSH)', () => inspectBytes(Buffer.from(line, 'utf8')));
        },
      ),
      runs(250),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('a 1 MiB line and a 10,000-line file are refused or reported within the hang guard', () => {
    const big = `ssh-ed25519 AAAA${'A'.repeat(1 << 20)} x`;
    expect(decodeOutcome('parseSshPublicKey', () => parseSshPublicKey(big)).ok).toBe(false);
    // Linear work (one key import per line, ~30 µs): 10,000 lines stay well inside the guard.
    const many = `${seeds.publicKeys[1]!.line}\n`.repeat(10_000);
    decodeOutcome('inspectBytes (SSH)', () => inspectBytes(Buffer.from(many)));
    const crlf = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ${'\r'.repeat(1 << 20)}x`;
    decodeOutcome('parseSshPublicKey', () => parseSshPublicKey(crlf));
  });
});
