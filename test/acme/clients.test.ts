/**
 * Issue 13, done-means 1: certbot, lego, dehydrated, caddy and acme-client each get a certificate from
 * `pki serve` on 127.0.0.1 that openssl verifies against the CA home's root, with exactly the requested
 * names — the same suite reference-pebble.test.ts runs against pebble. After `lego revoke`, pki serve's
 * OCSP says revoked and its CRL lists the serial.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { initCa } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startLoopbackDns, type DnsServer } from '../helpers/pebble.js';
import { requirePeer } from '../helpers/peers.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { acmeServeArgs, clientSuite, PEERS } from './client-suite.js';

const run = promisify(execFile);

describe('ACME clients against pki serve', () => {
  let dir: string;
  let server: PkiServe;
  let dns: DnsServer;
  let httpPort: number;
  let tlsPort: number;
  beforeAll(async () => {
    for (const p of PEERS) requirePeer(p);
    dir = initCa();
    [httpPort, tlsPort] = [await freePort(), await freePort()];
    dns = await startLoopbackDns();
    server = await startPkiServe(dir, { http: true, args: acmeServeArgs(httpPort, tlsPort) });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await dns?.stop();
  });

  const root = () => join(dir, 'ca', 'root_ca.crt');
  const intermediate = () => join(dir, 'ca', 'intermediate_ca.crt');

  clientSuite(
    () => ({ directoryUrl: server.directoryUrl, tlsRootPath: root(), issuingRootPath: root(), intermediatePath: intermediate(), httpPort, tlsPort, dnsResolver: dns.address }),
    {
      afterRevoke: async (serial, leafPem) => {
        const leafPath = join(dir, `revoked-${serial}.pem`);
        writeFileSync(leafPath, leafPem);
        const { stdout: ocsp } = await run(requirePeer('openssl'), ['ocsp', '-issuer', intermediate(), '-cert', leafPath, '-url', server.ocspUrl, '-CAfile', root(), '-resp_text'], { timeout: 10_000 });
        expect(ocsp).toMatch(new RegExp(`${leafPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: revoked`));
        const { stdout: crlDer } = await run(requirePeer('curl'), ['-sS', '--max-time', '10', `${server.httpUrl}/crl/intermediate_ca.crl`], { encoding: 'buffer' });
        const crl = await new Promise<string>((resolve, reject) => {
          const child = execFile(requirePeer('openssl'), ['crl', '-inform', 'DER', '-noout', '-text'], { timeout: 10_000 }, (e, out) => (e ? reject(e) : resolve(out)));
          child.stdin!.end(crlDer);
        });
        expect(crl.toUpperCase()).toContain(`SERIAL NUMBER: ${serial}`);
      },
    },
  );
});
