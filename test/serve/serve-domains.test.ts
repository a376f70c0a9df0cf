/**
 * Issue 14 in `pki serve`: trust domains and the keys `pki ca rotate` retired. Against a real `pki serve`
 * on 127.0.0.1 with a CA home holding the main hierarchy (its default intermediate rotated once, so one
 * retired key with a leaf still valid) and trust domain `cache`:
 * - acme-client orders through provisioner `cache` (`"trustDomain": "cache"`): signed by the domain's
 *   intermediate, verified by openssl against the domain's root and refused against the main root;
 *   `pki list --json` names the domain; ACME revokeCert puts it on the domain's CRL, not the main one;
 * - `openssl ocsp` answers for the domain's leaves (verified against the domain's root) and for the leaf
 *   of the retired key (verified against the main root, signed by a responder that key issued): good, then
 *   revoked after `pki revoke` in another process; the same serial asked with the current key is unknown;
 * - POST /1.0/renew (curl) renews the domain's client certificate with the domain's CA and the retired
 *   key's leaf with the current key;
 * - the domain's files at /domains/NAME/…, the per-CA CRL gauge in /metrics (promtool), one-line refusals
 *   at start for an unknown domain and for `ca` with `trustDomain`.
 * A second block orders through ACME, rotates the intermediate, restarts the server, and downloads and
 * revokes the earlier certificate: the chain carries the retired intermediate, the revocation lands on the
 * retired key's CRL too. A third: with `delegated: false` the retired intermediate signs its own leaves' answers.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { fetchOnce, writeServeConfig } from '../helpers/serve-client.js';
import { http01Auto, httpsCall, pollUntil, startHttp01 } from './acme-orders-client.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;
const field = (pem: string, what: 'issuer' | 'subject' | 'serial') => execFileSync('openssl', ['x509', '-noout', `-${what}`], { input: pem, encoding: 'utf8' }).trim().replace(/^\w+=\s*/, '');
const sameSerial = (a: string, b: string) => a.replace(/[:\s]/g, '').replace(/^0+/, '').toUpperCase() === b.replace(/[:\s]/g, '').replace(/^0+/, '').toUpperCase();
const ok = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

/** A P-256 key and CSR made by openssl, signed by `pki sign` with `extra` flags; the certificate's path. */
function signLeaf(dir: string, work: string, name: string, extra: string[] = []): string {
  const key = join(work, `${name}.key`);
  const csr = join(work, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-out', csr], { stdio: 'ignore' });
  const out = join(work, `${name}.crt`);
  ok(pki(['sign', csr, ...extra, '--out', out, '--dir', dir, '--insecure']));
  return out;
}

/** The one retired intermediate of the default CA (ca/retired/<key id>/intermediate_ca.crt). */
function retiredIntermediate(dir: string): string {
  const ids = readdirSync(join(dir, 'ca', 'retired')).filter((n) => /^[0-9A-F]+$/.test(n));
  expect(ids).toHaveLength(1);
  return join(dir, 'ca', 'retired', ids[0]!, 'intermediate_ca.crt');
}

function listed(dir: string): any[] {
  const l = JSON.parse(ok(pki(['list', '--all', '--json', '--dir', dir, '--insecure'])));
  return Array.isArray(l) ? l : l.certificates;
}

const crlTextOf = (der: Buffer) => execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: der, encoding: 'utf8' }).replace(/\s/g, '');

