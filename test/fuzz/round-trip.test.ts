/**
 * Round-trip properties (issue 6 point 1): whatever pki encodes, pki's inspect decodes to the same fields,
 * and openssl reads the same thing from a bounded sample of the generated certificates and CRLs.
 */
import fc from 'fast-check';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { issuerFromCertificate } from '../../src/core/x509/issuer.js';
import { buildCrl, type CrlEntry } from '../../src/core/x509/crl.js';
import { inspectCertificate } from '../../src/core/inspect/certificate.js';
import { inspectCrl, verifyCrlSignature } from '../../src/core/inspect/crl.js';
import { formatIpBytes, groupSans, ipToBytes, parseSan, type San } from '../../src/core/x509/names.js';
import { decodePem, encodePem } from '../../src/core/der/pem.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { revocationReasons } from '../../src/core/x509/revocation-reason.js';
import { decodeSshCertificate, encodeSshPublicKey, issueSshCertificate, parseSshPublicKey, verifySshCertificateSignature } from '../../src/core/ssh/index.js';
import { parseDuration } from '../../src/core/x509/validity.js';
import { PkiError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/cli.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { countInput, PROPERTY_TIMEOUT_MS, runs } from './harness.js';
import { ecRoot, edLeaf, p384Leaf, SEED_NOW } from './seeds.js';

const DAY = 86_400_000;
const hexString = (c: { minLength: number; maxLength: number }) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), ...c });
const dir = tempDir('pki-fuzz-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** openssl on at most `limit` generated inputs per property: enough to catch disagreement, bounded in time. */
function opensslSample(limit: number): () => boolean {
  let used = 0;
  return () => used++ < limit;
}

function openssl(args: string[]): string {
  requirePeer('openssl');
  const r = runPeer('openssl', args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const rootIssuer = () => {
  const root = issueCertificate({
    serial: '01',
    subject: { commonName: 'Round-trip Root' },
    sans: [],
    profile: PROFILES.root,
    publicKey: ecRoot.publicKey,
    notBefore: SEED_NOW,
    notAfter: new Date(SEED_NOW.getTime() + 3650 * DAY),
    issuer: 'self',
    selfSigningKey: ecRoot.privateKey,
  });
  return { der: root, issuer: issuerFromCertificate(root, ecRoot.privateKey, SEED_NOW) };
};
const root = rootIssuer();

/** SAN strings that parse: domains (incl. wildcards and IDNs), IPv4/IPv6, emails, URIs. */
const sanArb: fc.Arbitrary<San> = fc
  .oneof(
    fc.domain(),
    fc.domain().map((d) => `*.${d}`),
    fc.tuple(fc.constantFrom('bücher', 'münchen', 'テスト', 'δοκιμή'), fc.domain()).map(([u, d]) => `${u}.${d}`),
    fc.ipV4(),
    fc.ipV6(),
    fc.emailAddress(),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.uuid().map((u) => `urn:uuid:${u}`),
  )
  .map((text) => {
    try {
      return parseSan(text);
    } catch (e) {
      if (e instanceof PkiError) return undefined;
      throw e;
    }
  })
  .filter((s): s is San => s !== undefined);

/** What `openssl x509 -ext subjectAltName` prints, grouped like pki's SanSet (IPv6 canonicalised). */
function opensslSans(text: string): ReturnType<typeof groupSans> {
  const out = { dns: [] as string[], ip: [] as string[], email: [] as string[], uri: [] as string[] };
  const line = /X509v3 Subject Alternative Name:[^\n]*\n\s+(.+)/.exec(text)?.[1] ?? '';
  for (const item of line.split(', ').filter(Boolean)) {
    const [kind, ...rest] = item.split(':');
    const value = rest.join(':');
    if (kind === 'DNS') out.dns.push(value);
    else if (kind === 'IP Address') out.ip.push(formatIpBytes(ipToBytes(value.toLowerCase())));
    else if (kind === 'email') out.email.push(value);
    else if (kind === 'URI') out.uri.push(value);
  }
  return out;
}

describe('certificates: SAN sets and subjects', () => {
  it('random SAN sets → issueCertificate → inspectCertificate gives the same SANs, serial and dates; openssl agrees on a sample', () => {
    const withOpenssl = opensslSample(Number(process.env.FUZZ_OPENSSL ?? '8'));
    fc.assert(
      fc.property(
        fc.uniqueArray(sanArb, { minLength: 1, maxLength: 8, selector: (s) => `${s.type}:${s.value}` }),
        // Positive, no leading zero, whole octets: the report shows it unchanged.
        hexString({ minLength: 1, maxLength: 37 }).map((h) => `4${h}${h.length % 2 ? '' : '0'}`.toUpperCase()),
        fc.integer({ min: 1, max: 400 * 365 }),
        fc.constantFrom(PROFILES.server, PROFILES.client, PROFILES.peer),
        (sans, serial, days, profile) => {
          const notAfter = new Date(SEED_NOW.getTime() + days * DAY);
          fc.pre(notAfter.getUTCFullYear() <= 2399);
          const der = issueCertificate({ serial, subject: {}, sans, profile, publicKey: p384Leaf.publicKey, notBefore: SEED_NOW, notAfter, issuer: { ...root.issuer, notAfter: new Date('2400-01-01T00:00:00Z') } });
          countInput('inspectCertificate (round trip)');
          const report = inspectCertificate(der);
          expect(report.sans).toEqual(groupSans(sans));
          expect(report.serial).toBe(serial.replace(/^0+(?=.)/, ''));
          expect(report.notAfter).toBe(notAfter.toISOString());
          expect(report.extKeyUsage).toEqual([...profile.extKeyUsage]);
          if (withOpenssl()) {
            const file = join(dir, 'san.pem');
            writeFileSync(file, encodePem('CERTIFICATE', der));
            const text = openssl(['x509', '-in', file, '-noout', '-serial', '-enddate', '-ext', 'subjectAltName']);
            countInput('openssl x509 (round trip)');
            expect(opensslSans(text)).toEqual(report.sans);
            expect(/serial=([0-9A-F]+)/.exec(text)?.[1]?.replace(/^0+(?=.)/, '')).toBe(report.serial);
            expect(new Date(/notAfter=(.+)/.exec(text)![1]!).toISOString()).toBe(report.notAfter);
          }
        },
      ),
      runs(120),
    );
  }, PROPERTY_TIMEOUT_MS);

  /** Names with RFC 4514 specials, leading/trailing spaces and '#', and non-ASCII text. */
  const nameText = fc
    .string({ unit: fc.oneof(fc.constantFrom(...',+"\\<>;=# '.split('')), fc.constantFrom('a', 'Z', '0', '-', '.', 'é', 'ü', '中', '🔐', 'ß', '\x01', '\x1f', '\x7f')), minLength: 1, maxLength: 24 })
    .filter((s) => s.trim() !== '' || s.length > 0);

  it('random subjects → formatDistinguishedName agrees with `openssl x509 -subject -nameopt RFC2253` (UTF-8 unescaped)', () => {
    const withOpenssl = opensslSample(Number(process.env.FUZZ_OPENSSL ?? '8') * 3);
    fc.assert(
      fc.property(nameText, fc.option(nameText, { nil: undefined }), (commonName, organization) => {
        // openssl leaves a value of exactly "#" unescaped (its last-character rule overrides the first-character
        // one); RFC 4514 §2.4 requires the escape, and pki keeps it.
        fc.pre(commonName !== '#' && organization !== '#');
        if (!withOpenssl()) return;
        const der = issueCertificate({
          serial: '4A',
          subject: { commonName, ...(organization === undefined ? {} : { organization }) },
          sans: [],
          profile: PROFILES.client,
          publicKey: edLeaf.publicKey,
          notBefore: SEED_NOW,
          notAfter: new Date(SEED_NOW.getTime() + DAY),
          issuer: root.issuer,
        });
        const file = join(dir, 'subject.pem');
        writeFileSync(file, encodePem('CERTIFICATE', der));
        const text = openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']);
        countInput('formatDistinguishedName (vs openssl)');
        expect(inspectCertificate(der).subject).toBe(text.replace(/^subject=/, '').replace(/\n$/, ''));
      }),
      runs(24),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('CRLs', () => {
  const entryArb: fc.Arbitrary<CrlEntry> = fc.record({
    serialHex: hexString({ minLength: 1, maxLength: 40 }).map((h) => (h.length % 2 ? `0${h}` : h)).filter((h) => /[1-9a-f]/i.test(h) && !/^[89a-f]/i.test(h)),
    revokedAt: fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('2399-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000)),
    reason: fc.option(fc.constantFrom(...revocationReasons), { nil: undefined }),
  });

  it('random revocation lists → buildCrl → inspectCrl gives the same entries and verifies; openssl agrees on a sample', () => {
    const withOpenssl = opensslSample(Number(process.env.FUZZ_OPENSSL ?? '8'));
    fc.assert(
      fc.property(
        fc.uniqueArray(entryArb, { maxLength: 30, selector: (e) => e.serialHex.replace(/^0+/, '').toUpperCase() }),
        fc.bigInt({ min: 0n, max: 2n ** 159n - 1n }),
        (entries, crlNumber) => {
          const crl = buildCrl({
            issuerCertificateDer: root.der,
            issuerPrivateKey: ecRoot.privateKey,
            entries,
            crlNumber,
            thisUpdate: SEED_NOW,
            nextUpdate: new Date(SEED_NOW.getTime() + 7 * DAY),
          });
          countInput('inspectCrl (round trip)');
          const report = inspectCrl(crl);
          expect(verifyCrlSignature(crl, ecRoot.publicKey)).toBe(true);
          expect(report.crlNumber).toBe(crlNumber.toString());
          expect(report.revoked).toEqual(
            entries.map((e) => ({
              // Whole octets, sign octets dropped: what openssl prints too (0FC7…, not FC7…).
              serial: e.serialHex.replace(/^(00)+(?=.)/, '').toUpperCase(),
              revokedAt: e.revokedAt.toISOString(),
              ...(e.reason === undefined || e.reason === 'unspecified' ? {} : { reason: e.reason }),
            })),
          );
          if (withOpenssl()) {
            const file = join(dir, 'list.crl');
            writeFileSync(file, encodePem('X509 CRL', crl));
            const text = openssl(['crl', '-in', file, '-noout', '-text']);
            countInput('openssl crl (round trip)');
            const serials = [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]!);
            expect(serials).toEqual(report.revoked.map((r) => r.serial));
            // openssl prints CRL numbers past 64 bits in hex; compare the decimal ones.
            if (crlNumber < 2n ** 63n) expect(/CRL Number: \n\s+(\S+)/.exec(text)?.[1]).toBe(crlNumber.toString());
          }
        },
      ),
      runs(60),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('durations, PEM, OpenSSH certificates', () => {
  it('random compound durations → parseDuration gives the sum of their parts', () => {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY, y: 365 * DAY } as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(...(Object.keys(unit) as (keyof typeof unit)[]))), { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join('');
        const expected = parts.reduce((sum, [n, u]) => sum + n * unit[u], 0);
        countInput('parseDuration (round trip)');
        if (expected === 0 || expected > 10_000 * unit.y) expect(() => parseDuration(text)).toThrow(PkiError);
        else expect(parseDuration(text)).toBe(expected);
      }),
      runs(500),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('random DER → encodePem → decodePem gives the same label and bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom('CERTIFICATE', 'X509 CRL', 'PRIVATE KEY', 'CERTIFICATE REQUEST'), fc.uint8Array({ minLength: 1, maxLength: 3000 }), (label, der) => {
        countInput('decodePem (round trip)');
        const [block] = decodePem(`junk before\n${encodePem(label, der)}junk after`);
        expect(block!.label).toBe(label);
        expect(Buffer.from(block!.der).equals(Buffer.from(der))).toBe(true);
      }),
      runs(300),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('random OpenSSH certificates → decodeSshCertificate gives the same fields and verifies', () => {
    const principal = fc.string({ unit: fc.constantFrom(...'abcxyz019._-@é'.split('')), minLength: 1, maxLength: 16 });
    fc.assert(
      fc.property(
        fc.uniqueArray(principal, { minLength: 1, maxLength: 5 }),
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        fc.string({ unit: fc.constantFrom(...'abc XYZ@:/éü'.split('')), minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== ''),
        fc.integer({ min: 1, max: 3650 }),
        fc.constantFrom<'user' | 'host'>('user', 'host'),
        (principals, serial, keyId, days, certType) => {
          const validAfter = SEED_NOW;
          const validBefore = new Date(SEED_NOW.getTime() + days * DAY);
          const issued = issueSshCertificate({
            publicKey: parseSshPublicKey(encodeSshPublicKey(p384Leaf.publicKey, 'rt')),
            caPrivateKey: edLeaf.privateKey,
            certType,
            serial,
            keyId,
            principals,
            validAfter,
            validBefore,
            extensions: certType === 'user' ? ['permit-pty'] : [],
            nonce: Buffer.alloc(32, 9),
          });
          countInput('decodeSshCertificate (round trip)');
          const cert = decodeSshCertificate(issued.line);
          expect(verifySshCertificateSignature(cert)).toBe(true);
          expect({ serial: cert.serial, keyId: cert.keyId, principals: cert.principals, certType: cert.certType }).toEqual({ serial: serial.toString(), keyId, principals, certType });
          expect(cert.validAfter.getTime()).toBe(validAfter.getTime());
          expect(cert.validBefore).toEqual(validBefore);
        },
      ),
      runs(150),
    );
  }, PROPERTY_TIMEOUT_MS);
});
