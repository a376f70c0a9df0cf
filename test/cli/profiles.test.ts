/**
 * Issue 12, point 3 (done-means 4): a named pki.json profile is what a certificate carries — key usage, EKU,
 * subject O/OU/C, extra SANs, lifetime, CRL distribution point and AIA (OCSP + caIssuers) — whether issued
 * by `generate --profile` or `sign --profile`, read back by two independent parsers: OpenSSL (`x509 -text`,
 * `x509 -ext`) and pyca/cryptography (Debian python3-cryptography). `renew` keeps the profile (the inventory
 * records its name), `renew --profile` switches it, and an unknown name is refused listing the known ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { peer, runPeer } from '../helpers/peers.js';

const DAY = 86_400;
const WEB = {
  keyUsage: ['digitalSignature', 'keyAgreement'],
  extKeyUsage: ['serverAuth'],
  notAfter: '30d',
  kty: 'EC',
  crv: 'P-384',
  subject: { O: 'Acme Corp', OU: 'Web Team', C: 'DE' },
  sans: ['extra.acme.internal'],
  requiredSanPatterns: ['*.acme.internal', 'web', 'localhost', '127.0.0.1', '::1'],
  crlDistributionPoints: ['http://crl.acme.example/web.crl'],
  ocspUrls: ['http://ocsp.acme.example/web'],
  caIssuersUrls: ['http://pki.acme.example/web-issuer.der'],
};
/** A second custom profile, for the switch: other usages, no subject attributes, the top-level URLs. */
const API = { extKeyUsage: ['serverAuth', 'clientAuth'], keyUsage: ['digitalSignature'], notAfter: '10d' };

/** What pyca/cryptography reads from a certificate (the second, independent parser). */
interface PycaView {
  keyUsage: string[];
  eku: string[];
  subject: Record<string, string>;
  dns: string[];
  ip: string[];
  lifetime: number;
  crl: string[];
  ocsp: string[];
  caIssuers: string[];
  ca: boolean;
}

const PYCA = `
import json, sys
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, AuthorityInformationAccessOID, NameOID
cert = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
def ext(oid, absent=()):
  try:
    return cert.extensions.get_extension_for_oid(oid).value
  except x509.ExtensionNotFound:
    return absent
ku = ext(ExtensionOID.KEY_USAGE)
flags = ['digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment', 'key_agreement', 'key_cert_sign', 'crl_sign']
aia = ext(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
san = ext(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
names = {NameOID.ORGANIZATION_NAME: 'O', NameOID.ORGANIZATIONAL_UNIT_NAME: 'OU', NameOID.COUNTRY_NAME: 'C', NameOID.COMMON_NAME: 'CN'}
print(json.dumps({
  'keyUsage': [f for f in flags if getattr(ku, f)],
  'eku': [e._name for e in ext(ExtensionOID.EXTENDED_KEY_USAGE)],
  'subject': {names.get(a.oid, a.oid.dotted_string): a.value for a in cert.subject},
  'dns': san.get_values_for_type(x509.DNSName) if san else [],
  'ip': [str(i) for i in san.get_values_for_type(x509.IPAddress)] if san else [],
  'lifetime': int((cert.not_valid_after - cert.not_valid_before).total_seconds()),
  'crl': [n.value for dp in ext(ExtensionOID.CRL_DISTRIBUTION_POINTS) for n in dp.full_name],
  'ocsp': [d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP],
  'caIssuers': [d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS],
  'ca': ext(ExtensionOID.BASIC_CONSTRAINTS).ca,
}))
`;

function pyca(certFile: string): PycaView {
  const check = runPeer('python3', ['-c', 'import cryptography']);
  if (check.status !== 0) throw new Error('pyca/cryptography is not installed for /usr/bin/python3: apt-get install python3-cryptography');
  return JSON.parse(peer('python3', ['-c', PYCA, certFile])) as PycaView;
}

const ext = (certFile: string, names: string) => peer('openssl', ['x509', '-in', certFile, '-noout', '-ext', names]);
const text = (certFile: string) => peer('openssl', ['x509', '-in', certFile, '-noout', '-text']);

