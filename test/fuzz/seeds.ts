/**
 * Real inputs the fuzz suites mutate: what openssl and ssh-keygen made (fixtures/) and what pki's own core
 * makes, each with the key that verifies its signature, so a mutation that still verifies can be caught.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { issuerFromCertificate } from '../../src/core/x509/issuer.js';
import { parseCertificate } from '../../src/core/x509/certificate-fields.js';
import { buildCrl } from '../../src/core/x509/crl.js';
import { buildCsr, parseCsr } from '../../src/core/x509/csr.js';
import { encryptPrivateKey } from '../../src/core/keys/encryption.js';
import { parseSans } from '../../src/core/x509/names.js';
import { decodePem } from '../../src/core/der/pem.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { encodeSshPublicKey, issueSshCertificate, parseSshPublicKey } from '../../src/core/ssh/index.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const fixture = (path: string): Buffer => readFileSync(join(FIXTURES, path));
const pemDer = (path: string): Uint8Array => decodePem(fixture(path).toString('latin1'))[0]!.der;

export interface SignedSeed {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The key that verifies the seed's signature. */
  readonly verifier: KeyObject;
}

export interface KeySeed {
  readonly name: string;
  /** The PEM label inspect would route the DER by. */
  readonly label: string;
  readonly bytes: Uint8Array;
}

const NOW = new Date('2030-06-01T00:00:00Z');
const DAY = 86_400_000;

const ecRoot = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaIntermediate = generateKeyPairSync('rsa', { modulusLength: 2048 });
const edLeaf = generateKeyPairSync('ed25519');
const p384Leaf = generateKeyPairSync('ec', { namedCurve: 'P-384' });

function pkiCertificates(): SignedSeed[] {
  const root = issueCertificate({
    serial: '4A0B1C2D3E4F50617283940516273849',
    subject: { commonName: 'Fuzz Root CA', organization: 'pki fuzz, "quoted" + <escaped>' },
    sans: [],
    profile: PROFILES.root,
    publicKey: ecRoot.publicKey,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + 3650 * DAY),
    issuer: 'self',
    selfSigningKey: ecRoot.privateKey,
  });
  const rootIssuer = issuerFromCertificate(root, ecRoot.privateKey, NOW);
  const intermediate = issueCertificate({
    serial: '5A0B1C2D3E4F50617283940516273849',
    subject: { commonName: 'Fuzz Intermediate CA — ünïcode' },
    sans: [],
    profile: PROFILES.intermediate,
    publicKey: rsaIntermediate.publicKey,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + 1000 * DAY),
    issuer: rootIssuer,
  });
  const intermediateIssuer = issuerFromCertificate(intermediate, rsaIntermediate.privateKey, NOW);
  const leaf = (publicKey: KeyObject, issuer: typeof rootIssuer, sans: string[], profile: typeof PROFILES.server) =>
    issueCertificate({
      serial: '6A0B1C2D3E4F50617283940516273849',
      subject: { commonName: sans[0] ?? '' },
      sans: parseSans(sans),
      profile,
      publicKey,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 90 * DAY),
      issuer,
      crlDistributionPoints: ['http://crl.example.com/intermediate.crl'],
      ocspUrls: ['http://ocsp.example.com'],
    });
  return [
    { name: 'pki root (P-256)', bytes: root, verifier: ecRoot.publicKey },
    { name: 'pki intermediate (RSA, signed by P-256)', bytes: intermediate, verifier: ecRoot.publicKey },
    {
      name: 'pki server leaf (Ed25519, signed by RSA)',
      bytes: leaf(edLeaf.publicKey, intermediateIssuer, ['api.example.com', '*.api.example.com', '10.0.0.1', '2001:db8::1', 'ops@example.com', 'spiffe://example.com/api'], PROFILES.server),
      verifier: rsaIntermediate.publicKey,
    },
    { name: 'pki peer leaf (P-384, signed by P-256)', bytes: leaf(p384Leaf.publicKey, rootIssuer, ['db.internal'], PROFILES.peer), verifier: ecRoot.publicKey },
  ];
}

