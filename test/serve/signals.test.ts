/**
 * Issue 13, operations: SIGTERM lets in-flight requests finish — a request whose body is still being sent
 * when the signal arrives is answered, then the process exits 0 and the inventory passes PRAGMA
 * integrity_check; SIGHUP reloads pki.json — a smaller serve.limits.bodyBytes takes effect without a
 * restart, and an invalid pki.json is refused with an event line while the previous configuration stays.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { waitForExit } from '../helpers/process.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { fetchOnce, rawConnect, rootPem, within, writeServeConfig } from '../helpers/serve-client.js';

describe('pki serve SIGHUP', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  beforeAll(async () => {
    dir = initCa();
    ca = rootPem(dir);
    writeServeConfig(dir, { limits: { bodyBytes: 4096 } });
    server = await startPkiServe(dir);
  }, 60_000);
  afterAll(async () => server?.stop());

  const post = (bytes: number) => fetchOnce(`${server.httpsUrl}/ocsp`, { ca, method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: Buffer.alloc(bytes, 0x30) });

  it('applies a smaller serve.limits.bodyBytes without a restart', async () => {
    expect((await post(2000)).status).toBe(200);
    writeServeConfig(dir, { limits: { bodyBytes: 1000 } });
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reloaded pki.json"/);
    expect((await post(2000)).status).toBe(413);
    expect((await post(900)).status).toBe(200);
  });

  it('refuses an invalid pki.json with an event line and keeps the previous configuration', async () => {
    const before = server.stderr.text.length;
    writeServeConfig(dir, { limits: { bodyBytes: 'lots' } });
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/"message":"reload refused; the previous configuration stays","error":"[^"]*bodyBytes[^"]*"/);
    expect(server.stderr.text.slice(before)).not.toMatch(/"reloaded pki.json"/);
    expect((await post(2000)).status).toBe(413);
    expect((await post(900)).status).toBe(200);
    // a broken JSON file too
    writeFileSync(join(dir, 'pki.json'), readFileSync(join(dir, 'pki.json'), 'utf8').slice(0, 20));
    process.kill(server.pid, 'SIGHUP');
    await server.stderr.waitFor(/reload refused[^\n]*\n[^]*reload refused/);
    expect((await fetchOnce(`${server.httpsUrl}/health`, { ca })).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});

describe('pki serve SIGTERM', () => {
  it('answers a request whose body is still arriving, then exits 0 with an intact inventory', async () => {
    const dir = initCa();
    const ca = rootPem(dir);
    const server = await startPkiServe(dir);
    try {
      const c = await rawConnect(server.httpsUrl, ca);
      // Expect: 100-continue: the server says "100 Continue" once a handler holds the request.
      c.write('POST /ocsp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n');
      await c.received.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      c.write('01234');
      process.kill(server.pid, 'SIGTERM');
      await server.stderr.waitFor(/"message":"stopping","signal":"SIGTERM"/);
      // stopped accepting: a new request gets no answer while the in-flight one is still open
      await expect(fetchOnce(`${server.httpsUrl}/health`, { ca, timeoutMs: 5_000 })).rejects.toThrow(/ECONNREFUSED|disconnected|ECONNRESET/);
      c.write('56789');
      await c.received.waitFor(/HTTP\/1\.1 200 OK[^]*\r\n\r\n/);
      expect(c.received.text).toMatch(/connection: close/i);
      const exit = await waitForExit(server.child, 15_000);
      expect(exit).toEqual({ code: 0, signal: null });
      await within(c.closed, 5_000, 'the connection stayed open');
      expect(server.stdout.text).toMatch(/"method":"POST","path":"\/ocsp","endpoint":"ocsp","status":200/);
      const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    } finally {
      await server.stop();
    }
  });
});
