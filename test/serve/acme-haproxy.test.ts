/**
 * Issue 14, "Done means" 1 (the load balancer): two `pki serve` instances, each on its own copy of the CA
 * home, sharing one PostgreSQL 15 inventory, behind a real HAProxy that round-robins TCP connections
 * between them (TLS passes through: each instance presents its own certificate, the ACME URLs follow
 * the Host header, so they name HAProxy). A real ACME client (acme-client from npm, one connection per
 * request) gets certificates through HAProxy while its requests land on both instances in turn: every
 * order ends valid, serials are unique, nothing is lost or doubled in the database, and a certificate
 * revoked on one CA host is revoked in the OCSP answers of both instances.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeClient } from '../helpers/acme-clients.js';
import { pki, tempDir } from '../helpers/cli.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { freePort } from '../helpers/net.js';
import { requirePeer } from '../helpers/peers.js';
import { psql, startPostgres, twoCaHostsOnPostgres, type TlsPostgres } from '../helpers/postgres.js';
import type { Server } from '../helpers/process.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { pollUntil } from './acme-orders-client.js';

const ORDERS = 6;

describe('two pki serve instances behind an HAProxy round-robin, one PostgreSQL inventory', () => {
  let db: TlsPostgres;
  let database = '';
  let homes: [string, string];
  let servers: PkiServe[] = [];
  let haproxy: Server | undefined;
  let httpPort = 0;
  let directoryUrl = '';
  let rootFile = '';
  const issued: { names: string[]; leafPem: string }[] = [];
  const serials = new Set<string>();

  beforeAll(async () => {
    requirePeer('openssl');
    requirePeer('haproxy');
    db = await startPostgres();
    ({ homes, database, rootFile } = twoCaHostsOnPostgres(db)); // the second CA host is a copy of the home
    httpPort = await freePort();
    const args = ['--acme-allow', '*.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(httpPort)];
    servers = await Promise.all(homes.map((h) => startPkiServe(h, { args, http: true })));
    const backends = servers.map((s, i) => `    server ca${i + 1} ${new URL(s.httpsUrl).host}`).join('\n');
    haproxy = await startHaproxy(
      (port) => `global
    log stderr format raw local0 info
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend acme
    bind 127.0.0.1:${port}
    default_backend pki
backend pki
    balance roundrobin
${backends}
`,
    );
    directoryUrl = `https://127.0.0.1:${haproxy.port}${new URL(servers[0]!.directoryUrl).pathname}`;
  }, 120_000);

  afterAll(async () => {
    await haproxy?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await db?.server.stop();
  });

  it(`acme-client gets ${ORDERS} certificates through HAProxy while its requests land on both instances`, async () => {
    const before = servers.map((s) => s.stdout.text.split('\n').filter((l) => l.includes('/acme/')).length);
    for (let i = 0; i < ORDERS; i++) {
      const names = [`lb${i}.test`];
      const run = await acmeClient({ directoryUrl, rootPem: rootFile, httpPort, tlsPort: 0, names, workDir: tempDir('pki-lb-client-'), timeoutMs: 60_000 });
      issued.push({ names, leafPem: run.leafPem });
    }
    const after = servers.map((s) => s.stdout.text.split('\n').filter((l) => l.includes('/acme/')).length);
    const served = after.map((n, i) => n - before[i]!);
    expect(served[0], `requests per instance: ${served.join(', ')}`).toBeGreaterThan(ORDERS);
    expect(served[1], `requests per instance: ${served.join(', ')}`).toBeGreaterThan(ORDERS);
    // every certificate verifies to the root, for exactly its name; serials unique
    for (const { names, leafPem } of issued) {
      const file = join(tempDir(), 'leaf.pem');
      writeFileSync(file, leafPem);
      const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-serial', '-ext', 'subjectAltName'], { encoding: 'utf8' });
      expect(text).toContain(`DNS:${names[0]}`);
      serials.add(/serial=(\w+)/.exec(text)![1]!);
    }
    expect(serials.size).toBe(ORDERS);
  }, 600_000);

  it('the shared inventory holds each certificate once, and every order once, valid', () => {
    const list = [...serials].map((x) => `'${x.toUpperCase()}'`).join(',');
    expect(psql(db, `SELECT count(*), count(DISTINCT serial) FROM certificates WHERE serial IN (${list})`, database).trim()).toBe(`${ORDERS}|${ORDERS}`);
    // besides them only the CA's two certificates and each instance's own TLS certificate
    expect(psql(db, 'SELECT count(*) FROM certificates', database).trim()).toBe(String(ORDERS + 2 + servers.length));
    expect(psql(db, "SELECT count(*) FROM acme_orders WHERE status = 'valid' AND certificate_serial IS NOT NULL", database).trim()).toBe(String(ORDERS));
    expect(psql(db, 'SELECT count(DISTINCT certificate_serial) FROM acme_orders WHERE certificate_serial IS NOT NULL', database).trim()).toBe(String(ORDERS));
  });

  it('a certificate revoked on one CA host is revoked in the OCSP answers of both instances', async () => {
    const leaf = join(tempDir(), 'revoked.pem');
    writeFileSync(leaf, issued[0]!.leafPem);
    expect(pki(['revoke', leaf, '--reason', 'keyCompromise', '--dir', homes[1], '--insecure']).code).toBe(0);
    for (const s of servers) {
      const ocsp = () =>
        execFileSync('openssl', ['ocsp', '-issuer', join(homes[0], 'ca', 'intermediate_ca.crt'), '-cert', leaf, '-url', s.ocspUrl, '-CAfile', rootFile, '-no_nonce'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      await pollUntil(async () => ocsp(), (text) => /: revoked/.test(text), 10_000, `the OCSP answer of ${s.httpsUrl}`);
    }
  });
});
