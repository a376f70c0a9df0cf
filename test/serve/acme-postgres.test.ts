/**
 * Issue 14: two `pki serve` instances (two copies of one CA home, as on two CA hosts) sharing a PostgreSQL
 * inventory, a real PostgreSQL 15 started here. An account made on one is known to the other; a nonce
 * handed out by one is good on the other, once; an order made on one is finalised once when both receive
 * the finalize at the same moment (one 200, one orderNotReady, one certificate in the inventory); and a
 * certificate revoked with `pki revoke` on one host is answered revoked by the other's OCSP responder.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { requirePeer } from '../helpers/peers.js';
import { psql, startPostgres, twoCaHostsOnPostgres, type TlsPostgres } from '../helpers/postgres.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { answerHttp01, httpsCall, opensslCsr, pollUntil, RawAcme, startHttp01 } from './acme-orders-client.js';

const ERR = 'urn:ietf:params:acme:error:';

describe('two pki serve instances on one PostgreSQL inventory', () => {
  let db: TlsPostgres;
  let database: string;
  let homes: [string, string];
  let servers: PkiServe[] = [];
  let http01: Awaited<ReturnType<typeof startHttp01>>;
  let rootFile: string;
  const origin = (s: PkiServe) => new URL(s.directoryUrl).origin;
  /** The same URL on the other instance. */
  const on = (url: string, to: PkiServe) => url.replace(/^https:\/\/[^/]+/, origin(to));

  beforeAll(async () => {
    requirePeer('openssl');
    db = await startPostgres();
    ({ homes, database, rootFile } = twoCaHostsOnPostgres(db)); // the second CA host is a copy of the home
    const port = await freePort();
    http01 = await startHttp01(port);
    const args = ['--acme-allow', '*.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(port)];
    servers = await Promise.all(homes.map((h) => startPkiServe(h, { args, http: true })));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await http01?.close();
    await db?.server.stop();
  });

  it('an account made on one instance is known to the other; a nonce from one is good on the other, once', async () => {
    const [a, b] = servers as [PkiServe, PkiServe];
    const onA = await RawAcme.create(a.directoryUrl, rootFile);
    await onA.newAccount();
    const onB = onA.clone();
    await onB.moveTo(b.directoryUrl);
    const nonce = String((await httpsCall(onA.directory.newNonce!, { method: 'HEAD', ca: onA.ca })).headers['replay-nonce']);
    (onB as unknown as { nonce: string }).nonce = nonce;
    const order = await onB.newOrder([{ type: 'dns', value: 'shared.test' }]);
    expect(order.status, order.body).toBe(201);
    (onA as unknown as { nonce: string }).nonce = nonce;
    const replay = await onA.newOrder([{ type: 'dns', value: 'again.test' }]);
    expect(replay.status).toBe(400);
    expect(replay.json().type).toBe(`${ERR}badNonce`);
    expect(Number(psql(db, 'SELECT count(*) FROM acme_accounts', database).trim())).toBe(1);
  });

  it('an order finalised on both instances at once is issued once', async () => {
    const [a, b] = servers as [PkiServe, PkiServe];
    const onA = await RawAcme.create(a.directoryUrl, rootFile);
    await onA.newAccount();
    const onB = onA.clone();
    await onB.moveTo(b.directoryUrl);
    const created = await onA.newOrder([{ type: 'dns', value: 'race.test' }]);
    expect(created.status).toBe(201);
    const orderUrl = String(created.headers.location);
    const [authz] = await answerHttp01(onA, created.json(), http01.answers);
    expect(authz.status).toBe('valid');
    const ready = (await onB.post(on(orderUrl, b), undefined)).json();
    expect(ready.status).toBe('ready'); // the other instance sees the authorization's outcome
    const csr = { csr: opensslCsr(['race.test']).der.toString('base64url') };
    const before = Number(psql(db, 'SELECT count(*) FROM certificates', database).trim());
    const [first, second] = await Promise.all([onA.post(ready.finalize.replace(/^https:\/\/[^/]+/, origin(a)), csr), onB.post(on(ready.finalize, b), csr)]);
    expect([first.status, second.status].sort()).toEqual([200, 403]);
    expect((first.status === 403 ? first : second).json().type).toBe(`${ERR}orderNotReady`);
    const done = await pollUntil(() => onB.post(on(orderUrl, b), undefined).then((r) => r.json()), (o) => o.status === 'valid', 30_000, 'the order');
    expect(Number(psql(db, 'SELECT count(*) FROM certificates', database).trim())).toBe(before + 1);
    expect(psql(db, `SELECT count(*) FROM acme_orders WHERE certificate_serial IS NOT NULL AND id = '${orderUrl.split('/').pop()}'`, database).trim()).toBe('1');
    const pem = (await onA.post(done.certificate.replace(/^https:\/\/[^/]+/, origin(a)), undefined)).body.toString('utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('a certificate revoked on one host is revoked in the other instance\'s OCSP answers', async () => {
    const [home] = homes;
    const [, b] = servers as [PkiServe, PkiServe];
    const leaf = join(tempDir(), 'leaf.crt');
    const csrFile = join(tempDir(), 'leaf.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${csrFile}.key`, '-out', csrFile, '-subj', '/CN=ocsp.test'], { stdio: 'ignore' });
    expect(pki(['sign', csrFile, '--out', leaf, '--dir', home, '--insecure']).code).toBe(0);
    const ocsp = () =>
      execFileSync('openssl', ['ocsp', '-issuer', join(home, 'ca', 'intermediate_ca.crt'), '-cert', leaf, '-url', b.ocspUrl, '-CAfile', rootFile, '-no_nonce'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    expect(ocsp()).toMatch(/: good/);
    expect(pki(['revoke', leaf, '--reason', 'keyCompromise', '--dir', home, '--insecure']).code).toBe(0);
    await pollUntil(async () => ocsp(), (text) => /: revoked/.test(text), 10_000, 'the OCSP answer of the other instance');
  });
});
