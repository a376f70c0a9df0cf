/**
 * Issue 12, point 1: the servers take what `pki export` writes. nginx serving --fullchain and the bundle
 * key: `openssl s_client -verify_return_error -CAfile ca.crt` verifies the whole chain (and fails with the
 * leaf alone, which is why --fullchain exists). HAProxy with `crt <--haproxy file> ca-file ca.crt verify
 * required`: curl with a client bundle's certificate completes mTLS, and fails without one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { startHaproxy, HAPROXY_PREAMBLE } from '../helpers/haproxy.js';
import { startNginx } from '../helpers/nginx.js';
import { runPeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';

let ca: string;
let certs: string;
let work: string;

beforeAll(() => {
  ca = initCa();
  const g = pki(['generate', 'web', 'main', '--client', 'app', '--dir', ca]);
  expect(g.code, g.stderr).toBe(0);
  certs = join(ca, 'services/web/main/certs');
  work = tempDir('pki-export-peers-');
});

/** A handshake with -verify_return_error: exit 0 only when the chain the server sent verifies to ca.crt. */
function sClient(port: number) {
  return runPeer('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-verify_return_error', '-CAfile', join(certs, 'ca.crt')], { input: '' });
}

describe('nginx serving pki export --fullchain', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('s_client verifies the full chain; with the leaf alone it fails', async () => {
    const full = join(work, 'web-fullchain.pem');
    const r = pki(['export', 'web', 'main', '--fullchain', full, '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
    const leafOnly = join(work, 'web-leaf.pem');
    const d = pki(['export', 'web', 'main', '--der', join(work, 'web.der'), '--dir', ca]);
    expect(d.code, d.stderr).toBe(0);
    writeFileSync(leafOnly, runPeer('openssl', ['x509', '-inform', 'DER', '-in', join(work, 'web.der')]).stdout);
    const serve = async (cert: string) => {
      const n = await startNginx({ server: `    ssl_certificate ${cert};\n    ssl_certificate_key ${join(certs, 'web.key')};\n    location / { return 200 "ok\\n"; }` });
      servers.push(n.server);
      return n.server.port;
    };
    const ok = sClient(await serve(full));
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Verify return code: 0 \(ok\)/);
    expect(ok.stdout).toMatch(/1 s:CN = pki Intermediate CA/);
    const bad = sClient(await serve(leafOnly));
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/unable to get local issuer certificate/);
  });
});

describe('HAProxy with pki export --haproxy', () => {
  let haproxy: Server;
  let pem: string;
  beforeAll(() => {
    pem = join(work, 'haproxy-web.pem');
    const r = pki(['export', 'web', 'main', '--haproxy', pem, '--dir', ca]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await haproxy?.stop();
  });

  const curl = (port: number, extra: readonly string[]) =>
    runPeer('curl', ['--silent', '--show-error', '--max-time', '20', '--cacert', join(certs, 'ca.crt'), ...extra, `https://127.0.0.1:${port}/`]);

  it('curl with the client bundle completes mTLS; without a client certificate the handshake is refused', async () => {
    haproxy = await startHaproxy(
      (port) => `${HAPROXY_PREAMBLE}frontend web
    bind 127.0.0.1:${port} ssl crt ${pem} ca-file ${join(certs, 'ca.crt')} verify required
    http-request return status 200 content-type text/plain lf-string "client %[ssl_c_s_dn(CN)]\\n"
`,
    );
    const ok = curl(haproxy.port, ['--cert', join(certs, 'app.crt'), '--key', join(certs, 'app.key')]);
    expect(ok.status, ok.stderr + haproxy.log.tail()).toBe(0);
    expect(ok.stdout).toBe('client app\n');
    const none = curl(haproxy.port, []);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/alert certificate required|handshake failure|SSL_read/i);
    // Another CA's client is refused too: ca-file is what HAProxy trusts.
    const other = initCa();
    expect(pki(['generate', 'web', 'main', '--client', 'app', '--dir', other]).code).toBe(0);
    const otherCerts = join(other, 'services/web/main/certs');
    const foreign = curl(haproxy.port, ['--cert', join(otherCerts, 'app.crt'), '--key', join(otherCerts, 'app.key')]);
    expect(foreign.status).not.toBe(0);
    expect(readFileSync(pem, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });
});
