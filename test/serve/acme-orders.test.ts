/**
 * Issue 13, done-means 1 (acme-client) and the order half of the ACME front end, end to end against a real
 * `pki serve`: acme-client from npm orders a certificate for two names, proves them by http-01 served from
 * a node:http responder on 127.0.0.1, and gets leaf + intermediate that `openssl verify` accepts against
 * the root with the right SANs; the issuance is counted in /metrics; renewalInfo (RFC 9773) suggests two
 * thirds of the lifetime for the identifier openssl's own output gives; revokeCert by the account (acme-client)
 * and by the certificate's key (jose) is `pki revoke`'s (inventory and the published CRL), with
 * alreadyRevoked, badRevocationReason and unauthorized answers; `replaces` is accepted for the account's own
 * certificate only.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import acme from 'acme-client';
import { exportJWK, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { requirePeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { answerHttp01, http01Auto, httpsCall, opensslCsr, pollUntil, RawAcme, startHttp01 } from './acme-orders-client.js';

const ERR = 'urn:ietf:params:acme:error:';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

describe('ACME orders end to end (acme-client, jose)', () => {
  let dir: string;
  let server: PkiServe;
  let http01: Awaited<ReturnType<typeof startHttp01>>;
  let rootFile: string;
  let intermediateFile: string;
  let work: string;
  let root: string;

  const opensslVerify = (leafPem: string, name: string) => {
    const file = join(work, `${name}.pem`);
    writeFileSync(file, leafPem);
    return execFileSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', intermediateFile, file], { encoding: 'utf8' });
  };
  const sansOf = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: pem, encoding: 'utf8' });
  const listed = () => JSON.parse(pki(['list', '--all', '--json', '--dir', dir, '--insecure']).stdout);
  const records = (l: any): any[] => (Array.isArray(l) ? l : l.certificates);

  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    work = tempDir('pki-acme-orders-');
    rootFile = join(dir, 'ca', 'root_ca.crt');
    intermediateFile = join(dir, 'ca', 'intermediate_ca.crt');
    root = readFileSync(rootFile, 'utf8');
    const port = await freePort();
    http01 = await startHttp01(port);
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test', '--acme-allow', '.wild.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(port)] });
    acme.axios.defaults.httpsAgent = new Agent({ ca: root });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await http01?.close();
  });

  let clientCert = '';
  let client: acme.Client;

  it('issues to acme-client over http-01: openssl verify accepts leaf + intermediate with the SANs asked for; /metrics counts it', async () => {
    client = new acme.Client({ directoryUrl: server.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey('P-256') });
    const [, csr] = await acme.crypto.createCsr({ commonName: 'a.test', altNames: ['a.test', 'b.test'] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const started = Date.now();
    clientCert = await client.auto(http01Auto(csr, http01.answers));
    const ms = Date.now() - started;
    const blocks = clientCert.match(PEM_BLOCK)!;
    expect(blocks).toHaveLength(2);
    expect(blocks[1]!.trim()).toBe(readFileSync(intermediateFile, 'utf8').trim());
    expect(opensslVerify(blocks[0]!, 'acme-client')).toMatch(/: OK/);
    const sans = sansOf(blocks[0]!);
    expect(sans).toMatch(/DNS:a\.test/);
    expect(sans).toMatch(/DNS:b\.test/);
    expect(sans.match(/DNS:/g)).toHaveLength(2);
    expect(http01.hits.filter((h) => h.startsWith('/.well-known/acme-challenge/'))).toHaveLength(2);
    const metrics = (await httpsCall(`${server.httpsUrl}/metrics`, { method: 'GET', ca: root })).body.toString();
    expect(metrics).toMatch(/pki_certificates_issued_total\{source="acme"\} 1\b/);
    console.log(`acme-client: account + order + 2 http-01 + finalize + download in ${ms} ms`);
  });

  it('answers renewalInfo for the identifier made from openssl output: the window opens at two thirds of the lifetime', async () => {
    const leaf = clientCert.match(PEM_BLOCK)![0]!;
    const text = execFileSync('openssl', ['x509', '-noout', '-serial', '-startdate', '-enddate', '-ext', 'authorityKeyIdentifier'], { input: leaf, encoding: 'utf8' });
    const serial = /serial=([0-9A-F]+)/.exec(text)![1]!;
    const aki = /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(text.split('Authority Key Identifier:')[1]!)![1]!.replace(/:/g, '');
    const serialBytes = Buffer.from(serial.length % 2 ? `0${serial}` : serial, 'hex');
    const der = serialBytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serialBytes]) : serialBytes;
    const id = `${Buffer.from(aki, 'hex').toString('base64url')}.${der.toString('base64url')}`;
    const r = await httpsCall(`${server.httpsUrl}/acme/acme/renewal-info/${id}`, { method: 'GET', ca: root });
    expect(r.status).toBe(200);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    const notBefore = Date.parse(/notBefore=(.*)/.exec(text)![1]!);
    const notAfter = Date.parse(/notAfter=(.*)/.exec(text)![1]!);
    const { start, end } = r.json().suggestedWindow;
    const life = notAfter - notBefore;
    expect(Math.abs(Date.parse(start) - (notBefore + (2 * life) / 3))).toBeLessThan(2000);
    expect(Math.abs(Date.parse(end) - (notBefore + (2 * life) / 3 + life / 12))).toBeLessThan(2000);
    // Another serial under the same AKI (the last byte flipped: replacing base64url characters may only touch padding bits).
    const other = Buffer.from(der);
    other[other.length - 1]! ^= 0xff;
    const unknownId = `${id.split('.')[0]}.${other.toString('base64url')}`;
    expect((await httpsCall(`${server.httpsUrl}/acme/acme/renewal-info/${unknownId}`, { method: 'GET', ca: root })).status).toBe(404);
  });

  it("revokes acme-client's certificate by its account: recorded, listed in the served CRL, then alreadyRevoked", async () => {
    const leaf = clientCert.match(PEM_BLOCK)![0]!;
    const serial = /serial=([0-9A-F]+)/.exec(execFileSync('openssl', ['x509', '-noout', '-serial'], { input: leaf, encoding: 'utf8' }))![1]!;
    await client.revokeCertificate(leaf, { reason: 4 });
    const record = records(listed()).find((c) => c.serial.replace(/^0+/, '') === serial.replace(/^0+/, ''));
    expect(record.status).toBe('revoked');
    const crl = (await httpsCall(`${server.httpsUrl}/crl/intermediate_ca.crl`, { method: 'GET', ca: root })).body;
    const crlText = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: crl, encoding: 'utf8' });
    expect(crlText.replace(/\s/g, '')).toContain(`SerialNumber:${serial}`);
    expect(crlText).toMatch(/Superseded/);
    await expect(client.revokeCertificate(leaf, { reason: 4 })).rejects.toThrow(/already revoked/i);
  });

  it('runs a raw order (jose): Link up and Retry-After on the challenge, pem-certificate-chain download, revocation by the certificate key, replaces', async () => {
    const raw = await RawAcme.create(server.directoryUrl, rootFile);
    await raw.newAccount();
    const created = await raw.newOrder([{ type: 'dns', value: 'raw.test' }]);
    expect(created.status).toBe(201);
    const orderUrl = String(created.headers.location);
    const order = created.json();
    expect(order.status).toBe('pending');
    expect(Date.parse(order.expires) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const authz = (await raw.post(order.authorizations[0], undefined)).json();
    expect(authz.challenges.map((c: any) => c.type).sort()).toEqual(['dns-01', 'http-01', 'tls-alpn-01']);
    const challenge = authz.challenges.find((c: any) => c.type === 'http-01');
    http01.answers.set(challenge.token, raw.keyAuthorization(challenge.token));
    const started = await raw.post(challenge.url, {});
    expect(started.status).toBe(200);
    expect([started.headers.link].flat().join(',')).toContain(`<${order.authorizations[0]}>;rel="up"`);
    if (started.json().status === 'processing') expect(started.headers['retry-after']).toBe('1');
    await pollUntil(() => raw.post(orderUrl, undefined).then((r) => r.json()), (o) => o.status === 'ready', 30_000, 'the order');
    const csr = opensslCsr(['raw.test']);
    const finalized = await raw.post(order.finalize, { csr: csr.der.toString('base64url') });
    expect(finalized.status).toBe(200);
    expect(finalized.json().status).toBe('valid');
    const download = await raw.post(finalized.json().certificate, undefined);
    expect(download.headers['content-type']).toBe('application/pem-certificate-chain');
    const chain = download.body.toString();
    expect(chain.match(PEM_BLOCK)).toHaveLength(2);
    expect(opensslVerify(chain.match(PEM_BLOCK)![0]!, 'raw')).toMatch(/: OK/);
    const certDer = Buffer.from(chain.match(PEM_BLOCK)![0]!.replace(/-----[^-]+-----|\s/g, ''), 'base64');

    // Another account may neither download nor revoke it, nor name it in `replaces`.
    const stranger = await RawAcme.create(server.directoryUrl, rootFile);
    await stranger.newAccount();
    expect((await stranger.post(finalized.json().certificate, undefined)).json().type).toBe(`${ERR}unauthorized`);
    expect((await stranger.post(stranger.directory.revokeCert!, { certificate: certDer.toString('base64url') })).json().type).toBe(`${ERR}unauthorized`);
    const foreignKey = await stranger.post(stranger.directory.revokeCert!, { certificate: certDer.toString('base64url') }, { useJwk: true });
    expect(foreignKey.json().type).toBe(`${ERR}unauthorized`);

    const keyPem = readFileSync(csr.keyFile, 'utf8');
    const signer = { privateKey: await importPKCS8(keyPem, 'ES256'), jwk: await exportJWK(createPublicKey(keyPem)), alg: 'ES256' };
    const badReason = await stranger.post(stranger.directory.revokeCert!, { certificate: certDer.toString('base64url'), reason: 7 }, { signer });
    expect(badReason.json().type).toBe(`${ERR}badRevocationReason`);

    // ARI `replaces`: the same account may name its certificate; the stranger may not.
    const ari = `${Buffer.from(execFileSync('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier'], { input: chain.match(PEM_BLOCK)![0]!, encoding: 'utf8' }).split('\n')[1]!.trim().replace(/:/g, ''), 'hex').toString('base64url')}`;
    const serialHex = /serial=([0-9A-F]+)/.exec(execFileSync('openssl', ['x509', '-noout', '-serial'], { input: chain.match(PEM_BLOCK)![0]!, encoding: 'utf8' }))![1]!;
    const id = `${ari}.${Buffer.from(serialHex, 'hex').toString('base64url')}`;
    const renewal = await raw.newOrder([{ type: 'dns', value: 'raw.test' }], { replaces: id });
    expect(renewal.status).toBe(201);
    expect(renewal.json().replaces).toBe(id);
    expect((await stranger.newOrder([{ type: 'dns', value: 'raw.test' }], { replaces: id })).json().type).toBe(`${ERR}malformed`);

    const revoked = await stranger.post(stranger.directory.revokeCert!, { certificate: certDer.toString('base64url'), reason: 1 }, { signer });
    expect(revoked.status).toBe(200);
    const record = records(listed()).find((c) => c.serial.replace(/^0+/, '') === serialHex.replace(/^0+/, ''));
    expect(record.status).toBe('revoked');
    expect(record.revocationReason).toBe('keyCompromise');
    const again = await stranger.post(stranger.directory.revokeCert!, { certificate: certDer.toString('base64url') }, { signer });
    expect(again.json().type).toBe(`${ERR}alreadyRevoked`);
    const info = await httpsCall(`${server.httpsUrl}/acme/acme/renewal-info/${id}`, { method: 'GET', ca: root });
    expect(Date.parse(info.json().suggestedWindow.end)).toBeLessThan(Date.now());
  });

  it('answers an order of another account, an unknown order and a wildcard order as RFC 8555 says', async () => {
    const raw = await RawAcme.create(server.directoryUrl, rootFile);
    await raw.newAccount();
    const wildcard = await raw.newOrder([{ type: 'dns', value: '*.x.wild.test' }]);
    expect(wildcard.status, wildcard.body.toString()).toBe(201);
    const authz = (await raw.post(wildcard.json().authorizations[0], undefined)).json();
    expect(authz.wildcard).toBe(true);
    expect(authz.identifier).toEqual({ type: 'dns', value: 'x.wild.test' });
    expect(authz.challenges.map((c: any) => c.type)).toEqual(['dns-01']);
    const deactivated = await raw.post(wildcard.json().authorizations[0], { status: 'deactivated' });
    expect(deactivated.json().status).toBe('deactivated');
    expect((await raw.post(String(wildcard.headers.location), undefined)).json().status).toBe('invalid');
    const unknown = await raw.post(String(wildcard.headers.location).replace(/[^/]+$/, 'nosuchorder'), undefined);
    expect(unknown.status).toBe(404);
    const early = await raw.newOrder([{ type: 'dns', value: 'x.test' }], { notAfter: '2000-01-01T00:00:00Z' });
    expect(early.json().type).toBe(`${ERR}malformed`);
  });
});