/** The openssl -text and pyca readings of a certificate issued with WEB, both complete and exact. */
function expectWebProfile(certFile: string, cn: string, sanDns: string[], sanIp: string[]): void {
  const t = text(certFile);
  expect(t).toMatch(new RegExp(`Subject: C = DE, O = Acme Corp, OU = Web Team, CN = ${cn}\\n`));
  expect(t).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Agreement\n/);
  expect(t).toMatch(/X509v3 Extended Key Usage: ?\n\s+TLS Web Server Authentication\n/);
  expect(t).toMatch(/CA:FALSE/);
  expect(t).toMatch(/Public-Key: \(384 bit\)/);
  expect(ext(certFile, 'crlDistributionPoints')).toMatch(/Full Name:\n\s+URI:http:\/\/crl\.acme\.example\/web\.crl\n$/);
  expect(ext(certFile, 'authorityInfoAccess')).toMatch(/OCSP - URI:http:\/\/ocsp\.acme\.example\/web\n\s+CA Issuers - URI:http:\/\/pki\.acme\.example\/web-issuer\.der\n$/);
  const p = pyca(certFile);
  expect(p).toEqual({
    keyUsage: ['digital_signature', 'key_agreement'],
    eku: ['serverAuth'],
    subject: { C: 'DE', O: 'Acme Corp', OU: 'Web Team', CN: cn },
    dns: sanDns,
    ip: sanIp,
    lifetime: 30 * DAY + 60, // notBefore is backdated by clockSkew (1m)
    crl: WEB.crlDistributionPoints,
    ocsp: WEB.ocspUrls,
    caIssuers: WEB.caIssuersUrls,
    ca: false,
  });
}

