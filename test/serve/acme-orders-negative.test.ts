/**
 * Issue 13, done-means 2 (the order half): negative ACME requests built with `jose` against a real
 * `pki serve` whose http-01 validation reaches a node:http responder on 127.0.0.1. Each gets its RFC 8555
 * error type, nothing is issued and the inventory is unchanged: an identifier outside the allowlist
 * (rejectedIdentifier; several: compound), CSRs whose names differ from the order, ask for CA:TRUE, hold an
 * RSA-1024 key (made by `openssl req`), carry a bad signature or a key type the provisioner does not
 * certify (badCSR), a challenge answered with the
 * wrong key authorization (challenge invalid with incorrectResponse, order invalid), and the per-account
 * order rate limit (rateLimited, 429, Retry-After).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { requirePeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { answerHttp01, opensslCsr, RawAcme, startHttp01 } from './acme-orders-client.js';

const ERR = 'urn:ietf:params:acme:error:';

describe('ACME orders: negative requests (done-means 2)', () => {
  let dir: string;
  let server: PkiServe;
  let http01: Awaited<ReturnType<typeof startHttp01>>;
  let rootFile: string;
  const inventory = () => {
    const r = pki(['list', '--all', '--json', '--dir', dir, '--insecure']);
    if (r.code !== 0) throw new Error(r.stderr);
    return r.stdout;
  };
  const account = async () => {
    const c = await RawAcme.create(server.directoryUrl, rootFile);
    await c.newAccount();
    return c;
  };

  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    rootFile = join(dir, 'ca', 'root_ca.crt');
    const config = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8'));
    config.serve = { ...(config.serve ?? {}), limits: { rateLimits: { ordersPerAccountPerHour: 2 } }, provisioners: { acme: { keyTypes: ['P-256', 'RSA'] } } };
    writeFileSync(join(dir, 'pki.json'), JSON.stringify(config, null, 2));
    const port = await freePort();
    http01 = await startHttp01(port);
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(port)] });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await http01?.close();
  });

  it('refuses an identifier outside the allowlist (rejectedIdentifier), several at once as compound, and IP identifiers', async () => {
    const client = await account();
    const before = inventory();
    const one = await client.newOrder([{ type: 'dns', value: 'db.example' }]);
    expect(one.status).toBe(400);
    expect(one.headers['content-type']).toBe('application/problem+json');
    expect(one.json().type).toBe(`${ERR}rejectedIdentifier`);
    expect(one.json().detail).toMatch(/db\.example/);
    const two = await client.newOrder([
      { type: 'dns', value: 'ok.test' },
      { type: 'dns', value: 'a.b.test' },
      { type: 'dns', value: 'x.example' },
    ]);
    expect(two.json().type).toBe(`${ERR}compound`);
    expect(two.json().subproblems.map((s: any) => [s.type, s.identifier.value])).toEqual([
      [`${ERR}rejectedIdentifier`, 'a.b.test'],
      [`${ERR}rejectedIdentifier`, 'x.example'],
    ]);
    const ip = await client.newOrder([{ type: 'ip', value: '127.0.0.1' }]);
    expect(ip.json().type).toBe(`${ERR}rejectedIdentifier`);
    expect(inventory()).toBe(before);
  });

  it('answers badCSR for names that differ from the order, CA:TRUE, RSA-1024 and a bad signature; the order stays ready and then issues once', async () => {
    const client = await account();
    const created = await client.newOrder([{ type: 'dns', value: 'n1.test' }]);
    expect(created.status).toBe(201);
    const orderUrl = String(created.headers.location);
    const [authz] = await answerHttp01(client, created.json(), http01.answers);
    expect(authz.status).toBe('valid');
    const ready = (await client.post(orderUrl, undefined)).json();
    expect(ready.status).toBe('ready');
    const before = inventory();
    const finalize = (der: Buffer) => client.post(ready.finalize, { csr: der.toString('base64url') });
    const tampered = Buffer.from(opensslCsr(['n1.test']).der);
    tampered[tampered.length - 5] ^= 0x01; // inside the signature
    const cases: [string, Buffer, RegExp][] = [
      ['other names', opensslCsr(['n1.test', 'n2.test']).der, /n2\.test/],
      ['a name missing', opensslCsr(['n9.test'], { cn: 'n9.test' }).der, /n9\.test/],
      ['CA:TRUE', opensslCsr(['n1.test'], { addext: ['basicConstraints=critical,CA:TRUE'] }).der, /CA/],
      ['RSA-1024', opensslCsr(['n1.test'], { key: ['-newkey', 'rsa:1024'] }).der, /1024|weak/i],
      ['bad signature', tampered, /signature/],
      ['a key type the provisioner does not certify (P-384)', opensslCsr(['n1.test'], { key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'] }).der, /P-384.*P-256, RSA/],
    ];
    for (const [what, der, detail] of cases) {
      const r = await finalize(der);
      expect(r.status, what).toBe(400);
      expect(r.json().type, what).toBe(`${ERR}badCSR`);
      expect(r.json().detail, what).toMatch(detail);
      expect(inventory(), what).toBe(before);
    }
    expect((await client.post(orderUrl, undefined)).json().status).toBe('ready');
    const good = opensslCsr(['n1.test']).der;
    const [first, second] = await Promise.all([finalize(good), finalize(good)]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 403]);
    const loser = first.status === 403 ? first : second;
    expect(loser.json().type).toBe(`${ERR}orderNotReady`);
    const done = (await client.post(orderUrl, undefined)).json();
    expect(done.status).toBe('valid');
    const listed = JSON.parse(inventory());
    const previous = JSON.parse(before);
    expect((listed.certificates ?? listed).length).toBe((previous.certificates ?? previous).length + 1);
    // Another account may not read it.
    const other = await account();
    const stranger = await other.post(orderUrl, undefined);
    expect(stranger.status).toBe(403);
    expect(stranger.json().type).toBe(`${ERR}unauthorized`);
  });

  it('marks a challenge answered with the wrong key authorization invalid (incorrectResponse), and the order invalid', async () => {
    const client = await account();
    const before = inventory();
    const created = await client.newOrder([{ type: 'dns', value: 'w.test' }]);
    const [authz] = await answerHttp01(client, created.json(), http01.answers, (token) => `${token}.not-the-account-thumbprint`);
    expect(authz.status).toBe('invalid');
    const challenge = authz.challenges.find((c: any) => c.type === 'http-01');
    expect(challenge.status).toBe('invalid');
    expect(challenge.error.type).toBe(`${ERR}incorrectResponse`);
    const order = (await client.post(String(created.headers.location), undefined)).json();
    expect(order.status).toBe('invalid');
    expect(order.error.type).toBe(`${ERR}incorrectResponse`);
    const refused = await client.post(order.finalize, { csr: opensslCsr(['w.test']).der.toString('base64url') });
    expect(refused.json().type).toBe(`${ERR}orderNotReady`);
    expect(inventory()).toBe(before);
  });

  it('limits orders per account per hour (2 in pki.json): rateLimited, 429, Retry-After', async () => {
    const client = await account();
    expect((await client.newOrder([{ type: 'dns', value: 'r1.test' }])).status).toBe(201);
    expect((await client.newOrder([{ type: 'dns', value: 'r2.test' }])).status).toBe(201);
    const before = inventory();
    const limited = await client.newOrder([{ type: 'dns', value: 'r3.test' }]);
    expect(limited.status).toBe(429);
    expect(limited.json().type).toBe(`${ERR}rateLimited`);
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(3000);
    expect(retry).toBeLessThanOrEqual(3600);
    expect(limited.headers['replay-nonce']).toBeTruthy();
    // Another account is not limited by this one's orders.
    expect((await (await account()).newOrder([{ type: 'dns', value: 'r3.test' }])).status).toBe(201);
    expect(inventory()).toBe(before);
  });
});