describe('pki serve: trust domains and retired intermediate keys (acme-client, openssl)', () => {
  let dir: string;
  let work: string;
  let server: PkiServe;
  let http01: Awaited<ReturnType<typeof startHttp01>>;
  let mainRoot: string;
  let domainRoot: string;
  let oldLeaf: string;
  let renewLeaf: string;
  let retiredCa: string;
  const domainCa = () => join(dir, 'domains', 'cache', 'ca', 'intermediate_ca.crt');
  const issued: { chain: string; leafFile: string; serial: string; client: acme.Client } = {} as never;
  const ocsp = (issuer: string, cert: string, anchor: string, extra: string[] = []) => {
    const r = runPeer('openssl', ['ocsp', '-issuer', issuer, '-cert', cert, '-url', server.ocspUrl, '-CAfile', anchor, '-resp_text', ...extra]);
    return `${r.stdout}${r.stderr}`;
  };
  const get = (path: string) => httpsCall(`${server.httpsUrl}${path}`, { method: 'GET', ca: readFileSync(mainRoot, 'utf8') });

  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    work = tempDir('pki-serve-domains-');
    mainRoot = join(dir, 'ca', 'root_ca.crt');
    // A leaf of the first default intermediate key, then `pki ca rotate`: that key is retired, its leaf still valid.
    oldLeaf = signLeaf(dir, work, 'old.test');
    renewLeaf = signLeaf(dir, work, 'renew.test');
    ok(pki(['ca', 'rotate', '--dir', dir, '--insecure']));
    retiredCa = retiredIntermediate(dir);
    ok(pki(['generate', 'redis', 'main', '--trust-domain', 'cache', '--no-password', '--insecure', '--dir', dir]));
    domainRoot = join(dir, 'domains', 'cache', 'ca', 'root_ca.crt');
    const port = await freePort();
    http01 = await startHttp01(port);
    writeServeConfig(dir, { acme: { resolve: { '.test': '127.0.0.1' }, httpPort: port }, provisioners: { cache: { allow: ['*.cache.test'], trustDomain: 'cache' } } });
    server = await startPkiServe(dir, { http: true });
    acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(mainRoot, 'utf8') });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await http01?.close();
  });

  it('issues through provisioner "cache" with the trust domain\'s CA: its intermediate in the chain, its root verifies it, the main root does not', async () => {
    const client = new acme.Client({ directoryUrl: server.directoryUrl.replace('/acme/acme/', '/acme/cache/'), accountKey: await acme.crypto.createPrivateEcdsaKey('P-256') });
    const [, csr] = await acme.crypto.createCsr({ commonName: 'db.cache.test', altNames: ['db.cache.test'] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const chain = await client.auto(http01Auto(csr, http01.answers));
    const blocks = chain.match(PEM_BLOCK)!;
    expect(blocks).toHaveLength(2);
    expect(field(blocks[0]!, 'issuer')).toBe('CN = pki cache Intermediate CA');
    expect(blocks[1]!.trim()).toBe(readFileSync(domainCa(), 'utf8').trim());
    const leafFile = join(work, 'cache-leaf.crt');
    writeFileSync(leafFile, blocks[0]!);
    const untrusted = join(work, 'cache-chain.crt');
    writeFileSync(untrusted, blocks[1]!);
    expect(runPeer('openssl', ['verify', '-CAfile', domainRoot, '-untrusted', untrusted, leafFile]).stdout).toMatch(/: OK/);
    expect(runPeer('openssl', ['verify', '-CAfile', mainRoot, '-untrusted', untrusted, leafFile]).status).not.toBe(0);
    const serial = field(blocks[0]!, 'serial');
    expect(listed(dir).find((c) => sameSerial(c.serial, serial))).toMatchObject({ trustDomain: 'cache', issuer: 'CN=pki cache Intermediate CA', status: 'valid' });
    Object.assign(issued, { chain, leafFile, serial, client });
  });

  it("answers OCSP good for the domain's leaf, signed by a responder of the domain's CA that verifies against the domain's root only", () => {
    const out = ocsp(domainCa(), issued.leafFile, domainRoot);
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/cache-leaf\.crt: good/);
    // The main root does not vouch for the domain's responder.
    expect(ocsp(domainCa(), issued.leafFile, mainRoot)).not.toMatch(/Response verify OK/);
  });

  it("revokes by ACME with the domain's CA: on the domain's CRL (served at /domains/cache/crl/…), not the main one; OCSP says revoked", async () => {
    await issued.client.revokeCertificate(issued.chain, { reason: 4 });
    const hex = issued.serial.replace(/^0+/, '').toUpperCase();
    const domainCrl = await get('/domains/cache/crl/intermediate_ca.crl');
    expect(domainCrl.status).toBe(200);
    expect(crlTextOf(domainCrl.body)).toMatch(/Issuer:CN=pkicacheIntermediateCA/);
    expect(crlTextOf(domainCrl.body).toUpperCase()).toContain(`SERIALNUMBER:${hex}`);
    const mainCrl = await get('/crl/intermediate_ca.crl');
    expect(crlTextOf(mainCrl.body).toUpperCase()).not.toContain(hex);
    const out = await pollUntil(async () => ocsp(domainCa(), issued.leafFile, domainRoot, ['-no_nonce']), (o) => /cache-leaf\.crt: revoked/.test(o), 5_000, 'the OCSP answer');
    expect(out).toMatch(/Reason: superseded/);
  });

  it('answers OCSP for the leaf of the retired intermediate key, signed for that key; good, then revoked after pki revoke; unknown when asked with the current key', async () => {
    const good = ocsp(retiredCa, oldLeaf, mainRoot);
    expect(good).toMatch(/Response verify OK/);
    expect(good).toMatch(/old\.test\.crt: good/);
    // The delegated responder was issued by the retired key (its issuer's key identifier is the retired certificate's).
    const retiredSki = execFileSync('openssl', ['x509', '-in', retiredCa, '-noout', '-ext', 'subjectKeyIdentifier'], { encoding: 'utf8' }).split('\n')[1]!.trim();
    expect(good.replace(/\s/g, '')).toContain(retiredSki.replace(/\s/g, ''));
    // The same serial under the current key: that key did not sign it.
    expect(ocsp(join(dir, 'ca', 'intermediate_ca.crt'), oldLeaf, mainRoot)).toMatch(/old\.test\.crt: unknown/);
    ok(pki(['revoke', oldLeaf, '--reason', 'keyCompromise', '--dir', dir, '--insecure']));
    const out = await pollUntil(async () => ocsp(retiredCa, oldLeaf, mainRoot, ['-no_nonce']), (o) => /old\.test\.crt: revoked/.test(o), 5_000, 'the OCSP answer');
    expect(out).toMatch(/Reason: keyCompromise/);
    expect(out).toMatch(/Response verify OK/);
  });

  it("POST /1.0/renew (curl, mTLS) renews a trust domain's client certificate with the domain's CA, and a leaf of the retired key with the current key", () => {
    requirePeer('curl');
    const out = join(work, 'renewed.pem');
    const curl = (cert: string, key: string) =>
      runPeer('curl', ['-sS', '--cacert', mainRoot, '-X', 'POST', '-H', 'Content-Length: 0', '--cert', cert, '--key', key, '-o', out, '-w', '%{http_code}', `${server.httpsUrl}/1.0/renew`]).stdout;
    const certs = join(dir, 'services', 'redis', 'main', 'certs');
    expect(curl(join(certs, 'client.crt'), join(certs, 'client.key'))).toBe('200');
    let blocks = readFileSync(out, 'utf8').match(PEM_BLOCK)!;
    expect(field(blocks[0]!, 'issuer')).toBe('CN = pki cache Intermediate CA');
    expect(runPeer('openssl', ['verify', '-CAfile', domainRoot, '-untrusted', out, out]).stdout).toMatch(/: OK/);
    expect(listed(dir).find((c) => sameSerial(c.serial, field(blocks[0]!, 'serial')))).toMatchObject({ trustDomain: 'cache' });
    // The retired key's leaf: renewed by the CA's current key, the chain the current intermediate.
    expect(curl(renewLeaf, renewLeaf.replace(/\.crt$/, '.key'))).toBe('200');
    blocks = readFileSync(out, 'utf8').match(PEM_BLOCK)!;
    expect(blocks[1]!.trim()).toBe(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8').trim());
    expect(runPeer('openssl', ['verify', '-CAfile', mainRoot, '-untrusted', out, out]).stdout).toMatch(/: OK/);
    expect(listed(dir).find((c) => sameSerial(c.serial, field(blocks[0]!, 'serial')))).toMatchObject({ ca: 'default' });
  });

  it("serves the domain's root, intermediate and CRL under /domains/cache/, and 404 for a domain that does not exist", async () => {
    const rootPem = await get('/domains/cache/root.pem');
    expect(rootPem.body.toString().trim()).toBe(readFileSync(domainRoot, 'utf8').trim());
    const rootDer = await get('/domains/cache/root.crt');
    expect(rootDer.headers['content-type']).toBe('application/pkix-cert');
    expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: rootDer.body, encoding: 'utf8' })).toMatch(/pki cache Root CA/);
    const crt = await get('/domains/cache/intermediate.crt');
    expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: crt.body, encoding: 'utf8' })).toMatch(/pki cache Intermediate CA/);
    expect((await get('/domains/cache/intermediate.pem')).body.toString().trim()).toBe(readFileSync(domainCa(), 'utf8').trim());
    // The main root stays at /roots.pem: the domain's is not mixed in.
    expect((await get('/roots.pem')).body.toString()).not.toContain(readFileSync(domainRoot, 'utf8').trim());
    expect((await get('/domains/nosuch/root.pem')).status).toBe(404);
  });

  it("exports each CA's CRL nextUpdate as pki_crl_next_update_timestamp_seconds (the domain's labelled), and promtool accepts it", async () => {
    const r = await fetchOnce(`${server.httpUrl}/metrics`);
    const text = r.body.toString();
    expect(text).toMatch(/^pki_crl_next_update_timestamp_seconds \d/m);
    expect(text).toMatch(/^pki_crl_next_update_timestamp_seconds\{trust_domain="cache"\} \d/m);
    expect(text.match(/^# TYPE pki_crl_next_update_timestamp_seconds gauge$/gm)).toHaveLength(1);
    const check = runPeer('promtool', ['check', 'metrics'], { input: text });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('SIGHUP: a provisioner moved to a trust domain made after the start is refused (restart to load it), the previous domain stays; moved to the main hierarchy it applies', async () => {
    const base = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')).serve;
    ok(pki(['generate', 'nginx', 'main', '--trust-domain', 'late', '--no-password', '--insecure', '--dir', dir]));
    const order = async (name: string) => {
      const client = new acme.Client({ directoryUrl: server.directoryUrl.replace('/acme/acme/', '/acme/cache/'), accountKey: await acme.crypto.createPrivateEcdsaKey('P-256') });
      const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      return field((await client.auto(http01Auto(csr, http01.answers))).match(PEM_BLOCK)![0]!, 'issuer');
    };
    writeServeConfig(dir, { ...base, provisioners: { cache: { allow: ['*.cache.test'], trustDomain: 'late' } } });
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reload refused; the previous configuration stays","error":"ACME provisioner \\"cache\\" names trust domain \\"late\\", which was added after pki serve started/);
    expect(await order('kept.cache.test')).toBe('CN = pki cache Intermediate CA');
    writeServeConfig(dir, { ...base, provisioners: { cache: { allow: ['*.cache.test'] } } });
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reloaded pki\.json"/);
    expect(await order('moved.cache.test')).toBe('CN = pki Intermediate CA');
    writeServeConfig(dir, base);
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reloaded pki\.json"[^]*"message":"reloaded pki\.json"/);
  });
});

describe('pki serve: trust domains at start', () => {
  it('refuses a provisioner naming a trust domain that does not exist: one stderr line, exit 1', () => {
    const dir = initCa();
    ok(pki(['generate', 'redis', 'main', '--trust-domain', 'cache', '--no-password', '--insecure', '--dir', dir]));
    writeServeConfig(dir, { provisioners: { web: { allow: ['*.test'], trustDomain: 'nosuch' } } });
    const line = expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1);
    expect(line).toMatch(/^pki: error: ACME provisioner "web" names trust domain "nosuch", which does not exist in .* \(trust domains: cache\) \(create it with "pki generate <service> <variant> --trust-domain nosuch"/);
  });

  it('refuses a provisioner with both ca and trustDomain, and a malformed domain name: one line each, exit 1', () => {
    const dir = initCa();
    writeServeConfig(dir, { provisioners: { web: { ca: 'default', trustDomain: 'cache' } } });
    expect(expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1)).toMatch(/serve\.provisioners\.web\.trustDomain.*give "ca" or "trustDomain", not both/);
    writeServeConfig(dir, { provisioners: { web: { trustDomain: 'Not_A_Name' } } });
    expect(expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1)).toMatch(/serve\.provisioners\.web\.trustDomain.*must be the name of a trust domain/);
  });
});

