/**
 * Issue 13 "Limits": with serve.limits in pki.json set small (headers within 1 s, the whole request within
 * 4 s, bodies of at most 1024 bytes), a client trickling header bytes and one trickling its body are cut
 * off with 408 and the connection closed, while /health keeps answering other clients meanwhile; a body
 * over the limit gets 413 and the connection is closed — declared with Content-Length (also from curl) or
 * streamed in chunks without one. Every cut-off is in the access log.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, tempDir } from '../helpers/cli.js';
import { requirePeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { fetchOnce, pause, rawConnect, rootPem, within, writeServeConfig, type RawConnection } from '../helpers/serve-client.js';

const HEADER_MS = 1_000;
const REQUEST_MS = 4_000;
/** How late a cut-off may come on a loaded machine (node checks deadlines every 250 ms). */
const SLACK_MS = 3_000;

describe('pki serve limits', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  beforeAll(async () => {
    dir = initCa();
    ca = rootPem(dir);
    writeServeConfig(dir, { limits: { headerTimeout: '1s', requestTimeout: '4s', bodyBytes: 1024 } });
    server = await startPkiServe(dir);
  }, 60_000);
  afterAll(async () => server?.stop());

  /** Sends `next()` every `everyMs` until the server closes the connection; /health is asked meanwhile. */
  async function trickleUntilClosed(c: RawConnection, next: () => string, everyMs: number, deadlineMs: number): Promise<{ closedAfterMs: number; healthAnswers: number }> {
    const started = Date.now();
    let closed = false;
    void c.closed.then(() => (closed = true));
    const trickle = (async () => {
      while (!closed) {
        c.write(next());
        await pause(everyMs);
      }
    })();
    let healthAnswers = 0;
    const health = (async () => {
      while (!closed) {
        const r = await fetchOnce(`${server.httpsUrl}/health`, { ca });
        expect(r.status).toBe(200);
        healthAnswers++;
      }
    })();
    const at = await within(c.closed, deadlineMs, 'the slow client was not cut off');
    await Promise.all([trickle, health]);
    return { closedAfterMs: at - started, healthAnswers };
  }

  it('cuts off a client that trickles its headers after headerTimeout, answering others meanwhile', async () => {
    const c = await rawConnect(server.httpsUrl, ca);
    c.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
    let n = 0;
    const r = await trickleUntilClosed(c, () => `X-Slow-${n++}: a\r\n`, 100, HEADER_MS + SLACK_MS);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(HEADER_MS - 100);
    // Before the whole-request deadline: the header deadline is what cut it off.
    expect(r.closedAfterMs).toBeLessThan(REQUEST_MS - 500);
    expect(r.healthAnswers).toBeGreaterThanOrEqual(3);
    expect(c.received.text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts off a client that trickles its body after requestTimeout, answering others meanwhile', async () => {
    const c = await rawConnect(server.httpsUrl, ca);
    c.write('POST /ocsp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\nContent-Length: 1000\r\n\r\n');
    const r = await trickleUntilClosed(c, () => 'x', 100, REQUEST_MS + SLACK_MS);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_MS - 100);
    expect(r.closedAfterMs).toBeLessThan(REQUEST_MS + SLACK_MS);
    expect(r.healthAnswers).toBeGreaterThanOrEqual(3);
    expect(c.received.text).toMatch(/^HTTP\/1\.1 408 /);
    await server.stdout.waitFor(/"endpoint":"ocsp","status":408/);
  });

  it('answers a declared body over bodyBytes with 413 and closes the connection', async () => {
    const c = await rawConnect(server.httpsUrl, ca);
    c.write('POST /ocsp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n');
    c.write(Buffer.alloc(2048, 0x41));
    await within(c.closed, 5_000, 'the connection stayed open after 413');
    expect(c.received.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.received.text).toMatch(/Connection: close/i);
    expect(c.received.text).toContain('"status":413');
  });

  it('answers a chunked body without Content-Length that grows over bodyBytes with 413 and closes the connection', async () => {
    const c = await rawConnect(server.httpsUrl, ca);
    c.write('POST /ocsp HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
    let closed = false;
    void c.closed.then(() => (closed = true));
    const chunk = `200\r\n${'B'.repeat(0x200)}\r\n`;
    for (let i = 0; i < 20 && !closed && !/HTTP\/1\.1 413/.test(c.received.text); i++) {
      c.write(chunk);
      await pause(20);
    }
    await within(c.closed, 5_000, 'the connection stayed open after 413');
    expect(c.received.text).toMatch(/^HTTP\/1\.1 413 /);
    await server.stdout.waitFor(/"endpoint":"ocsp","status":413/);
  });

  it('curl posting 4 KiB gets 413; 1 KiB is still taken', () => {
    requirePeer('curl');
    const work = tempDir('pki-limits-');
    writeFileSync(join(work, 'big'), Buffer.alloc(4096, 0x43));
    writeFileSync(join(work, 'small'), Buffer.alloc(1024, 0x43));
    const curl = (file: string) =>
      execFileSync('curl', ['-sS', '--max-time', '10', '--cacert', join(dir, 'ca', 'root_ca.crt'), '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Content-Type: application/ocsp-request', '--data-binary', `@${join(work, file)}`, `${server.httpsUrl}/ocsp`], { encoding: 'utf8' });
    expect(curl('big')).toBe('413');
    expect(curl('small')).toBe('200');
  });

  it('logged the header cut-off too, and still answers /health', async () => {
    await server.stdout.waitFor(/"endpoint":"timeout","status":408/);
    expect((await fetchOnce(`${server.httpsUrl}/health`, { ca })).status).toBe(200);
  });
});
