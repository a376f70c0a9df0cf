/**
 * readCrlTimes (issue 9, point 16): the dates `crl --if-due` and `renew --all` decide on, read from the
 * TBSCertList head only — from the whole CRL, or from its first bytes (`prefix`), without the entries.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/core/x509/certificate.js';
import { buildCrl, readCrlTimes, type CrlEntry } from '../../src/core/x509/crl.js';
import { PROFILES } from '../../src/core/x509/profiles.js';
import { expectPkiError } from '../helpers/errors.js';

const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const thisUpdate = new Date('2030-01-01T00:00:00Z');
const nextUpdate = new Date('2030-01-08T00:00:00Z');
const issuer = issueCertificate({
  serial: '01',
  subject: { commonName: 'Times Test CA' },
  sans: [],
  profile: PROFILES.root,
  publicKey: key.publicKey,
  notBefore: thisUpdate,
  notAfter: new Date('2040-01-01T00:00:00Z'),
  issuer: 'self',
  selfSigningKey: key.privateKey,
});

function* entries(n: number): Generator<CrlEntry> {
  for (let i = 1; i <= n; i++) yield { serialHex: (0x100000 + i).toString(16), revokedAt: thisUpdate };
}

const crl = (n: number) => buildCrl({ issuerCertificateDer: issuer, issuerPrivateKey: key.privateKey, entries: entries(n), crlNumber: 1n, thisUpdate, nextUpdate });

describe('readCrlTimes', () => {
  it('reads thisUpdate and nextUpdate of a whole CRL, with and without entries', () => {
    for (const n of [0, 3]) expect(readCrlTimes(crl(n))).toEqual({ thisUpdate, nextUpdate });
  });

  it('reads them from the first bytes of a 10,000-entry CRL (prefix), never touching the entries', () => {
    const der = crl(10_000);
    expect(der.length).toBeGreaterThan(200_000);
    expect(readCrlTimes(der.subarray(0, 200), { prefix: true })).toEqual({ thisUpdate, nextUpdate });
    // Without `prefix`, a cut CRL is refused: its enclosing SEQUENCE claims more than there is.
    expectPkiError(() => readCrlTimes(der.subarray(0, 200)), 'ERR_MALFORMED_DER');
    // A prefix that ends inside nextUpdate is refused too (the caller then decodes the whole file).
    const head = der.subarray(0, 200);
    const cut = head.subarray(0, Buffer.from(head).indexOf(Buffer.from('300108', 'latin1')) + 4);
    expectPkiError(() => readCrlTimes(cut, { prefix: true }), 'ERR_MALFORMED_DER');
  });
});
