/**
 * Issue 13: `pki serve` starts on loopback with an HTTPS certificate from the CA home that curl accepts
 * against the root alone (the intermediate is sent), says where ACME and OCSP are, answers /health on
 * every listener and serves the CRL and the CA certificates; SIGTERM stops it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { requirePeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';

describe('pki serve start-up', () => {
  let dir: string;
  let server: PkiServe;
  beforeAll(async () => {
    requirePeer('curl');
    requirePeer('openssl');
    dir = initCa();
    server = await startPkiServe(dir, { http: true });
  }, 60_000);
  afterAll(async () => server?.stop());

  const curl = (url: string, extra: string[] = []) =>
    execFileSync('curl', ['-sS', '--max-time', '10', '--cacert', join(dir, 'ca', 'root_ca.crt'), ...extra, url], { encoding: 'buffer' });

  it('names the HTTPS, ACME and http:// OCSP URLs on one stderr line, and warns that no identifier is allowed', () => {
    expect(server.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.directoryUrl).toBe(`${server.httpsUrl}/acme/acme/directory`);
    expect(server.ocspUrl).toBe(`${server.httpUrl}/ocsp`);
    expect(server.stderr.text).toMatch(/warning: ACME provisioner "acme" allows no identifier/);
  });

  it('answers /health on both listeners; curl trusts only the root', () => {
    expect(JSON.parse(curl(`${server.httpsUrl}/health`).toString())).toEqual({ status: 'ok' });
    expect(JSON.parse(curl(`${server.httpUrl}/health`).toString())).toEqual({ status: 'ok' });
  });

  it('sends leaf + intermediate, for 127.0.0.1 and localhost', () => {
    const port = new URL(server.httpsUrl).port;
    const out = execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts', '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-verify_return_error'], { input: '', encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'ignore'] });
    expect(out.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    const leaf = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: out, encoding: 'utf8' });
    expect(leaf).toMatch(/DNS:localhost/);
    expect(leaf).toMatch(/IP Address:127\.0\.0\.1/);
  });

  it('serves the CRL as DER and the CA certificates as PEM', () => {
    const crl = curl(`${server.httpUrl}/crl/intermediate_ca.crl`);
    expect(crl[0]).toBe(0x30);
    expect(execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-issuer'], { input: crl, encoding: 'utf8' })).toMatch(/Intermediate CA/);
    expect(curl(`${server.httpsUrl}/roots.pem`).toString()).toBe(readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8'));
    expect(curl(`${server.httpsUrl}/intermediate.pem`).toString()).toBe(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8'));
  });

  it('answers an unknown path with a 404 problem and keeps serving', () => {
    const out = curl(`${server.httpsUrl}/../../etc/passwd`, ['--path-as-is', '-w', '\n%{http_code}']).toString();
    expect(out.trim().split('\n').pop()).toBe('404');
    expect(JSON.parse(curl(`${server.httpsUrl}/health`).toString()).status).toBe('ok');
  });

  it('stops on SIGTERM', async () => {
    await server.stop('SIGTERM');
    expect(server.child.exitCode).toBe(0);
  });
});
