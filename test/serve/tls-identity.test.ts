/**
 * The HTTPS listener's own certificate (serve/tls-identity.ts), with `pki serve` started in-process:
 * renewed before it is due — with a 6 s lifetime a second TLS connection made after the renewal event sees
 * another serial, the one the event names, recorded in the inventory; with a base URL every certificate the
 * server issues points at it (CRL distribution point, OCSP, caIssuers, shown by openssl), the caIssuers URL
 * serves the intermediate as DER, and pki.json's own URLs win. And a handler's response may name a finer
 * endpoint label than its route's, which /metrics and the access log use.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueServerIdentity } from '../../src/operations/serve-identity.js';
import { startListeners } from '../../src/serve/server.js';
import { effectiveConfig } from '../../src/serve/settings.js';
import { startServe, type RunningServe } from '../../src/serve/start.js';
import { renewalDue } from '../../src/serve/tls-identity.js';
import type { LogFields, ServeLogger } from '../../src/serve/types.js';
import { CaHome } from '../../src/store/ca-home.js';
import type { PkiConfig } from '../../src/store/config.js';
import { initCa } from '../helpers/cli.js';
import { requirePeer } from '../helpers/peers.js';
import { OutputLog } from '../helpers/process.js';
import { fetchOnce, rootPem, writeServeConfig } from '../helpers/serve-client.js';

function memoryLog(): Pick<ServeLogger, 'event'> & { readonly events: OutputLog; readonly lines: LogFields[] } {
  const events = new OutputLog();
  return { events, lines: [], event: (message, fields = {}) => events.append(`${JSON.stringify({ message, ...fields })}\n`) };
}

function peerCertificate(url: string, ca: string): Promise<X509Certificate> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, () => {
      const der = s.getPeerCertificate().raw;
      s.end();
      resolve(new X509Certificate(der));
    });
    s.once('error', reject);
  });
}

async function serveInProcess(dir: string, extra: { baseUrl?: string; listenerLifetime?: string } = {}) {
  const log = memoryLog();
  const home = CaHome.open(dir, { insecure: true });
  const running = await startServe(home, {
    flags: { listen: '127.0.0.1:0', ...(extra.baseUrl ? { baseUrl: extra.baseUrl } : {}) },
    passphrase: async () => new Uint8Array(),
    now: () => new Date(),
    log: { event: log.event, access: (f) => void log.lines.push(f) },
    ...(extra.listenerLifetime ? { listenerLifetime: extra.listenerLifetime } : {}),
  });
  return { running, log };
}

describe('the HTTPS listener certificate', () => {
  it('is due at two thirds of the way from issuance (not from the backdated notBefore) to notAfter', () => {
    expect(renewalDue(new Date(0), new Date(3_000)).getTime()).toBe(2_000);
    expect(renewalDue(new Date(1_000), new Date(86_401_000)).getTime()).toBe(1_000 + 57_600_000);
  });

  let dir: string;
  let running: RunningServe | undefined;
  beforeAll(() => {
    dir = initCa();
  });
  afterAll(async () => running?.close());

  it('is renewed in-process before it is due: a new connection gets the successor', async () => {
    const started = await serveInProcess(dir, { listenerLifetime: '6s' });
    running = started.running;
    const ca = rootPem(dir);
    const first = await peerCertificate(running.httpsUrl, ca);
    expect(Date.parse(first.validTo) - Date.now()).toBeLessThan(7_000);
    const text = await started.log.events.waitFor(/"message":"renewed the HTTPS listener certificate","serial":"([0-9A-F]+)"/i, 15_000);
    const renewed = /"renewed the HTTPS listener certificate","serial":"([0-9A-Fa-f]+)"/.exec(text)![1]!;
    const second = await peerCertificate(running.httpsUrl, ca);
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.serialNumber.toLowerCase()).toBe(renewed.toLowerCase());
    expect(new Date() < new Date(first.validTo)).toBe(true); // renewed before the first one expired
    expect(running.context.inventory.find('x509', renewed)).toBeTruthy();
    expect((await fetchOnce(`${running.httpsUrl}/health`, { ca })).status).toBe(200);
    await running.close();
    running = undefined;
  }, 30_000);
});

describe('--base-url', () => {
  it('stamps CRL distribution point, OCSP and caIssuers URLs into what the server issues', async () => {
    requirePeer('openssl');
    const dir = initCa();
    const { running } = await serveInProcess(dir, { baseUrl: 'https://ca.example.test:9443' });
    try {
      const ca = rootPem(dir);
      const cert = await peerCertificate(running.httpsUrl, ca);
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: cert.toString(), encoding: 'utf8' });
      expect(text).toMatch(/X509v3 CRL Distribution Points:[^]*URI:https:\/\/ca\.example\.test:9443\/crl\/intermediate_ca\.crl/);
      expect(text).toMatch(/OCSP - URI:https:\/\/ca\.example\.test:9443\/ocsp/);
      expect(text).toMatch(/CA Issuers - URI:https:\/\/ca\.example\.test:9443\/intermediate\.crt/);
      const der = await fetchOnce(`${running.httpsUrl}/intermediate.crt`, { ca });
      expect(der.status).toBe(200);
      expect(der.headers['content-type']).toBe('application/pkix-cert');
      expect(new X509Certificate(der.body).toString()).toBe(new X509Certificate(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'))).toString());
      expect(running.directoryUrl).toBe('https://ca.example.test:9443/acme/acme/directory');
    } finally {
      await running.close();
    }
  });

  it("keeps pki.json's own URLs, each list on its own, and changes nothing without a base URL", () => {
    const base = { version: 1, name: 'x', key: { kty: 'EC', crv: 'P-256' }, validity: { root: '10y', intermediate: '5y', leaf: '90d' } } as unknown as PkiConfig;
    expect(effectiveConfig(base, null)).toBe(base);
    const all = effectiveConfig(base, 'http://ca:80');
    expect(all.crl).toEqual({ nextUpdate: '7d', distributionPoints: ['http://ca:80/crl/intermediate_ca.crl'] });
    expect(all.ocsp).toEqual({ urls: ['http://ca:80/ocsp'] });
    expect(all.aia).toEqual({ caIssuers: ['http://ca:80/intermediate.crt'] });
    const own = effectiveConfig({ ...base, crl: { distributionPoints: ['http://crl.example/x.crl'], nextUpdate: '2d' }, ocsp: { urls: [] } }, 'http://ca:80');
    expect(own.crl).toEqual({ distributionPoints: ['http://crl.example/x.crl'], nextUpdate: '2d' });
    expect(own.ocsp).toEqual({ urls: ['http://ca:80/ocsp'] });
  });

  it('is applied again on reload (serve.baseUrl in pki.json)', async () => {
    const dir = initCa();
    const { running } = await serveInProcess(dir);
    try {
      expect(running.context.config.ocsp).toBeUndefined();
      writeServeConfig(dir, { baseUrl: 'http://ca.internal:8080' });
      running.reload();
      expect(running.context.config.ocsp).toEqual({ urls: ['http://ca.internal:8080/ocsp'] });
    } finally {
      await running.close();
    }
  });
});

describe('ServeResponse.endpoint', () => {
  it('names the endpoint in /metrics and the access log instead of the route', async () => {
    const dir = initCa();
    const { running, log } = await serveInProcess(dir);
    const context = running.context;
    const listeners = await startListeners(context, [
      { path: '/acme/', methods: ['POST'], endpoint: 'acme', handler: async () => ({ status: 201, endpoint: 'acme.new-order', body: '{}', headers: { 'Content-Type': 'application/json' } }) },
      { path: '/plain', methods: ['GET'], endpoint: 'plain', handler: async () => ({ status: 200 }) },
    ]);
    try {
      const id = await issueServerIdentity(context.inventory, context.issuer, context.config, { host: '127.0.0.1' }, new Date());
      listeners.setTlsMaterial({ keyPem: id.keyPem, chainPem: id.chainPem, clientCaPem: rootPem(dir) });
      const ca = rootPem(dir);
      expect((await fetchOnce(`${listeners.httpsUrl}/acme/acme/new-order?secret=1`, { ca, method: 'POST', body: '{}' })).status).toBe(201);
      expect((await fetchOnce(`${listeners.httpsUrl}/plain`, { ca })).status).toBe(200);
      const metrics = context.metrics.render();
      expect(metrics).toContain('pki_http_requests_total{endpoint="acme.new-order",status="201"} 1');
      expect(metrics).toContain('pki_http_requests_total{endpoint="plain",status="200"} 1');
      expect(log.lines.find((f) => f.endpoint === 'acme.new-order')).toMatchObject({ method: 'POST', path: '/acme/acme/new-order', status: 201 });
    } finally {
      await listeners.close();
      await running.close();
    }
  });
});
