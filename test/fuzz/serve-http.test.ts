/**
 * Issue 13, done-means 7: the HTTP surface of `pki serve` fuzzed against one running server — 10,000
 * random requests (fast-check; FUZZ_RUNS multiplies them up to ×5, FUZZ_SEED pins the seed) sent 32 at a time:
 * malformed JSON, flattened JWS objects with garbage members, bad base64url, random bytes, bodies over the
 * limit, path traversal and odd percent-escapes in URLs, every method; raw requests with odd bytes in the
 * request line; slowloris clients trickling headers and bodies meanwhile. No crash, no hang, no 500 (but
 * from a stub that says it is not implemented yet); every
 * answer has a status; every error answer (and so every ACME error) is one JSON problem document
 * (application/problem+json), other ACME answers are JSON or empty; /health still answers 200 at the end.
 */
import fc from 'fast-check';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { fetchOnce, pause, rawConnect, rootPem, within, writeServeConfig, type Answer } from '../helpers/serve-client.js';

// FUZZ_RUNS scales the campaign, capped at ×5 here: 50,000 requests take about 3 minutes at ~260/s.
const SCALE = Math.min(5, Math.max(1, Number(process.env.FUZZ_RUNS ?? '1') || 1));
const REQUESTS = 10_000 * SCALE;
const CONCURRENCY = 32;
const BODY_LIMIT = 65_536;

const RESOURCES = ['directory', 'new-nonce', 'new-account', 'new-order', 'revoke-cert', 'key-change', 'renewal-info', 'account', 'orders', 'order', 'finalize', 'authz', 'challenge', 'certificate'];
const b64 = (s: string) => Buffer.from(s).toString('base64url');

const segment = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2e%2f', '%00', '%ff', '%c0%af', '', '~', 'A'.repeat(300), 'abc_DEF-123.x'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/),
);
const acmePath = fc
  .tuple(fc.oneof(fc.constant('acme'), segment), fc.oneof(fc.constantFrom(...RESOURCES), segment), fc.array(segment, { maxLength: 3 }))
  .map(([p, r, ids]) => ['/acme', p, r, ...ids].join('/'));
