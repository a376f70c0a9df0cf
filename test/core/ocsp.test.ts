/**
 * core/ocsp, pure: request parsing (strict DER, bounds, the nonce), the GET path decoding, CertID matching,
 * and the responses — read back by openssl (`openssl ocsp -respin`), not by our own parser.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explicit, integer, nullValue, octetString, oid, sequence } from '../../src/core/der/writer.js';
import { buildOcspResponse, certIdMatches, decodeGetRequest, issuerHashes, MAX_REQUESTS, ocspErrorResponse, OID_OCSP_NONCE, parseOcspRequest } from '../../src/core/ocsp/index.js';
import { encodeSubjectName } from '../../src/core/x509/names.js';
import { requirePeer } from '../helpers/peers.js';

const SHA1 = '1.3.14.3.2.26';
const issuerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const issuerSubject = encodeSubjectName({ commonName: 'Test Intermediate' });
const issuerSpki = issuerKey.publicKey.export({ type: 'spki', format: 'der' });
const hashes = issuerHashes(issuerSubject, issuerSpki);

function certId(serial: number, alg = SHA1, params = true): Buffer {
  const h = hashes.get(alg)!;
  return sequence(params ? sequence(oid(alg), nullValue()) : sequence(oid(alg)), octetString(h.nameHash), octetString(h.keyHash), integer(serial));
}
const nonceExt = (value: Buffer) => explicit(2, sequence(sequence(oid(OID_OCSP_NONCE), octetString(value))));
const request = (ids: Buffer[], ...rest: Buffer[]) => sequence(sequence(sequence(...ids.map((id) => sequence(id))), ...rest));

describe('parseOcspRequest', () => {
  it('reads the CertIDs (serials in the inventory form) and the nonce', () => {
    const nonce = octetString(Buffer.alloc(16, 7));
    const r = parseOcspRequest(request([certId(0x0102), certId(255, SHA1, false)], nonceExt(nonce)));
    expect(r.certIds.map((c) => c.serial)).toEqual(['102', 'FF']);
    expect(r.certIds.every((c) => certIdMatches(c, hashes))).toBe(true);
    expect(Buffer.from(r.nonce!)).toEqual(nonce);
  });

  it('ignores nonces longer than 32 octets (RFC 8954 §2.1) and matches no foreign issuer', () => {
    expect(parseOcspRequest(request([certId(1)], nonceExt(octetString(Buffer.alloc(33))))).nonce).toBeNull();
    const other = issuerHashes(encodeSubjectName({ commonName: 'Other' }), issuerSpki);
    expect(certIdMatches(parseOcspRequest(request([certId(1)])).certIds[0]!, other)).toBe(false);
  });

  it('refuses garbage, trailing bytes, empty and oversized request lists, BER lengths', () => {
    const good = request([certId(1)]);
    const bad = [
      Buffer.from('not DER'),
      Buffer.alloc(0),
      Buffer.concat([good, Buffer.from([0])]),
      request([]),
      request(Array.from({ length: MAX_REQUESTS + 1 }, (_, i) => certId(i + 1))),
      Buffer.from([0x30, 0x80, 0x00, 0x00]),
      sequence(sequence(sequence(sequence(sequence(oid(SHA1)))))),
    ];
    for (const der of bad) {
      let code: string | undefined;
      try {
        parseOcspRequest(der);
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe('ERR_MALFORMED_DER');
    }
  });
});

describe('decodeGetRequest', () => {
  it('accepts URL-encoded, raw and base64url forms of the same request', () => {
    const der = request([certId(0xfbff)]);
    const b64 = der.toString('base64');
    for (const text of [encodeURIComponent(b64), b64, der.toString('base64url')]) expect(Buffer.from(decodeGetRequest(text))).toEqual(der);
  });
  it('refuses what is not base64', () => {
    for (const text of ['', '%E0%A4%A', '!!!', 'a b?c']) expect(() => decodeGetRequest(text)).toThrow();
  });
});

describe('responses, read by openssl', () => {
  const work = mkdtempSync(join(tmpdir(), 'pki-ocsp-core-'));
  const text = (der: Buffer) => {
    const file = join(work, 'r.der');
    writeFileSync(file, der);
    const r = spawnSync(requirePeer('openssl'), ['ocsp', '-respin', file, '-resp_text', '-noverify'], { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`;
  };

  it('error responses carry only their status', () => {
    expect(text(ocspErrorResponse('unauthorized'))).toMatch(/unauthorized \(6\)/);
    expect(text(ocspErrorResponse('internalError'))).toMatch(/internalerror \(2\)/i);
  });

  it('a BasicOCSPResponse with good, revoked (reason, time) and unknown, the nonce echoed', () => {
    const at = new Date('2026-06-01T12:00:00Z');
    const now = new Date('2026-06-02T00:00:00Z');
    const next = new Date('2026-06-03T00:00:00Z');
    const nonce = octetString(Buffer.alloc(16, 0xab));
    const der = buildOcspResponse({
      signer: { subjectDer: issuerSubject, privateKey: issuerKey.privateKey, certificates: [] },
      producedAt: now,
      responses: [
        { certIdDer: certId(1), status: { kind: 'good' }, thisUpdate: now, nextUpdate: next },
        { certIdDer: certId(2), status: { kind: 'revoked', at, reason: 'keyCompromise' }, thisUpdate: now, nextUpdate: next },
        { certIdDer: certId(3), status: { kind: 'unknown' }, thisUpdate: now, nextUpdate: next },
      ],
      nonce,
    });
    const out = text(der);
    expect(out).toMatch(/Responder Id: CN = Test Intermediate/);
    expect(out).toMatch(/Cert Status: good/);
    expect(out).toMatch(/Cert Status: revoked\s+Revocation Time: Jun  1 12:00:00 2026 GMT\s+Revocation Reason: keyCompromise/);
    expect(out).toMatch(/Cert Status: unknown/);
    expect(out).toMatch(/Next Update: Jun  3 00:00:00 2026 GMT/);
    expect(out).toMatch(/OCSP Nonce:\s*\n\s*0410ABABABAB/);
    expect(out).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
  });
});
