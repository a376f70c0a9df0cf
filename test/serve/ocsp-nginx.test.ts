/**
 * Issue 13, done-means 3: an nginx started by the test staples `pki serve`'s OCSP response for a leaf from
 * the CA home (ssl_stapling on, ssl_stapling_verify on, ssl_stapling_responder our /ocsp): `openssl
 * s_client -status` shows a successful response saying good. nginx fetches the response after the first
 * handshake, so the handshake is retried until it carries one (with a deadline).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { issueLeaf } from '../helpers/ocsp.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';

const STAPLE_DEADLINE_MS = 20_000;

describe('nginx staples pki serve OCSP responses', () => {
  let dir: string;
  let server: PkiServe;
  let nginx: Nginx;
  beforeAll(async () => {
    requirePeer('openssl');
    requirePeer('nginx');
    dir = initCa();
    server = await startPkiServe(dir, { http: true });
    const leaf = issueLeaf(dir, 'stapled.test');
    const trusted = join(dir, '..', 'trusted.pem');
    writeFileSync(trusted, readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8') + readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8'));
    nginx = await startNginx({
      server: `    ssl_certificate ${leaf.cert};
    ssl_certificate_key ${leaf.key};
    ssl_stapling on;
    ssl_stapling_verify on;
    ssl_stapling_responder ${server.ocspUrl};
    ssl_trusted_certificate ${trusted};
    location / { return 200 "ok\\n"; }`,
    });
  }, 60_000);
  afterAll(async () => {
    await nginx?.server.stop();
    await server?.stop();
  });

  it('s_client -status shows our response: successful, good', async () => {
    const deadline = Date.now() + STAPLE_DEADLINE_MS;
    let out = '';
    for (;;) {
      const r = runPeer('openssl', ['s_client', '-connect', `127.0.0.1:${nginx.server.port}`, '-servername', 'stapled.test', '-status', '-CAfile', join(dir, 'ca', 'root_ca.crt')], { input: '' });
      out = `${r.stdout}${r.stderr}`;
      if (/OCSP Response Status: successful/.test(out) || Date.now() > deadline) break;
      // nginx asked the responder after this handshake; the next one carries the answer once it arrived.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(out).toMatch(/OCSP Response Status: successful/);
    expect(out).toMatch(/Cert Status: good/);
    expect(out).toMatch(/Responder Id: CN = pki serve OCSP responder/);
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(server.stdout.text).toMatch(/"endpoint":"ocsp","status":200/);
  });
});
