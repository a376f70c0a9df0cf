/**
 * Issue 14 point 3 in `pki serve`: an ACME provisioner issues with the CA its `ca` names
 * (serve.provisioners.NAME.ca), and OCSP answers for every issuing CA. Against a real `pki serve` on
 * 127.0.0.1: acme-client orders through provisioner `systems` (`"ca": "systems"`, a `pki ca add systems
 * --permit-dns systems.test` CA) and through the default provisioner; openssl verifies each chain with its
 * own intermediate; `pki list --json` names the CA; `openssl ocsp` gets `good` for both, each response
 * verified against the root and signed by a responder of that CA, then `revoked` after `pki revoke`; ACME
 * revokeCert republishes the right CA's CRL; a name outside the CA's constraints is `rejectedIdentifier`
 * and the server goes on serving; an unknown CA name refuses the start with one line.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { pkiInPty } from '../helpers/pty.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { writeServeConfig } from '../helpers/serve-client.js';
import { http01Auto, httpsCall, pollUntil, RawAcme, startHttp01 } from './acme-orders-client.js';

const ERR = 'urn:ietf:params:acme:error:';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

function addCa(dir: string, name: string, extra: string[] = []): void {
  const r = pki(['ca', 'add', name, ...extra, '--no-password', '--insecure', '--dir', dir]);
  expect(r.code, r.stderr).toBe(0);
}

const subjectOf = (pem: string, what: 'issuer' | 'subject' | 'serial') => execFileSync('openssl', ['x509', '-noout', `-${what}`], { input: pem, encoding: 'utf8' }).trim().replace(/^\w+=\s*/, '');