function inventory(ca: string, sql: string): Record<string, unknown>[] {
  const db = new Database(join(ca, 'db', 'pki.sqlite'), { fileMustExist: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

let ca: string;
let work: string;

beforeAll(() => {
  ca = initCa();
  work = tempDir('pki-profiles-');
  const file = join(ca, 'pki.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // Top-level URLs that WEB's own must win over, and that API (which sets none) inherits.
  config.crl = { distributionPoints: ['http://crl.acme.example/top.crl'], nextUpdate: '7d' };
  config.ocsp = { urls: ['http://ocsp.acme.example/top'] };
  config.aia = { caIssuers: ['http://pki.acme.example/top-issuer.der'] };
  config.profiles = { web: WEB, api: API, client: { subject: { O: 'Acme Clients' } } };
  writeFileSync(file, JSON.stringify(config, null, 2));
});

describe('a custom profile', () => {
  it('generate --profile web: the service certificate carries exactly its fields; the clients get the overridden client profile', () => {
    const r = pki(['generate', 'web', 'main', '--profile', 'web', '--client', 'alice', '--dir', ca, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const certs = join(ca, 'services', 'web', 'main', 'certs');
    expectWebProfile(join(certs, 'web.crt'), 'web', ['web', 'localhost', 'extra.acme.internal'], ['127.0.0.1', '::1']);
    const client = pyca(join(certs, 'alice.crt'));
    expect(client.subject).toEqual({ O: 'Acme Clients', CN: 'alice' });
    expect(client.eku).toEqual(['clientAuth']);
    expect(client.ocsp).toEqual(['http://ocsp.acme.example/top']);
    expect(inventory(ca, `SELECT profile, profile_name FROM certificates WHERE status = 'valid' AND profile_name IS NOT NULL ORDER BY profile_name`)).toEqual([
      { profile: 'client', profile_name: 'client' },
      { profile: 'server', profile_name: 'web' },
    ]);
    // Convergent: the profile's extra SAN is part of the request, so a second run changes nothing.
    expect(json<{ status: string }>(pki(['generate', 'web', 'main', '--profile', 'web', '--client', 'alice', '--dir', ca, '--json'])).status).toBe('up-to-date');
  });

  it('sign --profile web: a request from openssl gets exactly the profile fields (its own O replaced)', () => {
    const csr = join(work, 'shop.csr');
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(work, 'shop.key'), '-out', csr, '-subj', '/O=Someone Else/CN=shop.acme.internal', '-addext', 'subjectAltName=DNS:shop.acme.internal']);
    const out = join(work, 'shop.crt');
    expect(pki(['sign', csr, '--profile', 'web', '--out', out, '--dir', ca]).code).toBe(0);
    expectWebProfile(out, 'shop.acme.internal', ['shop.acme.internal', 'extra.acme.internal'], []);
    expect(inventory(ca, `SELECT profile, profile_name, certificate_path FROM certificates WHERE certificate_path = '${out}'`)).toEqual([{ profile: 'server', profile_name: 'web', certificate_path: out }]);
  });

  it('renew keeps the profile (same fields, recorded again); renew --profile api switches it', () => {
    const out = join(work, 'shop.crt');
    expect(pki(['renew', out, '--force', '--dir', ca]).code).toBe(0);
    expectWebProfile(out, 'shop.acme.internal', ['shop.acme.internal', 'extra.acme.internal'], []);
    const valid = `SELECT profile, profile_name FROM certificates WHERE certificate_path = '${out}' AND status = 'valid'`;
    expect(inventory(ca, valid)).toEqual([{ profile: 'server', profile_name: 'web' }]);

    // A switch renews even when not due (no --force), and takes the new profile's fields and lifetime.
    expect(pki(['renew', out, '--profile', 'api', '--dir', ca]).code).toBe(0);
    const p = pyca(out);
    expect(p).toMatchObject({ keyUsage: ['digital_signature'], eku: ['serverAuth', 'clientAuth'], subject: { CN: 'shop.acme.internal' }, lifetime: 10 * DAY + 60 });
    expect(p.crl).toEqual(['http://crl.acme.example/top.crl']);
    expect(p.ocsp).toEqual(['http://ocsp.acme.example/top']);
    expect(p.caIssuers).toEqual(['http://pki.acme.example/top-issuer.der']);
    expect(ext(out, 'authorityInfoAccess')).toMatch(/OCSP - URI:http:\/\/ocsp\.acme\.example\/top\n\s+CA Issuers - URI:http:\/\/pki\.acme\.example\/top-issuer\.der/);
    expect(inventory(ca, valid)).toEqual([{ profile: 'peer', profile_name: 'api' }]);
    // …and keeps the new one afterwards.
    expect(pki(['renew', out, '--force', '--dir', ca]).code).toBe(0);
    expect(pyca(out).eku).toEqual(['serverAuth', 'clientAuth']);
    expect(inventory(ca, valid)).toEqual([{ profile: 'peer', profile_name: 'api' }]);
  });

  it('renew of a bundle certificate keeps its profile and the web fields', () => {
    const cert = join(ca, 'services', 'web', 'main', 'certs', 'web.crt');
    expect(pki(['renew', cert, '--force', '--dir', ca]).code).toBe(0);
    expectWebProfile(cert, 'web', ['web', 'localhost', 'extra.acme.internal'], ['127.0.0.1', '::1']);
  });
});

describe('records from before schema v6', () => {
  it('a certificate recorded without a profile name renews with its role, and the migration adds the column', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--no-client', '--dir', dir]).code).toBe(0);
    // What pki wrote at schema v5: no profile_name column.
    const db = new Database(join(dir, 'db', 'pki.sqlite'));
    db.exec('ALTER TABLE certificates DROP COLUMN profile_name; PRAGMA user_version = 5;');
    db.close();
    const cert = join(dir, 'services', 'redis', 'main', 'certs', 'redis.crt');
    expect(pki(['renew', cert, '--force', '--dir', dir]).code).toBe(0);
    expect(pyca(cert).eku).toEqual(['serverAuth', 'clientAuth']);
    expect(inventory(dir, 'PRAGMA user_version')).toEqual([{ user_version: 8 }]);
    expect(inventory(dir, `SELECT profile, profile_name, status FROM certificates WHERE profile = 'peer' ORDER BY status DESC`)).toEqual([
      { profile: 'peer', profile_name: 'peer', status: 'valid' },
      { profile: 'peer', profile_name: null, status: 'superseded' },
    ]);
  });
});

describe('refusals', () => {
  it('an unknown profile name is refused by generate, sign and renew, listing the known ones (exit 2), nothing changed', () => {
    const before = snapshotTree(ca);
    const csr = join(work, 'shop.csr');
    for (const args of [
      ['generate', 'other', 'main', '--profile', 'wbe'],
      ['sign', csr, '--profile', 'wbe'],
      ['renew', join(work, 'shop.crt'), '--profile', 'wbe'],
    ]) {
      const line = expectCliError(pki([...args, '--dir', ca, '--json']), 'ERR_USAGE', 2);
      expect(line).toContain('unknown profile "wbe"; known profiles: api, client, peer, server, web');
    }
    // --profile switches one certificate: with --all it is a usage error.
    expect(expectCliError(pki(['renew', '--all', '--profile', 'web', '--dir', ca, '--json']), 'ERR_USAGE', 2)).toContain('--profile switches one certificate');
    expect(snapshotTree(ca)).toBe(before);
  });

  it('a SAN outside requiredSanPatterns, or a key of another type, is refused before anything is signed', () => {
    const before = snapshotTree(ca);
    const csr = join(work, 'evil.csr');
    peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(work, 'evil.key'), '-out', csr, '-subj', '/CN=evil.example.com', '-addext', 'subjectAltName=DNS:evil.example.com']);
    const line = expectCliError(pki(['sign', csr, '--profile', 'web', '--out', join(work, 'evil.crt'), '--dir', ca, '--json']), 'ERR_POLICY');
    expect(line).toContain('SAN evil.example.com matches none of profile "web"\'s requiredSanPatterns');
    const rsa = join(work, 'rsa.csr');
    peer('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'rsa.key'), '-out', rsa, '-subj', '/CN=rsa.acme.internal', '-addext', 'subjectAltName=DNS:rsa.acme.internal']);
    expect(expectCliError(pki(['sign', rsa, '--profile', 'web', '--out', join(work, 'rsa.crt'), '--dir', ca, '--json']), 'ERR_POLICY')).toContain('profile "web" takes EC P-384');
    expect(expectCliError(pki(['generate', 'other', 'main', '--profile', 'web', '--dir', ca, '--json']), 'ERR_POLICY')).toContain('SAN other matches none');
    expect(snapshotTree(ca)).toBe(before);
  });
});
