/**
 * Issue 13 (done-means 4, the order half): a challenge left `processing` by a `pki serve` killed with
 * SIGKILL in the middle of its validation is validated again when the server starts on the same CA home,
 * without the client POSTing it again; the order then finalises on the new server. Two servers on one CA
 * home (one inventory) finalising the same order at once issue one certificate: the loser gets
 * orderNotReady.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { requirePeer } from '../helpers/peers.js';
import { waitForExit } from '../helpers/process.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { join } from 'node:path';
import { opensslCsr, pollUntil, RawAcme, startHttp01 } from './acme-orders-client.js';

describe('ACME challenges survive a killed server', () => {
  let dir: string;
  let port: number;
  let http01: Awaited<ReturnType<typeof startHttp01>>;
  const servers: PkiServe[] = [];
  const start = async () => {
    const s = await startPkiServe(dir, { args: ['--acme-allow', '*.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(port)] });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    requirePeer('openssl');
    dir = initCa();
    port = await freePort();
    http01 = await startHttp01(port);
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await http01?.close();
  });

  it('validates again at start a challenge that was processing when the server was killed', async () => {
    const first = await start();
    const client = await RawAcme.create(first.directoryUrl, join(dir, 'ca', 'root_ca.crt'));
    await client.newAccount();
    const created = await client.newOrder([{ type: 'dns', value: 'k.test' }]);
    const order = created.json();
    const authz = (await client.post(order.authorizations[0], undefined)).json();
    const challenge = authz.challenges.find((c: any) => c.type === 'http-01');
    http01.hang.add(challenge.token);
    const posted = await client.post(challenge.url, {});
    expect(posted.json().status).toBe('processing');
    // The validator is now waiting on the responder: kill the server in the middle of it.
    await pollUntil(async () => http01.hits.some((h) => h.endsWith(challenge.token)), (hit) => hit, 15_000, 'the validation request');
    first.child.kill('SIGKILL');
    await waitForExit(first.child);

    http01.hang.delete(challenge.token);
    http01.answers.set(challenge.token, client.keyAuthorization(challenge.token));
    const second = await start();
    await client.moveTo(second.directoryUrl);
    const authzUrl = order.authorizations[0].replace(new URL(first.directoryUrl).origin, new URL(second.directoryUrl).origin);
    const settled = await pollUntil(() => client.post(authzUrl, undefined).then((r) => r.json()), (a) => a.status !== 'pending', 30_000, 'the authorization');
    expect(settled.status).toBe('valid');
    expect(second.stderr.text).toMatch(/acme challenges left processing are validated again/);
    expect(http01.hits.filter((h) => h.endsWith(challenge.token)).length).toBeGreaterThanOrEqual(2);

    const orderUrl = String(created.headers.location).replace(new URL(first.directoryUrl).origin, new URL(second.directoryUrl).origin);
    const ready = (await client.post(orderUrl, undefined)).json();
    expect(ready.status).toBe('ready');
    const finalized = await client.post(ready.finalize, { csr: opensslCsr(['k.test']).der.toString('base64url') });
    expect(finalized.json().status).toBe('valid');
  });

  it('issues once when two servers on the same inventory finalise the same order at once', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const onA = await RawAcme.create(a.directoryUrl, join(dir, 'ca', 'root_ca.crt'));
    await onA.newAccount();
    const onB = onA.clone();
    await onB.moveTo(b.directoryUrl);
    const created = await onA.newOrder([{ type: 'dns', value: 'twice.test' }]);
    const order = created.json();
    const authz = (await onA.post(order.authorizations[0], undefined)).json();
    const challenge = authz.challenges.find((c: any) => c.type === 'http-01');
    http01.answers.set(challenge.token, onA.keyAuthorization(challenge.token));
    await onA.post(challenge.url, {});
    const orderUrl = String(created.headers.location);
    await pollUntil(() => onA.post(orderUrl, undefined).then((r) => r.json()), (o) => o.status !== 'pending', 30_000, 'the order');
    const count = () => JSON.parse(pki(['list', '--all', '--json', '--dir', dir, '--insecure']).stdout);
    const before = count();
    const csr = opensslCsr(['twice.test']).der.toString('base64url');
    const finalizeB = order.finalize.replace(new URL(a.directoryUrl).origin, new URL(b.directoryUrl).origin);
    // Three clients per server (each its own nonce), all at once.
    const clients = [onA, onB, onA.clone(), onB.clone(), onA.clone(), onB.clone()];
    const results = await Promise.all(clients.map((c, i) => c.post(i % 2 ? finalizeB : order.finalize, { csr })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 403, 403, 403, 403, 403]);
    for (const r of results.filter((r) => r.status === 403)) expect(r.json().type).toBe('urn:ietf:params:acme:error:orderNotReady');
    const after = count();
    const list = (l: any): any[] => (Array.isArray(l) ? l : l.certificates);
    expect(list(after).length).toBe(list(before).length + 1);
  });
});