describe('pki serve across an intermediate rotation: ACME download and revocation of a leaf of the retired key', () => {
  it('serves the retired intermediate in the chain and lists the revocation on the retired key\'s CRL too', async () => {
    requirePeer('openssl');
    const dir = initCa();
    const port = await freePort();
    const http01 = await startHttp01(port);
    writeServeConfig(dir, { acme: { allow: ['*.test'], resolve: { '*.test': '127.0.0.1' }, httpPort: port } });
    const root = readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8');
    const oldIntermediate = readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8');
    // The same port across the restart: the order's URLs stay valid.
    const listen = ['--listen', `127.0.0.1:${await freePort()}`];
    let server = await startPkiServe(dir, { args: listen });
    try {
      acme.axios.defaults.httpsAgent = new Agent({ ca: root });
      const accountKey = await acme.crypto.createPrivateEcdsaKey('P-256');
      const client = new acme.Client({ directoryUrl: server.directoryUrl, accountKey });
      await client.createAccount({ termsOfServiceAgreed: true });
      const [, csr] = await acme.crypto.createCsr({ commonName: 'before.test', altNames: ['before.test'] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'before.test' }] });
      const auto = http01Auto(csr, http01.answers);
      for (const authz of await client.getAuthorizations(order)) {
        const challenge = authz.challenges.find((c) => c.type === 'http-01')!;
        await auto.challengeCreateFn(authz, challenge, await client.getChallengeKeyAuthorization(challenge));
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      }
      const finalized = await client.finalizeOrder(order, csr);
      const before = await client.getCertificate(finalized);
      expect(before.match(PEM_BLOCK)![1]!.trim()).toBe(oldIntermediate.trim());
      await server.stop();
      ok(pki(['ca', 'rotate', '--dir', dir, '--insecure']));
      server = await startPkiServe(dir, { args: listen });
      const again = new acme.Client({ directoryUrl: server.directoryUrl, accountKey, accountUrl: client.getAccountUrl() });
      const after = await again.getCertificate(finalized);
      const blocks = after.match(PEM_BLOCK)!;
      // The intermediate that signed it, not the one that signs today.
      expect(blocks[1]!.trim()).toBe(oldIntermediate.trim());
      expect(blocks[1]!.trim()).not.toBe(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8').trim());
      const work = tempDir('pki-serve-rotated-');
      writeFileSync(join(work, 'leaf.crt'), blocks[0]!);
      writeFileSync(join(work, 'chain.crt'), blocks[1]!);
      writeFileSync(join(work, 'root.crt'), root);
      expect(runPeer('openssl', ['verify', '-CAfile', join(work, 'root.crt'), '-untrusted', join(work, 'chain.crt'), join(work, 'leaf.crt')]).stdout).toMatch(/: OK/);
      await again.revokeCertificate(after, { reason: 1 });
      const hex = field(blocks[0]!, 'serial').replace(/^0+/, '').toUpperCase();
      const retiredCrls = readdirSync(join(dir, 'crl', 'retired')).filter((n) => n.endsWith('.crl'));
      expect(retiredCrls).toHaveLength(1);
      const retiredCrl = execFileSync('openssl', ['crl', '-in', join(dir, 'crl', 'retired', retiredCrls[0]!), '-noout', '-text'], { encoding: 'utf8' }).replace(/\s/g, '').toUpperCase();
      expect(retiredCrl).toContain(`SERIALNUMBER:${hex}`);
      // Signed by the retired key: openssl checks the CRL's signature with the old intermediate.
      const checked = runPeer('openssl', ['crl', '-in', join(dir, 'crl', 'retired', retiredCrls[0]!), '-CAfile', join(work, 'chain.crt'), '-noout']);
      expect(checked.stdout + checked.stderr).toMatch(/verify OK/);
    } finally {
      await server.stop();
      await http01.close();
    }
  }, 180_000);
});