const path = fc.oneof(
  { weight: 5, arbitrary: acmePath },
  { weight: 1, arbitrary: fc.constantFrom('/health', '/metrics', '/ocsp', '/crl/intermediate_ca.crl', '/roots.pem', '/intermediate.pem', '/intermediate.crt', '/1.0/renew', '/', '/acme/', '/acme/acme/') },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`) },
  { weight: 1, arbitrary: fc.constantFrom('/../../etc/passwd', '/acme/../health', '/%2e%2e/%2e%2e/etc/shadow', '/ocsp/../../ca/intermediate_ca.key', '//acme//acme//directory', '/crl/..%2f..%2fpki.json') },
);
const query = fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }).map((q) => `?${encodeURIComponent(q)}`));

const garbage = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
const b64ish = fc.oneof(fc.string({ maxLength: 60 }), fc.json().map(b64), fc.constantFrom('', '====', '!!!', 'a', 'AAAA+/==', '%%%'));
const jws = fc.record(
  { protected: fc.oneof(b64ish, garbage, fc.record({ alg: fc.constantFrom('ES256', 'none', 'HS256', 'RS256'), nonce: fc.string(), url: fc.string() }).map((h) => b64(JSON.stringify(h)))), payload: fc.oneof(b64ish, garbage), signature: fc.oneof(b64ish, garbage), header: garbage, extra: garbage },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 4, arbitrary: jws.map((j) => JSON.stringify(j)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 2, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"protected":', '[]', 'null', '{"protected":"e30","payload":"","signature":""}', '\u0000\u0001', '{"a":'.repeat(5_000)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')) },
  { weight: 1, arbitrary: fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }).map((n) => 'x'.repeat(n)) },
);
const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  path,
  query,
  body,
  contentType: fc.constantFrom('application/jose+json', 'application/json', 'application/ocsp-request', 'text/plain', 'application/jose+json; charset=utf-8', ''),
});
type FuzzRequest = fc.Infer<typeof request>;

function check(r: FuzzRequest, a: Answer): string | null {
  if (!Number.isInteger(a.status) || a.status < 200 || a.status > 599) return `no status (${a.status})`;
  const type = String(a.headers['content-type'] ?? '');
  if (r.method === 'HEAD' || a.body.length === 0) return a.status >= 400 && r.method !== 'HEAD' ? `an empty ${a.status} answer` : null;
  if (a.status >= 400) {
    if (type !== 'application/problem+json') return `a ${a.status} answer as ${type}`;
    const problem = JSON.parse(a.body.toString()) as { type?: unknown; status?: unknown };
    if (typeof problem.type !== 'string' || problem.status !== a.status) return `not one problem document: ${a.body.toString().slice(0, 200)}`;
  } else if (r.path.startsWith('/acme/') && /json/.test(type)) JSON.parse(a.body.toString());
  return null;
}

describe('pki serve HTTP surface fuzz', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  beforeAll(async () => {
    dir = initCa();
    ca = rootPem(dir);
    writeServeConfig(dir, { limits: { headerTimeout: '1s', requestTimeout: '2s', bodyBytes: BODY_LIMIT } });
    server = await startPkiServe(dir, { http: true, args: ['--acme-allow', '*.test'] });
  }, 60_000);
  afterAll(async () => server?.stop());

  /** A slow client; resolves with how long the server took to cut it off. */
  async function slowloris(kind: 'headers' | 'body'): Promise<number> {
    const c = await rawConnect(server.httpsUrl, ca);
    const started = Date.now();
    let closed = false;
    void c.closed.then(() => (closed = true));
    c.write(kind === 'headers' ? 'POST /acme/acme/new-order HTTP/1.1\r\nHost: localhost\r\n' : 'POST /acme/acme/new-order HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose+json\r\nContent-Length: 5000\r\n\r\n{"protected":"');
    for (let i = 0; !closed && i < 200; i++) {
      c.write(kind === 'headers' ? `X-${i}: y\r\n` : 'A');
      await pause(50);
    }
    return (await within(c.closed, 10_000, `a slow ${kind} client was not cut off`)) - started;
  }

  it(`answers ${REQUESTS} random requests (32 at a time) with a status and problem documents, slow clients cut off meanwhile`, async () => {
    const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);
    const requests = fc.sample(request, { numRuns: REQUESTS, seed });
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
    const failures: string[] = [];
    const slow = Promise.all([...Array(8)].map((_, i) => slowloris(i % 2 ? 'headers' : 'body')));
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < requests.length && failures.length < 5) {
        const r = requests[next++]!;
        const url = `${r.path.startsWith('/acme/') || next % 2 ? server.httpsUrl : server.httpUrl}${r.path}${r.query}`;
        const sendBody = r.body !== '' && r.method !== 'GET' && r.method !== 'HEAD';
        const headers: Record<string, string> = { ...(r.contentType ? { 'Content-Type': r.contentType } : {}), ...(sendBody ? { 'Content-Length': String(Buffer.byteLength(r.body)) } : {}) };
        try {
          const a = await fetchOnce(url, { method: r.method, headers, ...(sendBody ? { body: r.body } : {}), agent: url.startsWith('https') ? agent : undefined, timeoutMs: 15_000 });
          const problem = check(r, a);
          if (problem) failures.push(`${r.method} ${r.path}${r.query} (${r.body.length} bytes): ${problem}`);
        } catch (e) {
          // a body over the limit may be refused while it is still being sent: the 413 came, the rest was cut
          if (!(sendBody && Buffer.byteLength(r.body) > BODY_LIMIT && /EPIPE|ECONNRESET/.test(String(e)))) failures.push(`${r.method} ${r.path}${r.query}: ${String(e)}`);
        }
      }
    };
    await Promise.all([...Array(CONCURRENCY)].map(worker));
    const seconds = (Date.now() - started) / 1000;
    agent.destroy();
    const cutOff = await slow;
    console.info(`serve-http fuzz: ${next} requests in ${seconds.toFixed(1)} s (${Math.round(next / seconds)}/s), seed ${seed}; slow clients cut off after ${Math.min(...cutOff)}–${Math.max(...cutOff)} ms`);
    expect(failures, `seed ${seed}`).toEqual([]);
    // A 500 is a bug, unless it comes from a part of the server that has not landed yet (a stub says so).
    const internal = server.stderr.text.split('\n').filter((l) => l.includes('"message":"internal error"'));
    expect(internal.filter((l) => !/not implemented yet/.test(l)).slice(0, 5), `seed ${seed}`).toEqual([]);
    for (const ms of cutOff) expect(ms).toBeLessThan(2_000 + 6_000); // requestTimeout + slack for a loaded machine
    expect(server.child.exitCode).toBeNull();
    expect((await fetchOnce(`${server.httpsUrl}/health`, { ca })).status).toBe(200);
  }, 600_000);

  it('answers raw requests with odd bytes in the request line with a status line (or closes), and keeps serving', async () => {
    const lines = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 80 }), { numRuns: 300 * SCALE, seed: 13 });
    for (const bytes of lines) {
      const c = await rawConnect(server.httpUrl!);
      c.write(Buffer.concat([Buffer.from('GET /'), Buffer.from(bytes), Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')]));
      await within(c.closed, 10_000, `no close after ${Buffer.from(bytes).toString('hex')}`);
      const text = c.received.text;
      if (text !== '') expect(text, Buffer.from(bytes).toString('hex')).toMatch(/^HTTP\/1\.1 [2-5]\d\d /);
      expect(text).not.toMatch(/^HTTP\/1\.1 500 /);
    }
    const huge = await rawConnect(server.httpUrl!);
    huge.write(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await within(huge.closed, 10_000, 'a 100 kB request line was not refused');
    expect(huge.received.text).toMatch(/^HTTP\/1\.1 (414|431|400) /);
    expect((await fetchOnce(`${server.httpUrl}/health`)).status).toBe(200);
    expect((await fetchOnce(`${server.httpsUrl}/health`, { ca })).status).toBe(200);
  }, 300_000);
});
