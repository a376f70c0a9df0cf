/**
 * The one client suite both ACME servers face (done-means 1): certbot (certonly, renew --force-renewal),
 * lego (run, renew, revoke), dehydrated, caddy (reverse-proxy site) and acme-client, one after another
 * against the same directory and validation ports. Each certificate must verify with openssl against the
 * server's issuing root and intermediate and carry exactly the requested names. reference-pebble.test.ts
 * runs it against pebble first, so a harness bug cannot pass for a server bug; clients.test.ts runs it
 * against `pki serve`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as clients from '../helpers/acme-clients.js';
import { requirePeer } from '../helpers/peers.js';

export interface AcmeTarget {
  readonly directoryUrl: string;
  /** Trusted for the server's HTTPS. */
  readonly tlsRootPath: string;
  /** What issued certificates verify against. */
  readonly issuingRootPath: string;
  readonly intermediatePath: string;
  readonly httpPort: number;
  readonly tlsPort: number;
  readonly dnsResolver: string;
}

export interface SuiteHooks {
  /** After lego revoke: the server's own view of the revocation (pebble's management API, pki's OCSP and CRL). */
  readonly afterRevoke: (serial: string, leafPem: string) => Promise<void>;
}

/** The flags the tests (and docs/serve.md "Clients") start pki serve with. */
export function acmeServeArgs(httpPort: number, tlsPort: number): string[] {
  return ['--acme-allow', '*.test', '--acme-resolve', '*.test=127.0.0.1', '--acme-http-port', String(httpPort), '--acme-tls-port', String(tlsPort)];
}

/**
 * A whole client test (two or three client runs, each bounded by CLIENT_RUN_MS): a hang guard.
 */
const CLIENT_TEST_MS = 300_000;

export const PEERS = ['certbot', 'lego', 'dehydrated', 'caddy', 'openssl', 'curl', 'pebble-challtestsrv'] as const;

export function clientSuite(target: () => AcmeTarget, hooks: SuiteHooks): void {
  const run = (client: string, names: string[]): clients.AcmeRun => {
    const t = target();
    return {
      directoryUrl: t.directoryUrl,
      rootPem: t.tlsRootPath,
      httpPort: t.httpPort,
      tlsPort: t.tlsPort,
      names,
      workDir: mkdtempSync(join(tmpdir(), `pki-acme-${client}-`)),
      dnsResolver: t.dnsResolver,
    };
  };
  const expectIssued = (leafPem: string, names: string[]) => {
    const facts = clients.inspectIssued(leafPem, target().issuingRootPath, target().intermediatePath);
    expect(facts.verify).toBe('stdin: OK');
    expect(facts.sans).toEqual(names.map((n) => `DNS:${n}`).sort());
    return facts;
  };

  it('certbot certonly --standalone, then renew --force-renewal: two verified certificates for exactly a.test and a2.test', async () => {
    const r = run('certbot', ['a.test', 'a2.test']);
    const first = expectIssued((await clients.certbotCertonly(r)).leafPem, r.names as string[]);
    const renewed = await clients.certbotRenew(r);
    const second = expectIssued(renewed.leafPem, r.names as string[]);
    expect(second.serial).not.toBe(first.serial);
    expect(clients.pemCertificates(renewed.fullchainPem).length).toBeGreaterThanOrEqual(2);
  }, CLIENT_TEST_MS);

  it('lego run, renew, revoke: verified certificates for exactly b.test; the server then says revoked', async () => {
    const r = run('lego', ['b.test']);
    const first = expectIssued((await clients.legoRun(r)).leafPem, ['b.test']);
    const renewed = await clients.legoRenew(r);
    const second = expectIssued(renewed.leafPem, ['b.test']);
    expect(second.serial).not.toBe(first.serial);
    await clients.legoRevoke(r);
    await hooks.afterRevoke(second.serial, renewed.leafPem);
  }, CLIENT_TEST_MS);

  it('dehydrated --register, then -c with WELLKNOWN served on the validation port: a verified certificate for exactly c.test', async () => {
    // dehydrated forks openssl, curl and sed for every request: 47 s alone on the loaded VM, 100+ s beside
    // another suite. Its runs get 240 s each (hang guards).
    const r = { ...run('dehydrated', ['c.test']), timeoutMs: 240_000 };
    expectIssued((await clients.dehydrated(r)).leafPem, ['c.test']);
  }, 2 * 240_000 + 30_000);

  it('caddy with acme_ca gets a verified certificate for exactly d.test and serves the reverse-proxied site with it', async () => {
    // caddy retries a failing CA forever: 60 s is the deadline (it needs about one against pebble).
    const r = { ...run('caddy', ['d.test']), timeoutMs: 60_000 };
    // curl runs asynchronously: the backend caddy proxies to lives in this process.
    const curl = async (name: string, port: number) =>
      (await promisify(execFile)(requirePeer('curl'), ['-sS', '--max-time', '10', '--resolve', `${name}:${port}:127.0.0.1`, '--cacert', target().issuingRootPath, `https://${name}:${port}/`], { encoding: 'utf8' })).stdout;
    const got = await clients.caddy(r, curl);
    expectIssued(got.leafPem, ['d.test']);
    expect(got.proxied).toBe('backend says hello\n');
  }, CLIENT_TEST_MS);

  it('acme-client (npm) auto(): a verified certificate for exactly e.test and e2.test', async () => {
    const r = run('acme-client', ['e.test', 'e2.test']);
    const got = await clients.acmeClient(r);
    expectIssued(got.leafPem, ['e.test', 'e2.test']);
    expect(got.accountUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
  }, CLIENT_TEST_MS);
}
