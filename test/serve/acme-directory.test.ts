/**
 * Issue 13: the ACME directory and newNonce of a real `pki serve` over HTTPS (node's https trusting the
 * CA home's root only): the directory names every resource, HEAD new-nonce → 200 and GET → 204, both with
 * a fresh Replay-Nonce and Cache-Control: no-store; the nonces are in the inventory (they outlive the process);
 * a keep-alive node client (acme-client HEADs a nonce before every request) keeps its connection across HEADs.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { httpsCall } from '../helpers/acme-jws.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { SqliteInventory } from '../../src/store/inventory/sqlite.js';

describe('ACME directory and newNonce', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  beforeAll(async () => {
    dir = initCa();
    ca = readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8');
    server = await startPkiServe(dir, { args: ['--acme-allow', '*.test'] });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('the directory names newNonce, newAccount, newOrder, revokeCert, keyChange, renewalInfo and meta', async () => {
    const answer = await httpsCall(server.directoryUrl, ca);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    const base = server.directoryUrl.replace(/\/directory$/, '');
    expect(answer.json()).toEqual({
      newNonce: `${base}/new-nonce`,
      newAccount: `${base}/new-account`,
      newOrder: `${base}/new-order`,
      revokeCert: `${base}/revoke-cert`,
      keyChange: `${base}/key-change`,
      renewalInfo: `${base}/renewal-info`,
      meta: { externalAccountRequired: false },
    });
  });

  it('HEAD new-nonce → 200 and GET → 204, each with a distinct Replay-Nonce and Cache-Control: no-store', async () => {
    const url = server.directoryUrl.replace(/directory$/, 'new-nonce');
    const head = await httpsCall(url, ca, { method: 'HEAD' });
    const get = await httpsCall(url, ca);
    expect([head.status, get.status]).toEqual([200, 204]);
    for (const a of [head, get]) {
      expect(a.headers['replay-nonce']).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(a.headers['cache-control']).toBe('no-store');
      expect(a.headers['link']).toContain(`<${server.directoryUrl}>;rel="index"`);
    }
    expect(head.headers['replay-nonce']).not.toBe(get.headers['replay-nonce']);
    // The nonce is in the inventory (so it outlives this process), and single-use there too.
    const inventory = new SqliteInventory(join(dir, 'db', 'pki.sqlite'), { create: false });
    try {
      expect(inventory.acmeStore().consumeNonce(get.headers['replay-nonce'] as string, new Date())).toBe(true);
      expect(inventory.acmeStore().consumeNonce(get.headers['replay-nonce'] as string, new Date())).toBe(false);
    } finally {
      inventory.close();
    }
  });

  it('HEAD new-nonce keeps a keep-alive node client on one connection (Content-Length: 0)', async () => {
    const url = server.directoryUrl.replace(/directory$/, 'new-nonce');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const head = () =>
      new Promise<{ reused: boolean; length: string | undefined }>((resolve, reject) => {
        const r = request(url, { method: 'HEAD', agent }, (m) => {
          m.resume();
          m.on('end', () => resolve({ reused: r.reusedSocket, length: m.headers['content-length'] }));
        });
        r.on('error', reject);
        r.end();
      });
    try {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await head());
      expect(answers.map((a) => a.reused)).toEqual([false, true, true, true]);
      expect(answers[0]!.length).toBe('0');
    } finally {
      agent.destroy();
    }
  });
});