function opensslCertificates(): SignedSeed[] {
  const rsa = fixture('x509/openssl-rsa.der');
  const ec = pemDer('x509/openssl-ec384.crt');
  const ownKey = (der: Uint8Array) => createPublicKey({ key: Buffer.from(parseCertificate(der).spkiDer), format: 'der', type: 'spki' });
  return [
    { name: 'openssl RSA self-signed', bytes: rsa, verifier: ownKey(rsa) },
    { name: 'openssl P-384 self-signed', bytes: ec, verifier: ownKey(ec) },
  ];
}

function csrs(): SignedSeed[] {
  const opensslCsr = pemDer('x509/openssl-ec384.csr');
  // The unmutated seed parses; the mutated copies are what is under test.
  const opensslKey = createPublicKey({ key: Buffer.from(parseCsr(opensslCsr).spkiDer), format: 'der', type: 'spki' });
  const make = (pair: { privateKey: KeyObject; publicKey: KeyObject }, sans: string[]) =>
    buildCsr({ subject: { commonName: sans[0] ?? 'x', organization: 'Fuzz' }, sans: parseSans(sans), privateKey: pair.privateKey });
  return [
    { name: 'openssl P-384 CSR', bytes: opensslCsr, verifier: opensslKey },
    { name: 'pki P-256 CSR', bytes: make(ecRoot, ['a.example.com', '192.0.2.1']), verifier: ecRoot.publicKey },
    { name: 'pki RSA CSR', bytes: make(rsaIntermediate, ['b.example.com', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66']), verifier: rsaIntermediate.publicKey },
    { name: 'pki Ed25519 CSR', bytes: make(edLeaf, ['c.example.com', 'me@example.com']), verifier: edLeaf.publicKey },
  ];
}

function crls(pki: SignedSeed[]): SignedSeed[] {
  const caPem = fixture('crl/ca.pem').toString('latin1');
  const caDer = decodePem(caPem)[0]!.der;
  const opensslCrl = fixture('crl/openssl-ca.crl');
  const opensslCrlDer = opensslCrl[0] === 0x30 ? opensslCrl : decodePem(opensslCrl.toString('latin1'))[0]!.der;
  const caKey = createPublicKey({ key: Buffer.from(parseCertificate(caDer).spkiDer), format: 'der', type: 'spki' });
  const [rootDer, intermediateDer] = [pki[0]!.bytes, pki[1]!.bytes];
  const entries = [
    { serialHex: '01', revokedAt: NOW, reason: 'keyCompromise' as const },
    { serialHex: '7F3A09B1C2D3E4F5A6B7C8D9E0F1A2B3', revokedAt: new Date('2049-12-31T23:59:59Z') },
    { serialHex: '00FF', revokedAt: new Date('2050-01-01T00:00:00Z'), reason: 'superseded' as const },
  ];
  return [
    { name: 'openssl CRL', bytes: opensslCrlDer, verifier: caKey },
    {
      name: 'pki CRL (P-256, 3 entries)',
      bytes: buildCrl({ issuerCertificateDer: rootDer, issuerPrivateKey: ecRoot.privateKey, entries, crlNumber: 7n, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 7 * DAY) }),
      verifier: ecRoot.publicKey,
    },
    {
      name: 'pki CRL (RSA, empty)',
      bytes: buildCrl({
        issuerCertificateDer: intermediateDer,
        issuerPrivateKey: rsaIntermediate.privateKey,
        entries: [],
        crlNumber: 2n ** 150n,
        thisUpdate: NOW,
        nextUpdate: new Date(NOW.getTime() + 7 * DAY),
      }),
      verifier: rsaIntermediate.publicKey,
    },
  ];
}

let x509Cache: { certificates: SignedSeed[]; csrs: SignedSeed[]; crls: SignedSeed[]; keys: KeySeed[] } | undefined;

/** Certificates, CSRs, CRLs and keys (built once per worker). */
export async function x509Seeds(): Promise<NonNullable<typeof x509Cache>> {
  if (x509Cache) return x509Cache;
  const pki = pkiCertificates();
  const certificates = [...pki, ...opensslCertificates()];
  const der = (k: KeyObject, type: 'pkcs8' | 'spki' | 'sec1' | 'pkcs1') =>
    k.export({ type, format: 'der' } as never) as unknown as Buffer;
  const keys: KeySeed[] = [
    { name: 'P-256 PKCS#8', label: 'PRIVATE KEY', bytes: der(ecRoot.privateKey, 'pkcs8') },
    { name: 'P-256 SEC1', label: 'EC PRIVATE KEY', bytes: der(ecRoot.privateKey, 'sec1') },
    { name: 'RSA PKCS#1 private', label: 'RSA PRIVATE KEY', bytes: der(rsaIntermediate.privateKey, 'pkcs1') },
    { name: 'RSA PKCS#1 public', label: 'RSA PUBLIC KEY', bytes: der(rsaIntermediate.publicKey, 'pkcs1') },
    { name: 'Ed25519 PKCS#8', label: 'PRIVATE KEY', bytes: der(edLeaf.privateKey, 'pkcs8') },
    { name: 'P-384 SPKI', label: 'PUBLIC KEY', bytes: der(p384Leaf.publicKey, 'spki') },
    {
      name: 'Ed25519 PBES2 (pki)',
      label: 'ENCRYPTED PRIVATE KEY',
      bytes: await encryptPrivateKey(edLeaf.privateKey, { passphrase: Buffer.from('fuzz'), iterations: 1000 }),
    },
  ];
  x509Cache = { certificates, csrs: csrs(), crls: crls(pki), keys };
  return x509Cache;
}

export interface SshSeed {
  readonly name: string;
  /** The `.pub` / `-cert.pub` line. */
  readonly line: string;
  /** The wire blob inside it. */
  readonly bytes: Uint8Array;
}

/** OpenSSH public keys and certificates: ssh-keygen's (fixtures/ssh) and pki's own. */
export function sshSeeds(): { publicKeys: SshSeed[]; certificates: SshSeed[] } {
  const seed = (name: string, line: string): SshSeed => ({ name, line: line.trim(), bytes: Buffer.from(line.trim().split(/\s+/)[1]!, 'base64') });
  const file = (name: string) => seed(`ssh-keygen ${name}`, fixture(`ssh/${name}`).toString('utf8'));
  // SSH CAs need RSA ≥ 3072 (ca-key.ts), so the RSA CA here is its own key.
  const caKeys = [
    ecRoot.privateKey,
    edLeaf.privateKey,
    generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
    generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
  ];
  const pkiCertificates = caKeys.map((ca, i) => {
    const subject = caKeys[(i + 1) % caKeys.length]!;
    const cert = issueSshCertificate({
      publicKey: parseSshPublicKey(encodeSshPublicKey(subject, 'fuzz subject')),
      caPrivateKey: ca,
      certType: i % 2 === 0 ? 'user' : 'host',
      serial: 0x0123_4567_89ab_cdefn + BigInt(i),
      keyId: `fuzz-${i}`,
      principals: i % 2 === 0 ? ['alice', 'deploy'] : ['host.example.com', '10.0.0.5'],
      validAfter: NOW,
      validBefore: new Date(NOW.getTime() + DAY),
      ...(i % 2 === 0 ? { criticalOptions: { forceCommand: '/usr/bin/true', sourceAddress: ['10.0.0.0/8', '2001:db8::/32'] } } : {}),
      extensions: i % 2 === 0 ? ['permit-pty', 'permit-agent-forwarding'] : [],
      nonce: Buffer.alloc(32, i + 1),
    });
    return seed(`pki certificate #${i}`, cert.line);
  });
  return {
    publicKeys: [
      ...['ca_ecdsa384.pub', 'ca_ed25519.pub', 'ca_rsa3072.pub', 'host_ecdsa256.pub', 'user_ed25519.pub', 'rsa1024.pub', 'dsa.pub'].map(file),
      seed('pki P-521 key', encodeSshPublicKey(caKeys[3]!, 'p521')),
    ],
    certificates: [...['user_ed25519-cert.pub', 'host_ecdsa256-cert.pub', 'forever_ed25519-cert.pub'].map(file), ...pkiCertificates],
  };
}

export const SEED_NOW = NOW;
export { ecRoot, rsaIntermediate, edLeaf, p384Leaf };
