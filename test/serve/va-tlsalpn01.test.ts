/**
 * Issue 13, the validation authority's tls-alpn-01 (RFC 8737; RFC 8738 for IPs): against Debian's
 * pebble-challtestsrv (right key authorization valid, wrong incorrectResponse), and against a node:tls
 * responder serving certificates made by `openssl req -x509 -addext`: the critical acmeIdentifier is valid,
 * a non-critical one, two SANs, or a server that does not speak acme-tls/1 are refused; an IP identifier
 * is asked with its in-addr.arpa name as SNI.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateChallenge, type ValidationRequest } from '../../src/serve/va/index.js';
import { peer, requirePeer } from '../helpers/peers.js';
import { closeServer, listenLoopback, startChallTestSrv, vaSettings, type ChallTestSrv } from '../helpers/va.js';

const TOKEN = 'Ac3sRXyvCG0vLpI8bDn8eA7kDuDLzT6NNLvGp1nbPHs';
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
const DIGEST_HEX = createHash('sha256').update(KEY_AUTH).digest('hex');
const alpn = (value: string, keyAuthorization = KEY_AUTH): ValidationRequest => ({ type: 'tls-alpn-01', identifier: { type: /^[\d.]+$/.test(value) ? 'ip' : 'dns', value }, token: TOKEN, keyAuthorization });
const setup = (tlsPort: number) => vaSettings({ acmeAllow: ['*.test', '127.0.0.0/8'], acmeResolve: ['*.test=127.0.0.1'], acmeTlsPort: tlsPort });

describe('tls-alpn-01 against pebble-challtestsrv', () => {
  let cts: ChallTestSrv;
  beforeAll(async () => {
    cts = await startChallTestSrv();
  }, 60_000);
  afterAll(async () => cts?.stop());

  it('the right key authorization is valid', async () => {
    await cts.manage('/add-tlsalpn01', { host: 'right.test', content: KEY_AUTH });
    const { settings, provisioner } = setup(cts.tlsAlpnPort);
    expect(await validateChallenge(settings, provisioner, alpn('right.test'))).toEqual({ valid: true });
  });

  it('another key authorization is incorrectResponse', async () => {
    await cts.manage('/add-tlsalpn01', { host: 'wrong.test', content: `${TOKEN}.another-account` });
    const { settings, provisioner } = setup(cts.tlsAlpnPort);
    const r = await validateChallenge(settings, provisioner, alpn('wrong.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:incorrectResponse' } });
    expect(!r.valid && r.problem.detail).toMatch(/SNI wrong\.test.*acmeIdentifier holds a different SHA-256 digest/);
  });

  it('a name the responder has no certificate for fails the handshake (tls)', async () => {
    const { settings, provisioner } = setup(cts.tlsAlpnPort);
    const r = await validateChallenge(settings, provisioner, alpn('unknown.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:tls', detail: expect.stringContaining('TLS handshake failed') } });
  });
});

describe('tls-alpn-01 against a node:tls responder with openssl-made certificates', () => {
  let dir: string;
  let server: Server | undefined;
  beforeAll(() => {
    requirePeer('openssl');
    dir = mkdtempSync(join(tmpdir(), 'pki-va-alpn-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await closeServer(server);
    server = undefined;
  });

  function certificate(name: string, san: string, acmeIdentifier: string): { key: Buffer; cert: Buffer } {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.crt`);
    peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=acme-tls-alpn', '-addext', `subjectAltName=${san}`, '-addext', `1.3.6.1.5.5.7.1.31=${acmeIdentifier}`]);
    return { key: readFileSync(key), cert: readFileSync(cert) };
  }

  /** A TLS responder on 127.0.0.1 recording the SNI of each handshake (none for a handshake without SNI). */
  async function respond(pair: { key: Buffer; cert: Buffer }, protocols: string[] = ['acme-tls/1']): Promise<{ port: number; sni: string[] }> {
    const sni: string[] = [];
    const context = createSecureContext(pair);
    server = createServer({ ...pair, ALPNProtocols: protocols, SNICallback: (name, done) => (sni.push(name), done(null, context)) }, (s: TLSSocket) => s.end());
    return { port: await listenLoopback(server), sni };
  }

  it('a self-signed certificate with one SAN and the critical acmeIdentifier is valid; SNI is the name', async () => {
    const { port, sni } = await respond(certificate('good', 'DNS:good.test', `critical,DER:0420${DIGEST_HEX}`));
    const { settings, provisioner } = setup(port);
    expect(await validateChallenge(settings, provisioner, alpn('good.test'))).toEqual({ valid: true });
    expect(sni).toEqual(['good.test']);
  });

  it('a non-critical acmeIdentifier is refused', async () => {
    const { port } = await respond(certificate('noncritical', 'DNS:nc.test', `DER:0420${DIGEST_HEX}`));
    const { settings, provisioner } = setup(port);
    const r = await validateChallenge(settings, provisioner, alpn('nc.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining('is not critical') } });
  });

  it('a second SAN is refused, naming both', async () => {
    const { port } = await respond(certificate('twosans', 'DNS:two.test,DNS:other.test', `critical,DER:0420${DIGEST_HEX}`));
    const { settings, provisioner } = setup(port);
    const r = await validateChallenge(settings, provisioner, alpn('two.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining('exactly two.test in its subjectAltName (RFC 8737 §3), it names 2 name(s): two.test, other.test') } });
  });

  it('a server that does not negotiate acme-tls/1 is refused (tls): one that knows only h2, one without ALPN', async () => {
    const pair = certificate('h2', 'DNS:h2.test', `critical,DER:0420${DIGEST_HEX}`);
    const h2 = await respond(pair, ['h2']);
    const r = await validateChallenge(setup(h2.port).settings, setup(h2.port).provisioner, alpn('h2.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:tls', detail: expect.stringContaining('TLS handshake failed') } });
    await closeServer(server);
    const none = await respond(pair, []);
    const r2 = await validateChallenge(setup(none.port).settings, setup(none.port).provisioner, alpn('h2.test'));
    expect(r2).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:tls', detail: expect.stringContaining('the server negotiated no ALPN protocol, not acme-tls/1') } });
  });

  it('an IP identifier: SNI is its in-addr.arpa name, the SAN its iPAddress (RFC 8738 §6)', async () => {
    const { port, sni } = await respond(certificate('ip', 'IP:127.0.0.1', `critical,DER:0420${DIGEST_HEX}`));
    const { settings, provisioner } = setup(port);
    expect(await validateChallenge(settings, provisioner, alpn('127.0.0.1'))).toEqual({ valid: true });
    expect(sni).toEqual(['1.0.0.127.in-addr.arpa']);
  });

  it('an IP identifier is not proven by a dNSName SAN of its reverse name', async () => {
    const { port } = await respond(certificate('ipdns', 'DNS:1.0.0.127.in-addr.arpa', `critical,DER:0420${DIGEST_HEX}`));
    const { settings, provisioner } = setup(port);
    const r = await validateChallenge(settings, provisioner, alpn('127.0.0.1'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining('exactly 127.0.0.1 in its subjectAltName (RFC 8737 §3), it names 1 name(s): 1.0.0.127.in-addr.arpa') } });
  });
});