describe('pki serve: a CA per ACME provisioner, OCSP per CA (acme-client, openssl)', () => {
  let dir: string;
  let work: string;
  let server: PkiServe;
  let http01: Awaited<ReturnType<typeof startHttp01>>;
  let rootFile: string;
  let root: string;
  const systemsCaFile = () => join(dir, 'ca', 'systems', 'intermediate_ca.crt');
  const defaultCaFile = () => join(dir, 'ca', 'intermediate_ca.crt');
  const issued: Record<'systems' | 'default', { chain: string; leafFile: string; serial: string }> = {} as never;

  const order = async (provisioner: string, names: string[]) => {
    const client = new acme.Client({ directoryUrl: server.directoryUrl.replace('/acme/acme/', `/acme/${provisioner}/`), accountKey: await acme.crypto.createPrivateEcdsaKey('P-256') });
    const [, csr] = await acme.crypto.createCsr({ commonName: names[0]!, altNames: names }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const chain = await client.auto(http01Auto(csr, http01.answers));
    return { client, chain };
  };
  const save = (name: string, pem: string) => {
    const file = join(work, name);
    writeFileSync(file, pem);
    return file;
  };
  const listed = (): any[] => {
    const r = pki(['list', '--all', '--json', '--dir', dir, '--insecure']);
    expect(r.code, r.stderr).toBe(0);
    const l = JSON.parse(r.stdout);
    return Array.isArray(l) ? l : l.certificates;
  };
  const sameSerial = (a: string, b: string) => a.replace(/[:\s]/g, '').replace(/^0+/, '').toUpperCase() === b.replace(/[:\s]/g, '').replace(/^0+/, '').toUpperCase();
  const ocsp = (issuer: string, cert: string, extra: string[] = []) => {
    const r = runPeer('openssl', ['ocsp', '-issuer', issuer, '-cert', cert, '-url', server.ocspUrl, '-CAfile', rootFile, ...extra]);
    return `${r.stdout}${r.stderr}`;
  };
  const crlText = async (path: string) => {
    const r = await httpsCall(`${server.httpsUrl}${path}`, { method: 'GET', ca: root });
    expect(r.status, `${path}: ${r.body.toString()}`).toBe(200);
    return execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: r.body, encoding: 'utf8' }).replace(/\s/g, '');
  };

  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    work = tempDir('pki-acme-issuing-ca-');
    addCa(dir, 'systems', ['--permit-dns', 'systems.test']);
    rootFile = join(dir, 'ca', 'root_ca.crt');
    root = readFileSync(rootFile, 'utf8');
    const port = await freePort();
    http01 = await startHttp01(port);
    writeServeConfig(dir, {
      acme: { allow: ['*.test'], resolve: { '.test': '127.0.0.1' }, httpPort: port },
      // `.test` is wider than the CA's constraints on purpose: the constraints must refuse what the allowlist lets through.
      provisioners: { systems: { allow: ['.test'], ca: 'systems' } },
    });
    server = await startPkiServe(dir, { http: true });
    acme.axios.defaults.httpsAgent = new Agent({ ca: root });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await http01?.close();
  });

  it('issues through provisioner "systems" with CA systems: its issuer, its intermediate in the chain, openssl verify OK, listed as ca systems', async () => {
    const { chain } = await order('systems', ['web.systems.test']);
    const blocks = chain.match(PEM_BLOCK)!;
    expect(blocks).toHaveLength(2);
    expect(subjectOf(blocks[0]!, 'issuer')).toBe('CN = pki systems Intermediate CA');
    expect(blocks[1]!.trim()).toBe(readFileSync(systemsCaFile(), 'utf8').trim());
    const leafFile = save('systems.crt', blocks[0]!);
    const out = execFileSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', save('systems-chain-ca.crt', blocks[1]!), leafFile], { encoding: 'utf8' });
    expect(out).toMatch(/: OK/);
    // The default intermediate does not chain it: the right CA signed it, not just the right name.
    const wrong = runPeer('openssl', ['verify', '-CAfile', rootFile, '-untrusted', defaultCaFile(), leafFile]);
    expect(wrong.status).not.toBe(0);
    const serial = subjectOf(blocks[0]!, 'serial');
    const record = listed().find((c) => sameSerial(c.serial, serial));
    expect(record).toMatchObject({ ca: 'systems', issuer: 'CN=pki systems Intermediate CA', status: 'valid' });
    issued.systems = { chain, leafFile, serial };
  });

  it('issues through the default provisioner with the default intermediate, listed as ca default', async () => {
    const { chain } = await order('acme', ['plain.test']);
    const blocks = chain.match(PEM_BLOCK)!;
    expect(subjectOf(blocks[0]!, 'issuer')).toBe('CN = pki Intermediate CA');
    expect(blocks[1]!.trim()).toBe(readFileSync(defaultCaFile(), 'utf8').trim());
    const leafFile = save('default.crt', blocks[0]!);
    expect(execFileSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', save('default-chain-ca.crt', blocks[1]!), leafFile], { encoding: 'utf8' })).toMatch(/: OK/);
    const serial = subjectOf(blocks[0]!, 'serial');
    expect(listed().find((c) => sameSerial(c.serial, serial))).toMatchObject({ ca: 'default', issuer: 'CN=pki Intermediate CA' });
    issued.default = { chain, leafFile, serial };
  });

  it('answers OCSP good for both, each signed by a delegated responder of its own CA that verifies against the root', () => {
    const systems = ocsp(systemsCaFile(), issued.systems.leafFile, ['-resp_text']);
    expect(systems).toMatch(/Response verify OK/);
    expect(systems).toMatch(/systems\.crt: good/);
    expect(systems).toMatch(/Responder Id: CN = pki serve OCSP responder/);
    // The responder certificate carried in the response is the systems CA's.
    expect(systems).toMatch(/Issuer: CN ?= ?pki systems Intermediate CA/);
    expect(systems).not.toMatch(/Issuer: CN ?= ?pki Intermediate CA/);
    const plain = ocsp(defaultCaFile(), issued.default.leafFile, ['-resp_text']);
    expect(plain).toMatch(/Response verify OK/);
    expect(plain).toMatch(/default\.crt: good/);
    expect(plain).toMatch(/Issuer: CN ?= ?pki Intermediate CA/);
    expect(plain).not.toMatch(/Issuer: CN ?= ?pki systems Intermediate CA/);
    // The systems serial asked of the default CA: that CA never issued it.
    const r = runPeer('openssl', ['ocsp', '-issuer', defaultCaFile(), '-serial', `0x${issued.systems.serial}`, '-url', server.ocspUrl, '-CAfile', rootFile, '-no_nonce']);
    expect(`${r.stdout}${r.stderr}`).toMatch(new RegExp(`0x${issued.systems.serial}: unknown`));
    // The systems certificate with the default CA as -issuer: openssl's CertID then hashes systems' name with
    // the default CA's key, which names no CA of this server.
    expect(ocsp(defaultCaFile(), issued.systems.leafFile, ['-no_nonce'])).toMatch(/Responder Error: unauthorized/);
  });

  it('answers OCSP revoked for the systems certificate within seconds of pki revoke in another process; the default one stays good', async () => {
    // Asked once before, so a cached response must be replaced, not just a fresh one signed.
    expect(ocsp(systemsCaFile(), issued.systems.leafFile, ['-no_nonce'])).toMatch(/systems\.crt: good/);
    const r = pki(['revoke', issued.systems.serial, '--reason', 'keyCompromise', '--dir', dir, '--insecure']);
    expect(r.code, r.stderr).toBe(0);
    const out = await pollUntil(async () => ocsp(systemsCaFile(), issued.systems.leafFile, ['-no_nonce']), (o) => /systems\.crt: revoked/.test(o), 5_000, 'the OCSP answer');
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/Reason: keyCompromise/);
    expect(ocsp(defaultCaFile(), issued.default.leafFile)).toMatch(/default\.crt: good/);
    // pki revoke put it on the systems CA's CRL, served at /crl/systems.crl.
    expect(await crlText('/crl/systems.crl')).toContain(`SerialNumber:${issued.systems.serial}`);
  });

  it('revokes by ACME with the CA that issued the certificate: on the systems CRL, not the default one', async () => {
    const { client, chain } = await order('systems', ['api.systems.test']);
    const leaf = chain.match(PEM_BLOCK)![0]!;
    const serial = subjectOf(leaf, 'serial');
    await client.revokeCertificate(leaf, { reason: 4 });
    expect(listed().find((c) => sameSerial(c.serial, serial))).toMatchObject({ ca: 'systems', status: 'revoked' });
    expect(await crlText('/crl/systems.crl')).toContain(`SerialNumber:${serial}`);
    const defaultCrl = await httpsCall(`${server.httpsUrl}/crl/intermediate_ca.crl`, { method: 'GET', ca: root });
    if (defaultCrl.status === 200) expect(execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: defaultCrl.body, encoding: 'utf8' }).replace(/\s/g, '')).not.toContain(`SerialNumber:${serial}`);
    const leafFile = save('api.crt', leaf);
    expect(ocsp(systemsCaFile(), leafFile)).toMatch(/api\.crt: revoked/);
  });

  it("refuses a name outside CA systems' constraints (allowed by the provisioner) as rejectedIdentifier, and goes on serving", async () => {
    const raw = await RawAcme.create(server.directoryUrl.replace('/acme/acme/', '/acme/systems/'), rootFile);
    await raw.newAccount();
    const refused = await raw.newOrder([{ type: 'dns', value: 'outside.test' }]);
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    const problem = refused.json();
    expect(problem.type).toBe(`${ERR}rejectedIdentifier`);
    expect(problem.detail).toMatch(/outside\.test is outside issuing CA systems's name constraints/);
    // The default provisioner (the default intermediate, unconstrained) takes the same name.
    const other = await RawAcme.create(server.directoryUrl, rootFile);
    await other.newAccount();
    expect((await other.newOrder([{ type: 'dns', value: 'outside.test' }])).status).toBe(201);
    expect((await httpsCall(`${server.httpsUrl}/health`, { method: 'GET', ca: root })).status).toBe(200);
    expect((await raw.newOrder([{ type: 'dns', value: 'db.systems.test' }])).status).toBe(201);
  });

  it('SIGHUP: a provisioner naming an unknown CA is refused (the previous CA stays); moving it to another loaded CA applies', async () => {
    const base = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')).serve;
    writeServeConfig(dir, { ...base, provisioners: { systems: { allow: ['.test'], ca: 'nosuch' } } });
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reload refused; the previous configuration stays","error":"ACME provisioner \\"systems\\" names issuing CA \\"nosuch\\", which does not exist/);
    const still = (await order('systems', ['kept.systems.test'])).chain.match(PEM_BLOCK)![0]!;
    expect(subjectOf(still, 'issuer')).toBe('CN = pki systems Intermediate CA');
    writeServeConfig(dir, { ...base, provisioners: { systems: { allow: ['.test'], ca: 'default' } } });
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reloaded pki\.json"/);
    const moved = (await order('systems', ['moved.test'])).chain.match(PEM_BLOCK)![0]!;
    expect(subjectOf(moved, 'issuer')).toBe('CN = pki Intermediate CA');
    writeServeConfig(dir, base);
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reloaded pki\.json"[^]*"message":"reloaded pki\.json"/);
  });

  it('serves each CA\'s intermediate and CRL at its own URL', async () => {
    const crt = await httpsCall(`${server.httpsUrl}/ca/systems/intermediate.crt`, { method: 'GET', ca: root });
    expect(crt.headers['content-type']).toBe('application/pkix-cert');
    expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: crt.body, encoding: 'utf8' })).toMatch(/pki systems Intermediate CA/);
    const pem = await httpsCall(`${server.httpsUrl}/ca/systems/intermediate.pem`, { method: 'GET', ca: root });
    expect(pem.body.toString().trim()).toBe(readFileSync(systemsCaFile(), 'utf8').trim());
    expect(await crlText('/crl/systems.crl')).toMatch(/Issuer:CN=pkisystemsIntermediateCA/);
    expect((await httpsCall(`${server.httpsUrl}/ca/nosuch/intermediate.pem`, { method: 'GET', ca: root })).status).toBe(404);
  });
});

