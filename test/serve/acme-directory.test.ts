/**
 * Issue 13: the ACME directory and newNonce of a real `pki serve` over HTTPS (node's https trusting the
 * CA home's root only): the directory names every resource, HEAD new-nonce → 200 and GET → 204, both with
 * a fresh Replay-Nonce and Cache-Control: no-store; the nonces are in the inventory (they outlive the process).
 */
import { readFileSync } from 'node:fs';
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
});
