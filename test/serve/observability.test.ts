/**
 * Issue 13, operations: /metrics is Prometheus text that `promtool check metrics` accepts, counting
 * requests by endpoint and status, the listener certificate's issuance (count and latency histogram) and
 * the gauges; the access log is one JSON line per request on stdout, and carries no secret — a marker sent
 * in an ACME-ish POST's body, in a query string and in an Authorization header appears nowhere in stdout
 * or stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { runPeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { fetchOnce, rootPem } from '../helpers/serve-client.js';

const MARKER = 'm4rker-7f3a9c1e';

describe('pki serve /metrics and the access log', () => {
  let dir: string;
  let ca: string;
  let server: PkiServe;
  beforeAll(async () => {
    dir = initCa();
    ca = rootPem(dir);
    server = await startPkiServe(dir, { http: true });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('counts requests by endpoint and status, and promtool check metrics accepts the exposition', async () => {
    for (let i = 0; i < 3; i++) expect((await fetchOnce(`${server.httpsUrl}/health`, { ca })).status).toBe(200);
    expect((await fetchOnce(`${server.httpUrl}/health`)).status).toBe(200);
    expect((await fetchOnce(`${server.httpsUrl}/nothing-here`, { ca })).status).toBe(404);
    expect((await fetchOnce(`${server.httpsUrl}/health`, { ca, method: 'POST', body: 'x' })).status).toBe(405);
    const r = await fetchOnce(`${server.httpUrl}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = r.body.toString();
    expect(text).toContain('pki_http_requests_total{endpoint="health",status="200"} 4');
    expect(text).toContain('pki_http_requests_total{endpoint="unknown",status="404"} 1');
    expect(text).toContain('pki_http_requests_total{endpoint="health",status="405"} 1');
    expect((await fetchOnce(`${server.httpsUrl}/acme/acme/directory`, { ca })).status).toBe(200);
    expect((await fetchOnce(`${server.httpsUrl}/acme/acme/no-such-thing`, { ca })).status).toBe(404);
    const after = (await fetchOnce(`${server.httpUrl}/metrics`)).body.toString();
    expect(after).toContain('pki_http_requests_total{endpoint="acme.directory",status="200"} 1');
    expect(after).toContain('pki_http_requests_total{endpoint="acme",status="404"} 1');
    expect(text).toContain('pki_certificates_issued_total{source="listener"} 1');
    expect(text).toMatch(/^pki_issuance_duration_seconds_count\{source="listener"\} 1$/m);
    expect(text).toMatch(/^pki_http_request_duration_seconds_count\{endpoint="health"\} 5$/m);
    expect(text).toMatch(/^pki_serve_start_time_seconds \d+(\.\d+)?(e\+\d+)?$/m);
    expect(text).toMatch(/^pki_serve_listener_certificate_not_after_timestamp_seconds \d/m);
    const check = runPeer('promtool', ['check', 'metrics'], { input: text });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('writes one JSON access line per request on stdout, without bodies, queries or headers', async () => {
    const before = server.stdout.text.length;
    const jws = JSON.stringify({ protected: Buffer.from(JSON.stringify({ alg: 'ES256', nonce: MARKER })).toString('base64url'), payload: Buffer.from(`{"contact":["mailto:${MARKER}@x"]}`).toString('base64url'), signature: MARKER });
    const headers = { 'Content-Type': 'application/jose+json', Authorization: `Bearer ${MARKER}`, 'User-Agent': MARKER };
    const acme = await fetchOnce(`${server.httpsUrl}/acme/acme/new-account?token=${MARKER}`, { ca, method: 'POST', headers, body: jws });
    expect(acme.headers['content-type']).toBe('application/problem+json');
    const raw = await fetchOnce(`${server.httpsUrl}/ocsp?${MARKER}`, { ca, method: 'POST', headers, body: `${MARKER}${MARKER}` });
    expect(raw.status).toBe(200);
    await server.stdout.waitFor(/"path":"\/ocsp"[^\n]*\n$/);
    // every line is JSON; the two of this test (the /metrics line of the previous one may land after `before`)
    const lines = server.stdout.text.slice(before).trim().split('\n').filter((l) => !l.includes('"path":"/metrics"'));
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ type: 'access', listener: 'https', method: 'POST', path: '/acme/acme/new-account', endpoint: 'acme.new-account', status: acme.status });
    expect(second).toMatchObject({ type: 'access', path: '/ocsp', endpoint: 'ocsp', status: 200 });
    expect(Object.keys(first!).sort()).toEqual(['endpoint', 'listener', 'method', 'ms', 'path', 'remote', 'status', 'time', 'type']);
    expect(server.stdout.text + server.stderr.text).not.toContain(MARKER);
    expect(server.stdout.text + server.stderr.text).not.toContain(MARKER.slice(0, 8));
  });
});