describe('pki serve with delegated: false after a rotation', () => {
  it('the retired intermediate signs the responses for its own leaves (verified against the root), the current one for its own', async () => {
    requirePeer('openssl');
    const dir = initCa();
    const work = tempDir('pki-serve-retired-nodelegate-');
    const old = signLeaf(dir, work, 'old.test');
    ok(pki(['ca', 'rotate', '--dir', dir, '--insecure']));
    const current = signLeaf(dir, work, 'new.test');
    writeServeConfig(dir, { ocsp: { delegated: false } });
    const server = await startPkiServe(dir, { http: true });
    try {
      const ask = (issuer: string, cert: string) => {
        const r = runPeer('openssl', ['ocsp', '-issuer', issuer, '-cert', cert, '-url', server.ocspUrl, '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-resp_text']);
        return `${r.stdout}${r.stderr}`;
      };
      const retired = ask(retiredIntermediate(dir), old);
      expect(retired).toMatch(/Response verify OK/);
      expect(retired).toMatch(/old\.test\.crt: good/);
      expect(retired).toMatch(/Responder Id: CN = pki Intermediate CA/);
      // The certificate sent with the response is the retired one (its serial), not the current intermediate.
      const serialOf = (file: string) => field(readFileSync(file, 'utf8'), 'serial');
      expect(retired.replace(/[\s:]/g, '').toUpperCase()).toContain(serialOf(retiredIntermediate(dir)).toUpperCase());
      const now = ask(join(dir, 'ca', 'intermediate_ca.crt'), current);
      expect(now).toMatch(/Response verify OK/);
      expect(now).toMatch(/new\.test\.crt: good/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
