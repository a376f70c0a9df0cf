/**
 * Issue 13, done-means 3: `pki serve`'s OCSP responder proven with `openssl ocsp` and curl — good, then
 * revoked (reason and time) within a second of `pki revoke` run as a separate process, unknown for a serial
 * the CA never issued, unauthorized for another issuer; the delegated signer (id-kp-OCSPSigning,
 * ocsp-nocheck) verifies against the root alone; the GET form (Appendix A.1); the nonce echoed; garbage
 * answered with malformedRequest; the cache-age gauge in /metrics.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { issueLeaf } from '../helpers/ocsp.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';

describe('pki serve OCSP (openssl ocsp, curl)', () => {
  let dir: string;
  let server: PkiServe;
  let root: string;
  let intermediate: string;
  let leaf: { cert: string; key: string; serial: string };

  const ocsp = (args: readonly string[]) => {
    const r = runPeer('openssl', ['ocsp', '-issuer', intermediate, '-url', server.ocspUrl, '-CAfile', root, ...args]);
    return `${r.stdout}${r.stderr}`;
  };
  const curl = (args: readonly string[]) => spawnSync(requirePeer('curl'), ['-sS', '--max-time', '10', ...args], { encoding: 'buffer' });

  beforeAll(async () => {
    requirePeer('openssl');
    requirePeer('curl');
    dir = initCa();
    root = join(dir, 'ca', 'root_ca.crt');
    intermediate = join(dir, 'ca', 'intermediate_ca.crt');
    leaf = issueLeaf(dir, 'web.test');
    server = await startPkiServe(dir, { http: true });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('says good, signed by the delegated responder (id-kp-OCSPSigning, ocsp-nocheck) that verifies against the root alone', () => {
    const out = ocsp(['-cert', leaf.cert, '-resp_text']);
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/OCSP Response Status: successful/);
    expect(out).toMatch(/Responder Id: CN = pki serve OCSP responder/);
    expect(out).toMatch(/OCSP Signing/);
    expect(out).toMatch(/OCSP No Check/);
    expect(out).toMatch(new RegExp(`Serial Number: ${leaf.serial}`));
    expect(out).toMatch(/web\.test\.crt: good/);
    expect(out).not.toMatch(/WARNING/);
  });

  it('echoes the nonce openssl sends (and answers -no_nonce from the cache, the same bytes twice)', () => {
    const out = ocsp(['-cert', leaf.cert, '-req_text', '-resp_text']);
    const nonces = [...out.matchAll(/OCSP Nonce:\s*\n\s*([0-9A-F]+)/g)].map((m) => m[1]);
    expect(nonces).toHaveLength(2); // the request's and the response's
    expect(nonces[0]).toBe(nonces[1]);
    expect(out).toMatch(/Response verify OK/);
    const work = join(dir, '..');
    ocsp(['-cert', leaf.cert, '-no_nonce', '-respout', join(work, 'a.der')]);
    const second = ocsp(['-cert', leaf.cert, '-no_nonce', '-respout', join(work, 'b.der'), '-resp_text']);
    expect(second).toMatch(/web\.test\.crt: good/);
    expect(second).not.toMatch(/OCSP Nonce/);
    expect(readFileSync(join(work, 'a.der')).equals(readFileSync(join(work, 'b.der')))).toBe(true);
  });

  it('matches SHA-256 CertIDs as well as SHA-1, and answers several certificates in one request', () => {
    const sha256 = ocsp(['-sha256', '-cert', leaf.cert, '-resp_text']);
    expect(sha256).toMatch(/Hash Algorithm: sha256/);
    expect(sha256).toMatch(/web\.test\.crt: good/);
    expect(sha256).toMatch(/Response verify OK/);
    const other = issueLeaf(dir, 'other.test');
    const both = ocsp(['-cert', leaf.cert, '-cert', other.cert, '-serial', '0x0BADC0DE']);
    expect(both).toMatch(/web\.test\.crt: good/);
    expect(both).toMatch(/other\.test\.crt: good/);
    expect(both).toMatch(/0x0BADC0DE: unknown/);
    expect(both).toMatch(/Response verify OK/);
  });

  it('answers unknown for a serial the CA never issued, and unauthorized for another issuer', () => {
    expect(ocsp(['-serial', '0x1234567890ABCDEF'])).toMatch(/0x1234567890ABCDEF: unknown/);
    const other = runPeer('openssl', ['ocsp', '-issuer', root, '-cert', intermediate, '-url', server.ocspUrl, '-CAfile', root, '-no_nonce']);
    expect(`${other.stdout}${other.stderr}`).toMatch(/Responder Error: unauthorized \(6\)/);
  });

  it('works over GET (RFC 6960 Appendix A.1): URL-encoded and raw base64, with Cache-Control until nextUpdate', () => {
    const work = join(dir, '..');
    const reqFile = join(work, 'get.req');
    peer('openssl', ['ocsp', '-issuer', intermediate, '-cert', leaf.cert, '-no_nonce', '-reqout', reqFile]);
    const b64 = readFileSync(reqFile).toString('base64');
    for (const path of [encodeURIComponent(b64), b64]) {
      const respFile = join(work, 'get.resp');
      const r = curl(['-D', '-', '-o', respFile, `${server.ocspUrl}/${path}`]);
      const head = r.stdout.toString();
      expect(head).toMatch(/^HTTP\/1\.1 200/);
      expect(head).toMatch(/content-type: application\/ocsp-response/i);
      expect(head).toMatch(/cache-control: max-age=\d+/i);
      const out = runPeer('openssl', ['ocsp', '-respin', respFile, '-issuer', intermediate, '-cert', leaf.cert, '-CAfile', root, '-no_nonce']);
      expect(`${out.stdout}${out.stderr}`).toMatch(/Response verify OK/);
      expect(out.stdout).toMatch(/web\.test\.crt: good/);
    }
  });

  it('answers garbage with malformedRequest (200, application/ocsp-response), POST and GET, and keeps serving', () => {
    const work = join(dir, '..');
    const cases = [
      ['-X', 'POST', '-H', 'Content-Type: application/ocsp-request', '--data-binary', 'not an OCSP request', server.ocspUrl],
      ['-X', 'POST', '--data-binary', '\x30\x03\x02\x01\x01', server.ocspUrl],
      [`${server.ocspUrl}/!!notbase64!!`],
      [`${server.ocspUrl}/${Buffer.from('garbage garbage').toString('base64')}`],
    ];
    for (const args of cases) {
      const file = join(work, 'bad.resp');
      const r = curl(['-o', file, '-w', '%{http_code} %{content_type}', ...args]);
      expect(r.stdout.toString()).toBe('200 application/ocsp-response');
      const out = runPeer('openssl', ['ocsp', '-respin', file, '-resp_text', '-noverify']);
      expect(`${out.stdout}${out.stderr}`).toMatch(/Responder Error: malformedrequest \(1\)/i);
    }
    expect(ocsp(['-cert', leaf.cert, '-no_nonce'])).toMatch(/good/);
  });

  it("reports the age of the oldest cached response, and the CRL's nextUpdate, in /metrics", () => {
    const metrics = curl([`${server.httpUrl}/metrics`]).stdout.toString();
    expect(metrics).toMatch(/^# TYPE pki_ocsp_cache_age_seconds gauge$/m);
    expect(Number(/^pki_ocsp_cache_age_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    const crl = peer('openssl', ['crl', '-in', join(dir, 'crl', 'intermediate_ca.crl'), '-noout', '-nextupdate']).trim().replace(/^nextUpdate=/, '');
    expect(Number(/^pki_crl_next_update_timestamp_seconds (\S+)$/m.exec(metrics)?.[1])).toBe(new Date(crl).getTime() / 1000);
  });

  it('says revoked, with the reason and time, within one second of `pki revoke` in another process', () => {
    expect(ocsp(['-cert', leaf.cert, '-no_nonce'])).toMatch(/web\.test\.crt: good/); // cached good
    const before = Math.floor(Date.now() / 1000) * 1000;
    const r = pki(['revoke', '--dir', dir, '--insecure', leaf.cert, '--reason', 'keyCompromise']);
    expect(r.code, r.stderr).toBe(0);
    const revokedAt = Date.now();
    // Queries may say good for up to a second; the first one started a second after the revocation must not.
    let out = '';
    for (;;) {
      const started = Date.now();
      out = ocsp(['-cert', leaf.cert, '-no_nonce', '-resp_text']);
      if (started - revokedAt >= 1000) break;
    }
    expect(out).toMatch(/web\.test\.crt: revoked/);
    expect(out).toMatch(/Reason: keyCompromise/);
    expect(out).toMatch(/Response verify OK/);
    const time = /Revocation Time: (.+ GMT)/.exec(out)?.[1];
    expect(time).toBeDefined();
    const at = new Date(time!).getTime();
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(revokedAt);
    // And with a nonce (signed afresh) too.
    expect(ocsp(['-cert', leaf.cert])).toMatch(/web\.test\.crt: revoked/);
  });
});

describe('pki serve OCSP signed by the intermediate (serve.ocsp.delegated false)', () => {
  let dir: string;
  let server: PkiServe;
  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    const configPath = join(dir, 'pki.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    writeFileSync(configPath, JSON.stringify({ ...config, serve: { ...(config.serve ?? {}), ocsp: { delegated: false, lifetime: '1h' } } }, null, 2));
    server = await startPkiServe(dir, { http: true });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('names the intermediate as responder, verifies, and uses the configured lifetime', () => {
    const leaf = issueLeaf(dir, 'db.test');
    const r = runPeer('openssl', ['ocsp', '-issuer', join(dir, 'ca', 'intermediate_ca.crt'), '-cert', leaf.cert, '-url', server.ocspUrl, '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-resp_text']);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/Responder Id: CN = pki Intermediate CA/);
    expect(out).toMatch(/db\.test\.crt: good/);
    const thisUpdate = new Date(/This Update: (.+ GMT)/.exec(out)![1]!).getTime();
    const nextUpdate = new Date(/Next Update: (.+ GMT)/.exec(out)![1]!).getTime();
    expect(nextUpdate - thisUpdate).toBe(3_600_000);
  });
});

describe('pki serve OCSP freshness (serve.ocsp.lifetime 6s)', () => {
  let dir: string;
  let server: PkiServe;
  let leaf: { cert: string; key: string; serial: string };
  const ask = (extra: readonly string[] = []) => {
    const r = runPeer('openssl', ['ocsp', '-issuer', join(dir, 'ca', 'intermediate_ca.crt'), '-cert', leaf.cert, '-url', server.ocspUrl, '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-resp_text', ...extra]);
    return `${r.stdout}${r.stderr}`;
  };
  const field = (out: string, name: string) => new Date(new RegExp(`${name}: (.+ GMT)`).exec(out)![1]!).getTime();
  const signerSerial = (out: string) => /Serial Number:\s*\n\s*([0-9a-f:]+)/i.exec(out.slice(out.indexOf('Certificate:')))?.[1];

  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    const configPath = join(dir, 'pki.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    writeFileSync(configPath, JSON.stringify({ ...config, serve: { ...(config.serve ?? {}), ocsp: { lifetime: '6s' } } }, null, 2));
    leaf = issueLeaf(dir, 'fresh.test');
    server = await startPkiServe(dir, { http: true });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('re-signs a cached response before its nextUpdate (every answer current), and rotates the delegated signer', async () => {
    const first = ask(['-no_nonce']);
    expect(first).toMatch(/fresh\.test\.crt: good/);
    const firstThis = field(first, 'This Update');
    const deadline = Date.now() + 15_000;
    let out = first;
    while (field(out, 'This Update') === firstThis && Date.now() < deadline) {
      out = ask(['-no_nonce', '-validity_period', '0']);
      // Never stale: with no tolerance, openssl warns "Status times invalid" for a response past its nextUpdate.
      expect(out).not.toMatch(/Status times invalid|WARNING/);
      expect(out).toMatch(/Response verify OK/);
    }
    expect(field(out, 'This Update')).toBeGreaterThan(firstThis);
    expect(field(out, 'This Update')).toBeLessThan(field(first, 'Next Update'));
    // Re-signed at half its life by the sweep (once a second), well before nextUpdate (6 s).
    // The signer lives max(1 min, 3 lifetimes) and is replaced after a third of that.
    await server.stderr.waitFor(/rotated the delegated OCSP signer/, 40_000);
    const after = ask();
    expect(after).toMatch(/Response verify OK/);
    expect(after).toMatch(/fresh\.test\.crt: good/);
    expect(signerSerial(after)).toBeDefined();
    expect(signerSerial(after)).not.toBe(signerSerial(first));
  }, 60_000);
});
