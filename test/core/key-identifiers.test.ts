/**
 * Issue 9 point 13: key identifiers. A new certificate's SKI is RFC 7093 §2 method 1 exactly (the leftmost
 * 160 bits of SHA-256 over the subjectPublicKey bits), checked against openssl's own DER of the key; every
 * AKI (certificates and CRLs) is copied from the issuer certificate's SKI, whatever value that has, so a CA
 * made by another tool or an older pki keeps chaining; an issuer without an SKI yields no AKI.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { buildCrl } from '../../src/core/x509/crl.js';
import { childrenOf, readRootTlv } from '../../src/core/der/reader.js';
import { inspectCertificate } from '../../src/core/inspect/certificate.js';
import { inspectCrl } from '../../src/core/inspect/crl.js';
import { issuerFromCertificate } from '../../src/core/x509/issuer.js';
import { generateKeyPair, resolveKeySpec } from '../../src/core/keys/keys.js';
import { parseSans } from '../../src/core/x509/names.js';
import { decodePem, encodePem } from '../../src/core/der/pem.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { tempDir } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';

let work: string;
beforeAll(() => {
  work = tempDir('pki-keyid-');
});

const now = new Date();
const validity = { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) };

/** Method 1 as the brief spells it with openssl: `x509 -pubkey | pkey -pubin -outform DER`, strip the SPKI header, SHA-256, 20 bytes. */
function opensslMethod1(certFile: string): string {
  const pub = join(work, `pub-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(pub, peer('openssl', ['x509', '-in', certFile, '-noout', '-pubkey']));
  const der = join(work, `pub-${Math.random().toString(36).slice(2)}.der`);
  peer('openssl', ['pkey', '-pubin', '-in', pub, '-outform', 'DER', '-out', der]);
  const bytes = readFileSync(der);
  const [, bits] = childrenOf(bytes, readRootTlv(bytes));
  // BIT STRING value without tag, length and the unused-bits octet.
  const keyBits = bytes.subarray(bits!.start + bits!.headerLength + 1, bits!.end);
  return createHash('sha256').update(keyBits).digest('hex').slice(0, 40).toUpperCase();
}

const skiOf = (certFile: string) => /Subject Key Identifier: ?\n\s+([0-9A-F:]+)/.exec(peer('openssl', ['x509', '-in', certFile, '-noout', '-text']))![1]!.replace(/:/g, '');
const akiOf = (certFile: string) => /Authority Key Identifier: ?\n\s+(?:keyid:)?([0-9A-F:]+)/.exec(peer('openssl', ['x509', '-in', certFile, '-noout', '-text']))?.[1]?.replace(/:/g, '') ?? null;

describe('subject key identifier: RFC 7093 method 1', () => {
  it.each([
    ['EC P-256', { kty: 'EC', crv: 'P-256' }],
    ['EC P-384', { kty: 'EC', crv: 'P-384' }],
    ['RSA 2048', { kty: 'RSA', size: 2048 }],
    ['Ed25519', { kty: 'OKP', crv: 'Ed25519' }],
  ] as const)('%s: the SKI openssl shows is SHA-256 of the subjectPublicKey bits, first 20 bytes', async (_name, spec) => {
    const keys = await generateKeyPair(resolveKeySpec(spec));
    const der = issueCertificate({ serial: '4B', subject: { commonName: 'ski' }, sans: [], profile: PROFILES.root, publicKey: keys.publicKey, ...validity, issuer: 'self', selfSigningKey: keys.privateKey });
    const file = join(work, `ski-${spec.kty}-${'crv' in spec ? spec.crv : spec.size}.crt`);
    writeFileSync(file, encodePem('CERTIFICATE', der));
    expect(skiOf(file)).toBe(opensslMethod1(file));
    expect(inspectCertificate(der).subjectKeyIdentifier?.toUpperCase().replace(/:/g, '')).toBe(opensslMethod1(file));
  });
});

/** An openssl root, and an intermediate it signs whose SKI is `ski` (hex, or "none"). */
function opensslHierarchy(name: string, ski: string): { dir: string; root: string; intermediate: string; intermediateKey: string } {
  const dir = join(work, name);
  mkdirSync(dir);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const root = join(dir, 'root.crt');
  peer('openssl', ['req', '-x509', ...ec, '-keyout', join(dir, 'root.key'), '-out', root, '-subj', `/CN=${name} root`, '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, `basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=${ski}\nauthorityKeyIdentifier=keyid\n`);
  const intermediateKey = join(dir, 'intermediate.key');
  peer('openssl', ['req', ...ec, '-keyout', intermediateKey, '-out', join(dir, 'intermediate.csr'), '-subj', `/CN=${name} intermediate`]);
  const intermediate = join(dir, 'intermediate.crt');
  peer('openssl', ['x509', '-req', '-in', join(dir, 'intermediate.csr'), '-CA', root, '-CAkey', join(dir, 'root.key'), '-set_serial', '0x1234', '-days', '20', '-extfile', ext, '-out', intermediate]);
  return { dir, root, intermediate, intermediateKey };
}

/** Signs a leaf and a CRL revoking serial 0x77 with pki's core, from the openssl intermediate. */
async function signWithPki(h: ReturnType<typeof opensslHierarchy>): Promise<{ leaf: string; crl: string; crlDer: Uint8Array }> {
  const intermediateDer = decodePem(readFileSync(h.intermediate, 'utf8'))[0]!.der;
  const key = createPrivateKey(readFileSync(h.intermediateKey));
  const issuer = issuerFromCertificate(intermediateDer, key, new Date()); // after openssl's notBefore
  const leafKeys = await generateKeyPair({ kty: 'EC', crv: 'P-256' });
  const der = issueCertificate({ serial: '4C', subject: { commonName: 'leaf.example' }, sans: parseSans(['leaf.example']), profile: PROFILES.server, publicKey: leafKeys.publicKey, ...validity, issuer });
  const leaf = join(h.dir, 'leaf.crt');
  writeFileSync(leaf, encodePem('CERTIFICATE', der));
  const crlDer = buildCrl({ issuerCertificateDer: intermediateDer, issuerPrivateKey: key, entries: [{ serialHex: '77', revokedAt: now }], crlNumber: 1n, ...{ thisUpdate: validity.notBefore, nextUpdate: validity.notAfter } });
  const crl = join(h.dir, 'intermediate.crl');
  writeFileSync(crl, encodePem('X509 CRL', crlDer));
  return { leaf, crl, crlDer };
}

describe('authority key identifiers are copied from the issuer certificate', () => {
  it('an intermediate whose SKI is an arbitrary value (another tool, an older pki): leaf and CRL AKI equal it, openssl verify -crl_check passes', async () => {
    const h = opensslHierarchy('arbitrary', '00112233445566778899AABBCCDDEEFF01');
    expect(skiOf(h.intermediate)).toBe('00112233445566778899AABBCCDDEEFF01');
    const { leaf, crl, crlDer } = await signWithPki(h);
    expect(akiOf(leaf)).toBe('00112233445566778899AABBCCDDEEFF01');
    expect(inspectCrl(crlDer).authorityKeyIdentifier?.toUpperCase()).toBe('00112233445566778899AABBCCDDEEFF01');
    const chain = join(h.dir, 'chain.pem');
    writeFileSync(chain, readFileSync(h.intermediate, 'utf8'));
    const v = runPeer('openssl', ['verify', '-CAfile', h.root, '-untrusted', chain, '-CRLfile', crl, '-crl_check', leaf]);
    expect(v.stdout + v.stderr).toBe(`${leaf}: OK\n`);
  });

  it('an intermediate without an SKI: the leaf and the CRL carry no AKI (nothing recomputed), openssl verify -crl_check passes', async () => {
    const h = opensslHierarchy('no-ski', 'none');
    expect(peer('openssl', ['x509', '-in', h.intermediate, '-noout', '-text'])).not.toContain('Subject Key Identifier');
    const { leaf, crl, crlDer } = await signWithPki(h);
    expect(akiOf(leaf)).toBeNull();
    expect(inspectCrl(crlDer).authorityKeyIdentifier).toBeNull();
    const v = runPeer('openssl', ['verify', '-CAfile', h.root, '-untrusted', h.intermediate, '-CRLfile', crl, '-crl_check', leaf]);
    expect(v.stdout + v.stderr).toBe(`${leaf}: OK\n`);
  });
});
