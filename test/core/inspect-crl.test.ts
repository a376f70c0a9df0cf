import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrl, type CrlEntry } from '../../src/core/x509/crl.js';
import { PkiError } from '../../src/core/errors.js';
import { inspectCrl, verifyCrlSignature, type CrlReport } from '../../src/core/inspect/crl.js';
import { decodePem } from '../../src/core/der/pem.js';
import { expectPkiError } from '../helpers/errors.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/crl');

/** Runs openssl; a missing binary fails (never skips) and names the Debian package. */
function openssl(args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('openssl is not installed: install the Debian package `openssl` (apt-get install openssl)');
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** openssl's reason display text → RFC 5280 name. */
const OPENSSL_REASONS: Record<string, string> = {
  'Key Compromise': 'keyCompromise',
  'CA Compromise': 'cACompromise',
  'Affiliation Changed': 'affiliationChanged',
  Superseded: 'superseded',
  'Cessation Of Operation': 'cessationOfOperation',
  'Certificate Hold': 'certificateHold',
  'Remove From CRL': 'removeFromCRL',
  'Privilege Withdrawn': 'privilegeWithdrawn',
  'AA Compromise': 'aACompromise',
};

/** Parses `openssl crl -text` into the shape of a CrlReport, independently of our DER reader. */
function parseOpensslCrlText(text: string): Omit<CrlReport, 'type'> {
  const field = (re: RegExp): string | undefined => re.exec(text)?.[1];
  const date = (s: string): string => new Date(s.replace(/\s+/g, ' ')).toISOString();
  const revoked = [...text.matchAll(/Serial Number: ([0-9A-F]+)\n\s+Revocation Date: (.+)\n((?:\s+CRL entry extensions:\n.*\n\s+(.+)\n)?)/g)].map((m) => ({
    serial: m[1]!,
    revokedAt: date(m[2]!),
    ...(m[4] ? { reason: OPENSSL_REASONS[m[4].trim()] } : {}),
  }));
  const aki = field(/Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)/);
  return {
    // openssl prints RDNs in encoded order; pki prints RFC 4514 (last RDN first).
    issuer: field(/Issuer: (.+)\n/)!.replace(/ = /g, '=').split(', ').reverse().join(','),
    thisUpdate: date(field(/Last Update: (.+)\n/)!),
    nextUpdate: date(field(/Next Update: (.+)\n/)!),
    crlNumber: field(/CRL Number: \n\s+(\d+)/) ?? null,
    authorityKeyIdentifier: aki ? aki.replace(/:/g, '') : null,
    signatureAlgorithm: field(/Signature Algorithm: (.+)\n/)!,
    revoked: revoked as CrlReport['revoked'],
    revokedCount: revoked.length,
  };
}

let root: string;
let cached: { certDer: Uint8Array; key: KeyObject } | undefined;

/** The test CA, made on first use so that a missing openssl fails each test (with the package name) rather than skipping them. */
function testCa(): { certDer: Uint8Array; key: KeyObject } {
  if (cached === undefined) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/O=pki test/CN=pki Intermediate CA', '-days', '30'], root);
    cached = { certDer: decodePem(readFileSync(join(root, 'ca.pem'), 'utf8'))[0]!.der, key: createPrivateKey(readFileSync(join(root, 'ca.key'))) };
  }
  return cached;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pki-inspect-crl-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const t0 = new Date('2026-11-25T10:00:00Z');
const sampleEntries: CrlEntry[] = [
  { serialHex: '1000', revokedAt: new Date('2026-11-20T08:00:00Z'), reason: 'keyCompromise' },
  { serialHex: 'ABCDEF', revokedAt: new Date('2026-11-21T08:00:00Z'), reason: 'certificateHold' },
  { serialHex: '05', revokedAt: new Date('2026-11-22T08:00:00Z') },
];
const sampleCrl = (entries: CrlEntry[] = sampleEntries): Uint8Array =>
  buildCrl({ issuerCertificateDer: testCa().certDer, issuerPrivateKey: testCa().key, entries, crlNumber: 7n, thisUpdate: t0, nextUpdate: new Date(t0.getTime() + 86_400_000) });

