import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrl, type BuildCrlOptions, type CrlEntry } from '../../src/core/x509/crl.js';
import { childrenOf, readRootTlv } from '../../src/core/der/reader.js';
import { inspectCrl, verifyCrlSignature } from '../../src/core/inspect/crl.js';
import { decodePem, encodePem, PemLabel } from '../../src/core/der/pem.js';
import { parseRevocationReason, revocationReasons, type RevocationReason } from '../../src/core/x509/revocation-reason.js';
import { expectPkiError } from '../helpers/errors.js';

/** Runs openssl; a missing binary fails (never skips) and names the Debian package. */
function openssl(args: string[], cwd: string, allowFailure = false): { status: number | null; output: string; stdout: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('openssl is not installed: install the Debian package `openssl` (apt-get install openssl)');
  }
  if (r.error) throw r.error;
  if (r.status !== 0 && !allowFailure) throw new Error(`openssl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

interface TestCa {
  readonly dir: string;
  readonly certDer: Uint8Array;
  readonly key: KeyObject;
}

const KEY_TYPES = {
  'EC P-256': { newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], algorithm: 'ecdsa-with-SHA256' },
  'EC P-384': { newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], algorithm: 'ecdsa-with-SHA384' },
  'RSA 2048': { newkey: ['-newkey', 'rsa:2048'], algorithm: 'sha256WithRSAEncryption' },
  Ed25519: { newkey: ['-newkey', 'ed25519'], algorithm: 'ED25519' },
} as const;
type KeyTypeName = keyof typeof KEY_TYPES;

let root: string;
const cas = new Map<KeyTypeName, TestCa>(); // filled lazily by caFor

function makeCa(name: string, newkey: readonly string[], extraArgs: string[] = []): TestCa {
  const dir = join(root, name.replace(/\W/g, '_'));
  openssl(['version'], root); // fails first, with the package name, when openssl is missing
  spawnSync('mkdir', ['-p', dir]);
  openssl(
    ['req', '-x509', ...newkey, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/O=pki test/CN=pki Intermediate CA', '-days', '30', ...extraArgs],
    dir,
  );
  return {
    dir,
    certDer: decodePem(readFileSync(join(dir, 'ca.pem'), 'utf8'))[0]!.der,
    key: createPrivateKey(readFileSync(join(dir, 'ca.key'))),
  };
}

/** Issues a P-256 leaf with a fixed serial, signed by the CA in `dir`. */
function issueLeaf(dir: string, name: string, serialHex: string): string {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${serialHex}`, '-days', '1', '-out', `${name}.pem`], dir);
  return `${name}.pem`;
}

/**
 * The CA for a key type, made on first use rather than in beforeAll: without openssl every test that
 * needs a CA then fails with the package name, instead of vitest reporting the tests as skipped.
 */