describe('pki serve: issuing CAs at start (openssl ocsp)', () => {
  it('refuses a provisioner naming a CA that does not exist: one stderr line, exit 1', () => {
    const dir = initCa();
    addCa(dir, 'systems');
    writeServeConfig(dir, { provisioners: { web: { allow: ['*.test'], ca: 'nosuch' } } });
    const line = expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1);
    expect(line).toMatch(/^pki: error: ACME provisioner "web" names issuing CA "nosuch", which does not exist in .* \(CAs: default, systems\) \(create it with "pki ca add nosuch"/);
    writeServeConfig(dir, { provisioners: { web: { ca: 'Not_A_Name' } } });
    expect(expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1)).toMatch(/serve\.provisioners\.web\.ca.*must be "default" or the name of a "pki ca add" CA/);
  });

  it('refuses a provisioner whose profile its CA does not issue (--profile-set): one line, exit 1', () => {
    const dir = initCa();
    addCa(dir, 'users', ['--profile-set', 'client']);
    writeServeConfig(dir, { provisioners: { people: { allow: ['*.test'], ca: 'users' } } });
    const line = expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1);
    expect(line).toMatch(/^pki: error: ACME provisioner "people" issues profile "server", which issuing CA "users" does not issue \(it issues client\)/);
  });

  it('a revoked CA: refused when a provisioner names it; else a warning, and OCSP unauthorized for its certificates', async () => {
    requirePeer('openssl');
    const dir = initCa();
    addCa(dir, 'apps');
    const work = tempDir('pki-revoked-ca-');
    const key = join(work, 'a.key');
    const csr = join(work, 'a.csr');
    const leafFile = join(work, 'a.crt');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=a.test', '-addext', 'subjectAltName=DNS:a.test', '-out', csr], { stdio: 'ignore' });
    expect(pki(['sign', csr, '--ca', 'apps', '--out', leafFile, '--dir', dir, '--insecure']).code).toBe(0);
    const revoked = pki(['revoke', join(dir, 'ca', 'apps', 'intermediate_ca.crt'), '--dir', dir, '--insecure']);
    expect(revoked.code, revoked.stderr).toBe(0);
    writeServeConfig(dir, { provisioners: { web: { allow: ['*.test'], ca: 'apps' } } });
    expect(expectOneLineError(pki(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0']), 1)).toMatch(/issuing CA apps .* was revoked/);
    writeServeConfig(dir, {});
    const server = await startPkiServe(dir, { http: true });
    try {
      await server.stderr.waitFor(/pki serve: warning: issuing CA "apps" is not served \(.*revoked.*\): OCSP answers unauthorized for its certificates/);
      const r = runPeer('openssl', ['ocsp', '-issuer', join(dir, 'ca', 'apps', 'intermediate_ca.crt'), '-cert', leafFile, '-url', server.ocspUrl, '-CAfile', join(dir, 'ca', 'root_ca.crt')]);
      expect(`${r.stdout}${r.stderr}`).toMatch(/Responder Error: unauthorized/);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('with --base-url, a CA\'s certificates point at its own CRL and caIssuers URLs, which serve them', async () => {
    requirePeer('openssl');
    const dir = initCa();
    addCa(dir, 'systems');
    const port = await freePort();
    const http01 = await startHttp01(port);
    const listen = await freePort();
    const base = `https://127.0.0.1:${listen}`;
    writeServeConfig(dir, { acme: { resolve: { '*.test': '127.0.0.1' }, httpPort: port }, provisioners: { systems: { allow: ['*.test'], ca: 'systems' } } });
    const server = await startPkiServe(dir, { args: ['--listen', `127.0.0.1:${listen}`, '--base-url', base] });
    const ca = readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8');
    try {
      acme.axios.defaults.httpsAgent = new Agent({ ca });
      const client = new acme.Client({ directoryUrl: `${base}/acme/systems/directory`, accountKey: await acme.crypto.createPrivateEcdsaKey('P-256') });
      const [, csr] = await acme.crypto.createCsr({ commonName: 'b.test', altNames: ['b.test'] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const chain = await client.auto(http01Auto(csr, http01.answers));
      const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'crlDistributionPoints,authorityInfoAccess'], { input: chain.match(PEM_BLOCK)![0]!, encoding: 'utf8' });
      expect(text).toContain(`URI:${base}/crl/systems.crl`);
      expect(text).toContain(`CA Issuers - URI:${base}/ca/systems/intermediate.crt`);
      expect(text).toContain(`OCSP - URI:${base}/ocsp`);
      const issuerDer = (await httpsCall(`${base}/ca/systems/intermediate.crt`, { method: 'GET', ca })).body;
      expect(execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: issuerDer, encoding: 'utf8' })).toMatch(/pki systems Intermediate CA/);
    } finally {
      await server.stop();
      await http01.close();
    }
  }, 120_000);

  it('asks the passphrase once at a terminal when every CA key has the same one', () => {
    const dir = join(tempDir('pki-serve-pty-'), 'ca');
    const env = { PKI_PASSWORD: 'correct horse battery staple' };
    expect(pki(['init', '--dir', dir, '--insecure'], { env }).code).toBe(0);
    expect(pki(['ca', 'add', 'systems', '--dir', dir, '--insecure'], { env }).code).toBe(0);
    expect(readFileSync(join(dir, 'ca', 'systems', 'intermediate_ca.key'), 'utf8')).toContain('ENCRYPTED');
    const r = pkiInPty(['serve', '--dir', dir, '--insecure', '--listen', '127.0.0.1:0'], [
      { expect: 'Passphrase for', send: `${env.PKI_PASSWORD}\r` },
      { expect: 'pki serve: listening on', send: '\x03' },
    ], {}, 30);
    expect(r.output.match(/Passphrase for/g), r.output).toHaveLength(1);
    expect(r.stepsDone, r.output).toBe(2);
    expect(r.output).toMatch(/issued the delegated OCSP signer","ca":"systems"/);
  }, 60_000);

  it('with delegated: false each CA signs its own responses; one request about two CAs is unauthorized', async () => {
    requirePeer('openssl');
    const dir = initCa();
    addCa(dir, 'systems');
    writeServeConfig(dir, { ocsp: { delegated: false } });
    const work = tempDir('pki-ocsp-cas-');
    const leaf = (name: string, ca: string) => {
      const key = join(work, `${name}.key`);
      const csr = join(work, `${name}.csr`);
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-out', csr], { stdio: 'ignore' });
      const out = join(work, `${name}.crt`);
      const r = pki(['sign', csr, '--ca', ca, '--out', out, '--dir', dir, '--insecure']);
      expect(r.code, r.stderr).toBe(0);
      return out;
    };
    const systemsLeaf = leaf('s.test', 'systems');
    const defaultLeaf = leaf('d.test', 'default');
    const server = await startPkiServe(dir, { http: true });
    try {
      const rootFile = join(dir, 'ca', 'root_ca.crt');
      const ask = (args: string[]) => {
        const r = runPeer('openssl', ['ocsp', '-url', server.ocspUrl, '-CAfile', rootFile, '-resp_text', ...args]);
        return `${r.stdout}${r.stderr}`;
      };
      const systems = ask(['-issuer', join(dir, 'ca', 'systems', 'intermediate_ca.crt'), '-cert', systemsLeaf]);
      expect(systems).toMatch(/Response verify OK/);
      expect(systems).toMatch(/Responder Id: CN = pki systems Intermediate CA/);
      expect(systems).toMatch(/s\.test\.crt: good/);
      const plain = ask(['-issuer', join(dir, 'ca', 'intermediate_ca.crt'), '-cert', defaultLeaf]);
      expect(plain).toMatch(/Responder Id: CN = pki Intermediate CA/);
      expect(plain).toMatch(/d\.test\.crt: good/);
      // openssl applies each -issuer to the -cert after it: one request, two CAs.
      const mixed = ask(['-issuer', join(dir, 'ca', 'systems', 'intermediate_ca.crt'), '-cert', systemsLeaf, '-issuer', join(dir, 'ca', 'intermediate_ca.crt'), '-cert', defaultLeaf]);
      expect(mixed).toMatch(/Responder Error: unauthorized/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