describe('inspectCrl on an openssl-made CRL', () => {
  const der = readFileSync(join(FIXTURES, 'openssl-ca.crl'));

  it('matches openssl crl -text', () => {
    const text = openssl(['crl', '-inform', 'DER', '-in', join(FIXTURES, 'openssl-ca.crl'), '-noout', '-text'], FIXTURES);
    expect(inspectCrl(der)).toEqual({ type: 'crl', ...parseOpensslCrlText(text) });
  });

  it('reads the values make.sh put in', () => {
    const report = inspectCrl(der);
    expect(report.issuer).toBe('CN=pki Fixture CA,O=pki fixtures,C=DE');
    expect(report.crlNumber).toBe('42');
    expect(report.signatureAlgorithm).toBe('ecdsa-with-SHA256');
    expect(report.revoked.map((e) => [e.serial, e.reason])).toEqual([
      ['1000', 'keyCompromise'],
      ['1001', 'superseded'],
      ['1002', undefined],
    ]);
    expect(report.revokedCount).toBe(3);
  });

  it('verifies with the fixture CA key and not with another', () => {
    const caKey = createPublicKey(readFileSync(join(FIXTURES, 'ca.pem')));
    expect(verifyCrlSignature(der, caKey)).toBe(true);
    expect(verifyCrlSignature(der, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toBe(false);
    expect(verifyCrlSignature(der, generateKeyPairSync('ed25519').publicKey)).toBe(false);
    const tampered = Uint8Array.from(der);
    tampered[Buffer.from(der).indexOf('Fixture')]! ^= 0x20; // 'F' → 'f' in the signed issuer name
    expect(verifyCrlSignature(tampered, caKey)).toBe(false);
  });
});

describe('inspectCrl issuer names', () => {
  it.each([
    ['okEscapedComma', ['-subj', '/O=Acme\\, Inc./CN=pki CA'], 'CN=pki CA,O=Acme\\, Inc.'],
    ['okMultiValuedRdn', ['-multivalue-rdn', '-subj', '/O=pki/CN=ca+OU=ops'], 'CN=ca+OU=ops,O=pki'],
    ['okUtf8', ['-utf8', '-subj', '/O=Zürich Ä/CN=Straße CA'], 'CN=Straße CA,O=Zürich Ä'],
    ['okEmailAndDc', ['-subj', '/DC=example/DC=org/emailAddress=ca@example.org/CN=x'], 'CN=x,emailAddress=ca@example.org,DC=org,DC=example'],
  ])('%s', (_name, subjectArgs, expected) => {
    const dir = mkdtempSync(join(root, 'name-'));
    openssl(['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', ...subjectArgs], dir);
    const der = buildCrl({
      issuerCertificateDer: decodePem(readFileSync(join(dir, 'ca.pem'), 'utf8'))[0]!.der,
      issuerPrivateKey: createPrivateKey(readFileSync(join(dir, 'ca.key'))),
      entries: [],
      crlNumber: 1n,
      thisUpdate: t0,
      nextUpdate: new Date(t0.getTime() + 1000),
    });
    expect(inspectCrl(der).issuer).toBe(expected);
  });
});

/** Replaces the first occurrence of `from` (after `after`) with `to`, same length. */
function patch(der: Uint8Array, from: number[], to: number[], after = 0): Uint8Array {
  const copy = Buffer.from(der);
  const at = copy.indexOf(Buffer.from(from), after);
  expect(at).toBeGreaterThanOrEqual(0);
  Buffer.from(to).copy(copy, at);
  return Uint8Array.from(copy);
}

describe('inspectCrl refusals', () => {
  const cases: [string, () => Uint8Array, string][] = [
    ['failVersion3', () => patch(sampleCrl(), [0x02, 0x01, 0x01], [0x02, 0x01, 0x02]), 'ERR_MALFORMED_CRL'],
    ['failUndefinedReasonCode7', () => patch(sampleCrl(), [0x0a, 0x01, 0x01], [0x0a, 0x01, 0x07]), 'ERR_MALFORMED_CRL'],
    // ecdsa-with-SHA256 → ecdsa-with-SHA384 in the outer AlgorithmIdentifier only (the last occurrence)
    ['failAlgorithmMismatch', () => {
      const der = sampleCrl();
      const oidSha256 = Buffer.from('2a8648ce3d040302', 'hex');
      return patch(der, [...oidSha256], [...oidSha256.subarray(0, 7), 0x03], Buffer.from(der).lastIndexOf(oidSha256));
    }, 'ERR_MALFORMED_CRL'],
    ['failNotASequence', () => Uint8Array.from([0x04, 0x00]), 'ERR_MALFORMED_DER'],
    ['failTruncated', () => sampleCrl().subarray(0, 100), 'ERR_MALFORMED_DER'],
    ['failEmpty', () => new Uint8Array(0), 'ERR_MALFORMED_DER'],
    ['failCertificateNotCrl', () => testCa().certDer, 'ERR_MALFORMED_DER'],
  ];
  it.each(cases)('%s', (_name, make, code) => {
    expectPkiError(() => inspectCrl(make()), code);
  });

  it('verifyCrlSignature refuses an unknown algorithm', () => {
    const der = sampleCrl();
    const oidSha256 = Buffer.from('2a8648ce3d040302', 'hex');
    const bogus = patch(der, [...oidSha256], [...oidSha256.subarray(0, 7), 0x7f], Buffer.from(der).lastIndexOf(oidSha256));
    expectPkiError(() => verifyCrlSignature(bogus, createPublicKey(testCa().key)), 'ERR_POLICY');
  });
});

describe('inspectCrl under random corruption', () => {
  /** Small deterministic PRNG (mulberry32) so failures reproduce. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('every bit flip or truncation yields a report or a PkiError, never another error', () => {
    const valid = sampleCrl();
    const publicKey = createPublicKey(testCa().key);
    const random = prng(0x5eed);
    const outcomes = { report: 0, pkiError: 0 };
    for (let round = 0; round < 3000; round++) {
      const mutated = Uint8Array.from(valid);
      let input: Uint8Array = mutated;
      const kind = round % 3;
      if (kind === 0 || kind === 2) {
        const flips = 1 + Math.floor(random() * 3);
        for (let f = 0; f < flips; f++) mutated[Math.floor(random() * mutated.length)]! ^= 1 << Math.floor(random() * 8);
      }
      if (kind >= 1) input = mutated.subarray(0, Math.floor(random() * mutated.length));
      for (const read of [() => inspectCrl(input), () => verifyCrlSignature(input, publicKey)]) {
        try {
          read();
          outcomes.report++;
        } catch (e) {
          if (!(e instanceof PkiError)) throw new Error(`round ${round}: ${String(e)}`, { cause: e });
          outcomes.pkiError++;
        }
      }
    }
    expect(outcomes.report).toBeGreaterThan(0);
    expect(outcomes.pkiError).toBeGreaterThan(0);
  });
});

describe('openssl peer', () => {
  it('is installed (Debian package `openssl`)', () => {
    expect(openssl(['version'], tmpdir())).toMatch(/OpenSSL/);
  });
});