function caFor(name: KeyTypeName): TestCa {
  let ca = cas.get(name);
  if (ca === undefined) {
    ca = makeCa(name, KEY_TYPES[name].newkey);
    cas.set(name, ca);
  }
  return ca;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pki-crl-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const now = new Date(Math.floor(Date.now() / 1000) * 1000);

function options(ca: TestCa, entries: CrlEntry[], overrides: Partial<BuildCrlOptions> = {}): BuildCrlOptions {
  return {
    issuerCertificateDer: ca.certDer,
    issuerPrivateKey: ca.key,
    entries,
    crlNumber: 42n,
    thisUpdate: new Date(now.getTime() - HOUR),
    nextUpdate: new Date(now.getTime() + 7 * 24 * HOUR),
    ...overrides,
  };
}

describe('openssl peer', () => {
  it('is installed (Debian package `openssl`)', () => {
    expect(openssl(['version'], tmpdir()).stdout).toMatch(/OpenSSL/);
  });
});

describe('buildCrl accepted by openssl', () => {
  it.each(Object.keys(KEY_TYPES) as KeyTypeName[])('%s issuer', (name) => {
    const ca = caFor(name);
    const revokedLeaf = issueLeaf(ca.dir, 'revoked', '0A1B');
    const goodLeaf = issueLeaf(ca.dir, 'good', '0A1C');
    const entries: CrlEntry[] = [
      { serialHex: '0A1B', revokedAt: new Date(now.getTime() - 2 * HOUR), reason: 'keyCompromise' },
      { serialHex: '01', revokedAt: new Date(now.getTime() - 3 * HOUR), reason: 'superseded' },
      { serialHex: '7F', revokedAt: new Date(now.getTime() - 3 * HOUR), reason: 'unspecified' },
      { serialHex: 'FF', revokedAt: new Date(now.getTime() - 4 * HOUR) },
      { serialHex: '7FEEDDCCBBAA99887766554433221100FFEEDDCC', revokedAt: new Date(now.getTime() - 4 * HOUR), reason: 'cACompromise' },
    ];
    const der = buildCrl(options(ca, entries));
    writeFileSync(join(ca.dir, 'x.crl'), der);
    writeFileSync(join(ca.dir, 'crl.pem'), encodePem(PemLabel.crl, der));

    expect(openssl(['crl', '-inform', 'DER', '-in', 'x.crl', '-CAfile', 'ca.pem', '-noout'], ca.dir).output).toContain('verify OK');

    const text = openssl(['crl', '-inform', 'DER', '-in', 'x.crl', '-noout', '-text'], ca.dir).stdout;
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain(`Signature Algorithm: ${KEY_TYPES[name].algorithm}`);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+42\n/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    for (const serial of ['0A1B', '01', '7F', 'FF', '7FEEDDCCBBAA99887766554433221100FFEEDDCC']) {
      expect(text).toContain(`Serial Number: ${serial}\n`);
    }
    expect(text).toMatch(/Serial Number: 0A1B\n.*\n.*CRL entry extensions:\n.*CRL Reason Code: \n\s+Key Compromise/);
    expect(text).toMatch(/Serial Number: 01\n.*\n.*CRL entry extensions:\n.*CRL Reason Code: \n\s+Superseded/);
    expect(text).toContain('CA Compromise');
    expect(text).not.toContain('Unspecified'); // RFC 5280 §5.3.1: unspecified SHOULD be omitted

    const aki = /Authority Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)![1]!.replace(/:/g, '');
    const ski = openssl(['x509', '-in', 'ca.pem', '-noout', '-ext', 'subjectKeyIdentifier'], ca.dir).stdout;
    expect(ski.replace(/[\s:]/g, '')).toContain(aki);

    const revoked = openssl(['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'ca.pem', revokedLeaf], ca.dir, true);
    expect(revoked.status).not.toBe(0);
    expect(revoked.output).toContain('certificate revoked');
    const good = openssl(['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'ca.pem', goodLeaf], ca.dir, true);
    expect(good.output).toContain(`${goodLeaf}: OK`);
    expect(good.status).toBe(0);

    expect(verifyCrlSignature(der, createPublicKey(ca.key))).toBe(true);
    const other = caFor(name === 'Ed25519' ? 'EC P-256' : 'Ed25519');
    expect(verifyCrlSignature(der, createPublicKey(other.key))).toBe(false);
  });

  it('an empty CRL omits revokedCertificates and is still accepted', () => {
    const ca = caFor('EC P-256');
    const der = buildCrl(options(ca, []));
    const tbs = childrenOf(der, childrenOf(der, readRootTlv(der))[0]!);
    // version, signature, issuer, thisUpdate, nextUpdate, [0] extensions: no empty SEQUENCE in between
    expect(tbs.map((f) => f.tag)).toEqual([0x02, 0x30, 0x30, 0x17, 0x17, 0xa0]);
    writeFileSync(join(ca.dir, 'empty.crl'), der);
    expect(openssl(['crl', '-inform', 'DER', '-in', 'empty.crl', '-CAfile', 'ca.pem', '-noout'], ca.dir).output).toContain('verify OK');
    expect(openssl(['crl', '-inform', 'DER', '-in', 'empty.crl', '-noout', '-text'], ca.dir).stdout).toContain('No Revoked Certificates.');
    expect(inspectCrl(der).revokedCount).toBe(0);
  });

  it('copies the issuer name byte-for-byte from the certificate subject', () => {
    const ca = caFor('RSA 2048');
    const der = buildCrl(options(ca, []));
    const certTbs = childrenOf(ca.certDer, childrenOf(ca.certDer, readRootTlv(ca.certDer))[0]!);
    const subject = certTbs[5]!; // [0] version, serial, signature, issuer, validity, subject
    const crlIssuer = childrenOf(der, childrenOf(der, readRootTlv(der))[0]!)[2]!;
    expect(Buffer.from(der.subarray(crlIssuer.start, crlIssuer.end))).toEqual(Buffer.from(ca.certDer.subarray(subject.start, subject.end)));
  });

  it('a CA without an SKI signs CRLs without an AKI (never a SHA-1 or other computed identifier); openssl accepts them', () => {
    // Issue 9 point 13 changed this: it used to assert a SHA-1 (RFC 5280 method 1) identifier computed here.
    const cnf = join(root, 'no-ski.cnf');
    writeFileSync(cnf, '[req]\ndistinguished_name = dn\nx509_extensions = v3\n[dn]\n[v3]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = none\nauthorityKeyIdentifier = none\n');
    const ca = makeCa('no-ski', KEY_TYPES['EC P-256'].newkey, ['-config', cnf]);
    expect(openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], ca.dir).stdout).not.toContain('Subject Key Identifier');
    const der = buildCrl(options(ca, [{ serialHex: '0B', revokedAt: now }]));
    expect(inspectCrl(der).authorityKeyIdentifier).toBeNull();
    writeFileSync(join(ca.dir, 'x.crl'), der);
    expect(openssl(['crl', '-inform', 'DER', '-in', 'x.crl', '-CAfile', 'ca.pem', '-noout'], ca.dir).output).toContain('verify OK');
  });

  it('switches to GeneralizedTime from 2050 and openssl reads it', () => {
    const ca = caFor('Ed25519');
    const der = buildCrl(
      options(ca, [{ serialHex: '05', revokedAt: new Date('2051-03-04T05:06:07.890Z') }], {
        thisUpdate: new Date('2049-12-31T23:59:59Z'),
        nextUpdate: new Date('2050-01-01T00:00:00Z'),
      }),
    );
    const report = inspectCrl(der);
    expect(report.thisUpdate).toBe('2049-12-31T23:59:59.000Z');
    expect(report.nextUpdate).toBe('2050-01-01T00:00:00.000Z');
    expect(report.revoked[0]!.revokedAt).toBe('2051-03-04T05:06:07.000Z'); // whole seconds
    writeFileSync(join(ca.dir, 'gt.crl'), der);
    const text = openssl(['crl', '-inform', 'DER', '-in', 'gt.crl', '-noout', '-text'], ca.dir).stdout;
    expect(text).toContain('Next Update: Jan  1 00:00:00 2050 GMT');
    expect(text).toContain('Revocation Date: Mar  4 05:06:07 2051 GMT');
  });
});

describe('buildCrl round trip', () => {
  it('inspectCrl(buildCrl(x)) equals x for every named reason', () => {
    const ca = caFor('EC P-256');
    const entries: CrlEntry[] = revocationReasons
      .filter((r) => r !== 'unspecified')
      .map((reason, i) => ({ serialHex: (0x1000 + i).toString(16).toUpperCase(), revokedAt: new Date(Date.UTC(2026, 0, 1 + i, 12)), reason }));
    entries.push({ serialHex: '80', revokedAt: new Date(Date.UTC(2026, 5, 1)) });
    const input = options(ca, entries, { crlNumber: 2n ** 150n + 7n });
    const report = inspectCrl(buildCrl(input));
    expect(report).toEqual({
      type: 'crl',
      issuer: 'CN=pki Intermediate CA,O=pki test',
      thisUpdate: input.thisUpdate.toISOString(),
      nextUpdate: input.nextUpdate.toISOString(),
      crlNumber: (2n ** 150n + 7n).toString(),
      authorityKeyIdentifier: expect.stringMatching(/^[0-9A-F]{40}$/),
      signatureAlgorithm: 'ecdsa-with-SHA256',
      revoked: entries.map((e) => ({ serial: e.serialHex, revokedAt: e.revokedAt.toISOString(), ...(e.reason ? { reason: e.reason } : {}) })),
      revokedCount: entries.length,
    });
  });

  it('omits reasonCode for unspecified and normalizes serial case and leading zeros', () => {
    const ca = caFor('EC P-256');
    const report = inspectCrl(buildCrl(options(ca, [{ serialHex: '000abc', revokedAt: now, reason: 'unspecified' }])));
    expect(report.revoked).toEqual([{ serial: '0ABC', revokedAt: now.toISOString() }]);
  });

  it('revocation times as ISO text (the inventory form) give the same CRL as Dates, and invalid text is refused', () => {
    const ca = caFor('Ed25519'); // deterministic signatures: whole CRLs compare
    const times = ['2026-01-31T23:59:59.999Z', '2049-12-31T23:59:59.000Z', '2050-01-01T00:00:00.000Z', '2024-02-29T12:00:00.000Z', '1950-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
    const asDates = buildCrl(options(ca, times.map((t, i) => ({ serialHex: (i + 1).toString(16), revokedAt: new Date(t), reason: 'keyCompromise' as const }))));
    const asText = buildCrl(options(ca, times.map((t, i) => ({ serialHex: (i + 1).toString(16), revokedAt: t, reason: 'keyCompromise' as const }))));
    expect(Buffer.from(asText).equals(Buffer.from(asDates))).toBe(true);
    for (const bad of ['2026-02-29T00:00:00.000Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00', 'nope']) {
      expectPkiError(() => buildCrl(options(ca, [{ serialHex: '01', revokedAt: bad }])), 'ERR_INVALID_TIME');
    }
  });

  it('builds and inspects 100,000 entries', () => {
    const ca = caFor('Ed25519');
    const reasons: (RevocationReason | undefined)[] = ['keyCompromise', 'superseded', undefined, 'cessationOfOperation'];
    const base = Date.UTC(2026, 0, 1);
    const entries: CrlEntry[] = Array.from({ length: 100_000 }, (_, i) => ({
      serialHex: `${(0x100000 + i).toString(16).toUpperCase()}9F3C5E7A1B2D4F60`,
      revokedAt: new Date(base + i * 1000),
      reason: reasons[i % reasons.length],
    }));
    const der = buildCrl(options(ca, entries));
    const report = inspectCrl(der);
    expect(report.revokedCount).toBe(100_000);
    expect(report.revoked).toHaveLength(100_000);
    expect(report.revoked.filter((e) => e.reason === 'keyCompromise')).toHaveLength(25_000);
    expect(report.revoked.filter((e) => e.reason === undefined)).toHaveLength(25_000);
    expect(report.revoked[99_999]).toEqual({ serial: entries[99_999]!.serialHex, revokedAt: new Date(base + 99_999_000).toISOString(), reason: 'cessationOfOperation' });
    expect(verifyCrlSignature(der, createPublicKey(ca.key))).toBe(true);
    writeFileSync(join(ca.dir, 'big.crl'), der);
    expect(openssl(['crl', '-inform', 'DER', '-in', 'big.crl', '-CAfile', 'ca.pem', '-noout'], ca.dir).output).toContain('verify OK');
  });
});

describe('buildCrl refusals', () => {
  const t = new Date('2026-11-25T10:00:00Z');
  const cases: [string, () => Partial<BuildCrlOptions>, string][] = [
    ['failNextUpdateEqual', () => ({ thisUpdate: t, nextUpdate: t }), 'ERR_VALIDITY'],
    ['failNextUpdateBefore', () => ({ thisUpdate: t, nextUpdate: new Date(t.getTime() - 1000) }), 'ERR_VALIDITY'],
    ['failNextUpdateSameSecond', () => ({ thisUpdate: t, nextUpdate: new Date(t.getTime() + 999) }), 'ERR_VALIDITY'],
    ['failInvalidDate', () => ({ thisUpdate: new Date(Number.NaN) }), 'ERR_INVALID_TIME'],
    ['failNegativeCrlNumber', () => ({ crlNumber: -1n }), 'ERR_INVALID_OPTION'],
    ['failHugeCrlNumber', () => ({ crlNumber: 2n ** 160n }), 'ERR_INVALID_OPTION'],
    ['failSerialNotHex', () => ({ entries: [{ serialHex: 'xyz', revokedAt: t }] }), 'ERR_INVALID_SERIAL'],
    ['failSerialColons', () => ({ entries: [{ serialHex: '0A:1B', revokedAt: t }] }), 'ERR_INVALID_SERIAL'],
    ['failSerialEmpty', () => ({ entries: [{ serialHex: '', revokedAt: t }] }), 'ERR_INVALID_SERIAL'],
    ['failSerialTooLong', () => ({ entries: [{ serialHex: '80'.repeat(20), revokedAt: t }] }), 'ERR_INVALID_SERIAL'],
    ['failSerialTwice', () => ({ entries: [{ serialHex: '0a', revokedAt: t }, { serialHex: 'A', revokedAt: t }] }), 'ERR_INVALID_SERIAL'],
    ['failRevokedAtInvalid', () => ({ entries: [{ serialHex: '01', revokedAt: new Date('nope') }] }), 'ERR_INVALID_TIME'],
    ['failUnknownReason', () => ({ entries: [{ serialHex: '01', revokedAt: t, reason: 'lost' as RevocationReason }] }), 'ERR_INVALID_OPTION'],
    ['failKeyMismatch', () => ({ issuerPrivateKey: caFor('EC P-384').key }), 'ERR_KEY_MISMATCH'],
    ['failPublicKey', () => ({ issuerPrivateKey: createPublicKey(caFor('EC P-256').key) }), 'ERR_UNSUPPORTED_KEY'],
    ['failSecp256k1', () => ({ issuerPrivateKey: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey }), 'ERR_UNSUPPORTED_KEY'],
    ['failNotACertificate', () => ({ issuerCertificateDer: new Uint8Array([0x30, 0x80, 0, 0]) }), 'ERR_MALFORMED_DER'],
  ];
  it.each(cases)('%s', (_name, override, code) => {
    const ca = caFor('EC P-256');
    expectPkiError(() => buildCrl(options(ca, [{ serialHex: '01', revokedAt: t }], { thisUpdate: t, nextUpdate: new Date(t.getTime() + HOUR), ...override() })), code);
  });
});

describe('parseRevocationReason', () => {
  it.each([
    ['keyCompromise', 'keyCompromise'],
    ['KEYCOMPROMISE', 'keyCompromise'],
    ['CACompromise', 'cACompromise'],
    ['  superseded ', 'superseded'],
    ['removefromcrl', 'removeFromCRL'],
    ['aACompromise', 'aACompromise'],
  ])('ok %s', (text, reason) => {
    expect(parseRevocationReason(text)).toBe(reason);
  });

  it.each(['', 'lost', '7', 'key compromise'])('fail %j', (text) => {
    const e = expectPkiError(() => parseRevocationReason(text), 'ERR_INVALID_OPTION');
    expect(e.hint).toContain('keyCompromise');
    expect(e.hint).toContain('aACompromise');
  });
});
