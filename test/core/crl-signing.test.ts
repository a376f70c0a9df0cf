/**
 * Issue 10 point 3: a CRL is signed with the same signature-algorithm table as certificates and CSRs
 * (core/keys/signature.ts), P-521 included, and its AKI is the issuer's SKI — which for a pki CA is the
 * SHA-256 key identifier (RFC 7093 method 1), never a SHA-1 one. Checked with `openssl crl -verify`.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, keyIdentifierOf } from '../../src/core/x509/certificate.js';
import { buildCrl } from '../../src/core/x509/crl.js';
import { inspectCertificate } from '../../src/core/inspect/certificate.js';
import { inspectCrl } from '../../src/core/inspect/crl.js';
import { buildCsr } from '../../src/core/x509/csr.js';
import { spkiDer } from '../../src/core/keys/keys.js';
import { encodePem } from '../../src/core/der/pem.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { tempDir } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';

let work: string;
beforeAll(() => {
  work = tempDir('pki-crl-signing-');
});

const now = new Date();
const validity = { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) };

const ISSUERS: [string, () => KeyObject, string][] = [
  ['EC P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ecdsa-with-SHA256'],
  ['EC P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ecdsa-with-SHA384'],
  ['EC P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, 'ecdsa-with-SHA512'],
  ['RSA 2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'sha256WithRSAEncryption'],
  ['Ed25519', () => generateKeyPairSync('ed25519').privateKey, 'Ed25519'],
];

describe('CRLs are signed like certificates', () => {
  it.each(ISSUERS)('%s issuer: the CRL carries the certificate\'s algorithm, AKI = SKI = SHA-256 key id, openssl crl -verify OK', (name, makeKey, algorithm) => {
    const key = makeKey();
    const caDer = issueCertificate({ serial: '51', subject: { commonName: `${name} CA` }, sans: [], profile: PROFILES.root, publicKey: key, ...validity, issuer: 'self', selfSigningKey: key });
    const crlDer = buildCrl({ issuerCertificateDer: caDer, issuerPrivateKey: key, entries: [{ serialHex: '77', revokedAt: now, reason: 'keyCompromise' }], crlNumber: 3n, thisUpdate: validity.notBefore, nextUpdate: validity.notAfter });
    const ca = inspectCertificate(caDer);
    const crl = inspectCrl(crlDer);
    expect(ca.signatureAlgorithm).toBe(algorithm);
    expect(crl.signatureAlgorithm).toBe(algorithm);
    // The same table signs CSRs.
    expect(inspectCsrAlgorithm(buildCsr({ privateKey: key, subject: { commonName: 'csr' }, sans: [] }))).toBe(algorithm);
    const ski = ca.subjectKeyIdentifier!.replace(/:/g, '').toUpperCase();
    expect(ski).toBe(keyIdentifierOf(spkiDer(key)).toString('hex').toUpperCase());
    expect(crl.authorityKeyIdentifier?.replace(/:/g, '').toUpperCase()).toBe(ski);
    const caFile = join(work, `${name.replace(/ /g, '-')}.crt`);
    const crlFile = join(work, `${name.replace(/ /g, '-')}.crl`);
    writeFileSync(caFile, encodePem('CERTIFICATE', caDer));
    writeFileSync(crlFile, encodePem('X509 CRL', crlDer));
    const v = runPeer('openssl', ['crl', '-in', crlFile, '-CAfile', caFile, '-noout']);
    expect([v.status, (v.stdout + v.stderr).trim()]).toEqual([0, 'verify OK']);
    const text = runPeer('openssl', ['crl', '-in', crlFile, '-noout', '-text']).stdout;
    expect(text.replace(/\s+/g, ' ')).toContain(`Authority Key Identifier: ${ski.match(/../g)!.join(':')}`);
  });
});

/** The signatureAlgorithm OID name of a CSR, read with openssl (pki has no CSR report). */
function inspectCsrAlgorithm(csrDer: Uint8Array): string {
  const file = join(work, `csr-${Math.random().toString(36).slice(2)}.csr`);
  writeFileSync(file, encodePem('CERTIFICATE REQUEST', csrDer));
  const text = runPeer('openssl', ['req', '-in', file, '-noout', '-text']).stdout;
  const name = /Signature Algorithm: (\S+)/.exec(text)![1]!;
  return name === 'ED25519' ? 'Ed25519' : name;
}
