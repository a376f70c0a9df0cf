/**
 * Fuzzing every X.509-side decoder of outside input with mutated real inputs (openssl's fixtures and pki's
 * own output), random bytes and hand-built bombs. Contract (issue 6 point 1): each input yields a value or
 * a PkiError with a code, within the hang guard; a mutated signed structure never verifies unless the bytes
 * the signature covers are unchanged; every report serialises to JSON (what `inspect --json` prints).
 */
import fc from 'fast-check';
import { createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/core/x509/certificate-fields.js';
import { parseCsr, verifyCsrSignature } from '../../src/core/x509/csr.js';
import { checkDerStructure, readRootTlv } from '../../src/core/der/reader.js';
import { inspectCertificate } from '../../src/core/inspect/certificate.js';
import { inspectCrl, verifyCrlSignature } from '../../src/core/inspect/crl.js';
import { inspectCsr } from '../../src/core/inspect/csr.js';
import { inspectBytes } from '../../src/core/inspect/index.js';
import { inspectKey } from '../../src/core/inspect/key.js';
import { formatDistinguishedName } from '../../src/core/x509/name-decoder.js';
import { decodePem, encodePem } from '../../src/core/der/pem.js';
import { verifySignature } from '../../src/core/keys/signature.js';
import { decodeOutcome, derHeader, mutate, mutatedFrom, mutationsArb, nestedSequences, pem, PROPERTY_TIMEOUT_MS, runs } from './harness.js';
import { x509Seeds, type KeySeed, type SignedSeed } from './seeds.js';

let seeds: Awaited<ReturnType<typeof x509Seeds>>;
beforeAll(async () => {
  seeds = await x509Seeds();
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const json = (value: unknown) => expect(() => JSON.stringify(value)).not.toThrow();

/** Decoders for DER whose PEM label is known. */
const LABELS = { certificate: 'CERTIFICATE', csr: 'CERTIFICATE REQUEST', crl: 'X509 CRL' } as const;

function allDer(): { name: string; label: string; bytes: Uint8Array }[] {
  return [
    ...seeds.certificates.map((s) => ({ ...s, label: LABELS.certificate })),
    ...seeds.csrs.map((s) => ({ ...s, label: LABELS.csr })),
    ...seeds.crls.map((s) => ({ ...s, label: LABELS.crl })),
    ...seeds.keys,
  ];
}

describe('certificates', () => {
  it('mutated certificates parse to a report or a PkiError, and never verify unless tbsCertificate is intact', () => {
    fc.assert(
      fc.property(mutatedFrom<SignedSeed>(seeds.certificates), ({ seed, bytes }) => {
        const original = parseCertificate(seed.bytes);
        const parsed = decodeOutcome('parseCertificate', () => parseCertificate(bytes));
        const report = decodeOutcome('inspectCertificate', () => inspectCertificate(bytes));
        // The report reads deeper (names, extension values), so it may refuse what the parser accepted.
        if (report.ok) expect(parsed.ok).toBe(true);
        if (report.ok) json(report.value);
        if (!parsed.ok) return;
        const f = parsed.value;
        const verified = decodeOutcome('verifySignature (certificate)', () => verifySignature(f.signatureAlgorithmOid, f.tbsDer, f.signature, seed.verifier));
        if (verified.ok && verified.value) expect(same(f.tbsDer, original.tbsDer)).toBe(true);
      }),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('subject and issuer names survive mutation of the Name DER alone', () => {
    const names = () => seeds.certificates.flatMap((s) => {
      const f = parseCertificate(s.bytes);
      return [{ bytes: f.subjectDer }, { bytes: f.issuerDer }];
    });
    fc.assert(
      fc.property(mutatedFrom(names()), ({ bytes }) => {
        const out = decodeOutcome('formatDistinguishedName', () => formatDistinguishedName(bytes));
        if (out.ok) expect(typeof out.value).toBe('string');
      }),
      runs(300),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('certificate requests', () => {
  it('mutated CSRs parse to a report or a PkiError, and a changed certificationRequestInfo never verifies', () => {
    fc.assert(
      fc.property(mutatedFrom<SignedSeed>(seeds.csrs), ({ seed, bytes }) => {
        const original = parseCsr(seed.bytes);
        const parsed = decodeOutcome('parseCsr', () => parseCsr(bytes));
        const report = decodeOutcome('inspectCsr', () => inspectCsr(bytes));
        if (report.ok) expect(parsed.ok).toBe(true);
        if (!parsed.ok || !report.ok) return;
        json(report.value);
        const csr = parsed.value;
        const bySeedKey = decodeOutcome('verifyCsrSignature', () => verifyCsrSignature(csr, seed.verifier));
        if (bySeedKey.ok && bySeedKey.value) expect(same(csr.infoDer, original.infoDer)).toBe(true);
        // inspect checks the request against the key inside it: a changed request must not read as valid.
        if (report.value.signatureValid === true) {
          const ownKey = createPublicKey({ key: Buffer.from(csr.spkiDer), format: 'der', type: 'spki' });
          expect(ownKey.equals(seed.verifier) ? same(csr.infoDer, original.infoDer) : true).toBe(true);
        }
      }),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('CRLs', () => {
  it('mutated CRLs parse to a report or a PkiError, and a changed TBSCertList never verifies', () => {
    fc.assert(
      fc.property(mutatedFrom<SignedSeed>(seeds.crls), ({ seed, bytes }) => {
        const report = decodeOutcome('inspectCrl', () => inspectCrl(bytes));
        if (report.ok) json(report.value);
        const verified = decodeOutcome('verifyCrlSignature', () => verifyCrlSignature(bytes, seed.verifier));
        if (verified.ok && verified.value) {
          // The signed bytes are the first child of the root: unchanged bytes up to the signature algorithm.
          const tbsOf = (der: Uint8Array) => {
            const { headerLength } = readRootTlv(der);
            return der.subarray(headerLength, headerLength + readLength(der.subarray(headerLength)));
          };
          expect(same(tbsOf(bytes), tbsOf(seed.bytes))).toBe(true);
        }
      }),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);
});

/** Total length (header + content) of the TLV at the start of `der`. */
function readLength(der: Uint8Array): number {
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + der[2 + i]!;
  return 2 + n + length;
}

describe('keys', () => {
  it('mutated private, public and encrypted keys are described or refused with a PkiError', () => {
    fc.assert(
      fc.property(mutatedFrom<KeySeed>(seeds.keys), fc.boolean(), ({ seed, bytes }, otherLabel) => {
        // Also feed each mutated key under another label: inspect trusts the PEM label a file claims.
        const label = otherLabel ? seeds.keys[(seeds.keys.indexOf(seed) + 1) % seeds.keys.length]!.label : seed.label;
        const out = decodeOutcome('inspectKey', () => inspectKey(label, bytes));
        if (out.ok) {
          json(out.value);
          expect(JSON.stringify(out.value)).not.toContain(Buffer.from(seed.bytes).toString('base64').slice(8, 40));
        }
      }),
      runs(300),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('PEM and inspectBytes (what `pki inspect FILE` reads)', () => {
  it('mutated DER of every kind: inspectBytes reports or throws a PkiError', () => {
    fc.assert(
      fc.property(mutatedFrom(allDer()), ({ bytes }) => {
        const out = decodeOutcome('inspectBytes (DER)', () => inspectBytes(bytes));
        if (out.ok) json(out.value);
        decodeOutcome('checkDerStructure', () => checkDerStructure(bytes));
      }),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('mutated PEM text (markers, labels, base64, headers) decodes or throws a PkiError', () => {
    const texts = () => allDer().map((s) => ({ bytes: Buffer.from(pem(s.label, s.bytes) + pem(s.label, s.bytes), 'latin1') }));
    fc.assert(
      fc.property(mutatedFrom(texts()), ({ bytes }) => {
        const text = Buffer.from(bytes).toString('latin1');
        const blocks = decodeOutcome('decodePem', () => decodePem(text));
        if (blocks.ok) {
          for (const b of blocks.value) expect(same(decodePem(encodePem(b.label, b.der))[0]!.der, b.der)).toBe(true);
        }
        const out = decodeOutcome('inspectBytes (PEM)', () => inspectBytes(bytes));
        if (out.ok) json(out.value);
      }),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('random bytes and random text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.concat([Buffer.from([0x30]), b])),
          fc.string({ unit: 'binary', maxLength: 512 }).map((s) => Buffer.from(s, 'utf8')),
          fc
            .tuple(fc.constantFrom('CERTIFICATE', 'X509 CRL', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'X'), fc.uint8Array({ maxLength: 600 }), fc.string({ maxLength: 20 }))
            .map(([label, der, junk]) => Buffer.from(`${junk}${pem(label, der)}${junk}`, 'latin1')),
        ),
        (bytes) => {
          const out = decodeOutcome('inspectBytes (random)', () => inspectBytes(bytes));
          if (out.ok) json(out.value);
          decodeOutcome('decodePem', () => decodePem(Buffer.from(bytes).toString('latin1')));
          decodeOutcome('checkDerStructure', () => checkDerStructure(bytes));
        },
      ),
      runs(400),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('mutations of mutations stay bounded: 16 stacked mutations on a certificate', () => {
    fc.assert(
      fc.property(fc.nat(seeds.certificates.length - 1), fc.array(mutationsArb, { minLength: 4, maxLength: 4 }), (i, batches) => {
        const bytes = batches.reduce((b, m) => mutate(b, m), seeds.certificates[i]!.bytes);
        decodeOutcome('inspectBytes (DER)', () => inspectBytes(bytes));
      }),
      runs(150),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('bombs', () => {
  const deep = nestedSequences(100_000);
  const hugeClaim = Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00]);
  const manySiblings = Buffer.concat([derHeader(0x30, 200_000 * 2), Buffer.alloc(200_000 * 2).fill(Buffer.from([0x05, 0x00]))]);
  const bombs: [string, Uint8Array][] = [
    ['100,000 nested SEQUENCEs (definite lengths)', deep],
    ['100,000 nested SEQUENCEs (indefinite lengths)', Buffer.alloc(200_000).fill(Buffer.from([0x30, 0x80]))],
    ['100,000 nested [3] (extension wrappers)', nestedSequences(100_000, 0xa3)],
    ['a 4 GiB length claim', hugeClaim],
    ['200,000 sibling NULLs', manySiblings],
    ['1 MiB of 0x30', Buffer.alloc(1 << 20, 0x30)],
    ['1 MiB of 0xff', Buffer.alloc(1 << 20, 0xff)],
  ];
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ['parseCertificate', parseCertificate],
    ['inspectCertificate', inspectCertificate],
    ['parseCsr', parseCsr],
    ['inspectCsr', inspectCsr],
    ['inspectCrl', inspectCrl],
    ['verifyCrlSignature', (b) => verifyCrlSignature(b, seeds.crls[0]!.verifier)],
    ['inspectKey', (b) => inspectKey('PRIVATE KEY', b)],
    ['inspectKey (encrypted)', (b) => inspectKey('ENCRYPTED PRIVATE KEY', b)],
    ['formatDistinguishedName', formatDistinguishedName],
    ['checkDerStructure', checkDerStructure],
    ['inspectBytes (DER)', inspectBytes],
    ['inspectBytes (PEM)', (b) => inspectBytes(Buffer.from(pem('CERTIFICATE', b)))],
  ];
  it.each(bombs)('%s: every decoder refuses it with a PkiError within the hang guard', (_name, bomb) => {
    for (const [name, decode] of decoders) {
      const out = decodeOutcome(name, () => decode(bomb));
      // 200,000 sibling NULLs are well-formed DER, just not any object pki reads.
      if (name !== 'checkDerStructure') expect(out.ok, name).toBe(false);
    }
  });

  it('a certificate whose subject is replaced by 100,000 nested SEQUENCEs is refused or reported, never a stack overflow', () => {
    const seed = seeds.certificates[0]!.bytes;
    const f = parseCertificate(seed);
    const at = Buffer.from(seed).indexOf(Buffer.from(f.subjectDer));
    const inner = Buffer.concat([Buffer.from(seed).subarray(0, at), deep, Buffer.from(seed).subarray(at + f.subjectDer.length)]);
    decodeOutcome('inspectCertificate', () => inspectCertificate(inner));
  });
});
