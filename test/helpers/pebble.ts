/**
 * Debian's pebble (Let's Encrypt's reference ACME server) for the ACME client harness, entirely on
 * 127.0.0.1: pebble-challtestsrv is its DNS server and answers 127.0.0.1 for every name (no AAAA), pebble
 * validates on the given http-01 / tls-alpn-01 ports, its HTTPS certificate comes from a throw-away openssl
 * root (the file clients trust), and its issuing root and intermediate are read from its management API.
 * Servers are stopped by PID.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { requirePeer } from './peers.js';
import { startServer, type Server } from './process.js';

export interface DnsServer {
  /** `127.0.0.1:PORT`: lego --dns.resolvers, pebble -dnsserver. */
  readonly address: string;
  stop(): Promise<void>;
}

/** pebble-challtestsrv as a DNS server only: every A query answered 127.0.0.1, no AAAA, no challenge servers. */
export async function startLoopbackDns(): Promise<DnsServer> {
  const program = requirePeer('pebble-challtestsrv');
  const management = await freePort();
  const server = await startServer({
    program,
    args: (port) => ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${port}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${management}`],
    ready: /Starting challenge servers/,
  });
  return { address: `127.0.0.1:${server.port}`, stop: () => server.stop() };
}

export interface Pebble {
  readonly directoryUrl: string;
  /** The openssl root of pebble's HTTPS certificate: what the clients trust to talk to it. */
  readonly tlsRootPath: string;
  /** Pebble's issuing root and intermediate (from its management API): what issued certificates verify against. */
  readonly issuingRootPath: string;
  readonly intermediatePath: string;
  readonly httpPort: number;
  readonly tlsPort: number;
  /** The management API (https://127.0.0.1:PORT: /roots/0, /cert-status-by-serial/…). */
  readonly managementUrl: string;
  readonly dns: DnsServer;
  readonly server: Server;
  stop(): Promise<void>;
}

/** A throw-away root and a 127.0.0.1/localhost server certificate under it (openssl, P-256). */
export function makeTlsIdentity(dir: string): { rootPath: string; certPath: string; keyPath: string } {
  const openssl = requirePeer('openssl');
  const p = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync(openssl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('tls-root.key'), '-out', p('tls-root.pem'), '-subj', '/CN=ACME harness TLS root', '-days', '2']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('tls.key'), '-out', p('tls.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('tls.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', p('tls.csr'), '-CA', p('tls-root.pem'), '-CAkey', p('tls-root.key'), '-out', p('tls.pem'), '-days', '2', '-extfile', p('tls.ext')]);
  return { rootPath: p('tls-root.pem'), certPath: p('tls.pem'), keyPath: p('tls.key') };
}

/** GET over HTTPS trusting `caPath` only; rejects on a non-200 or after `timeoutMs`. */
export function httpsGet(url: string, caPath: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caPath), timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function startPebble(): Promise<Pebble> {
  const program = requirePeer('pebble');
  const dir = mkdtempSync(join(tmpdir(), 'pki-pebble-'));
  const tls = makeTlsIdentity(dir);
  const [httpPort, tlsPort, managementPort] = [await freePort(), await freePort(), await freePort()];
  const dns = await startLoopbackDns();
  let server: Server;
  try {
    server = await startServer({
      program,
      args: (port) => {
        const config = {
          pebble: {
            listenAddress: `127.0.0.1:${port}`,
            managementListenAddress: `127.0.0.1:${managementPort}`,
            certificate: tls.certPath,
            privateKey: tls.keyPath,
            httpPort,
            tlsPort,
            ocspResponderURL: '',
            externalAccountBindingRequired: false,
          },
        };
        writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
        return ['-config', join(dir, 'pebble.json'), '-dnsserver', dns.address];
      },
      ready: (port) => new RegExp(`Listening on: 127\\.0\\.0\\.1:${port}\\b`),
      env: { PATH: process.env.PATH, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    });
  } catch (e) {
    await dns.stop();
    throw e;
  }
  const management = `https://127.0.0.1:${managementPort}`;
  const issuingRootPath = join(dir, 'pebble-root.pem');
  const intermediatePath = join(dir, 'pebble-intermediate.pem');
  try {
    writeFileSync(issuingRootPath, await httpsGet(`${management}/roots/0`, tls.rootPath));
    writeFileSync(intermediatePath, await httpsGet(`${management}/intermediates/0`, tls.rootPath));
  } catch (e) {
    await server.stop();
    await dns.stop();
    throw e;
  }
  return {
    directoryUrl: `https://127.0.0.1:${server.port}/dir`,
    tlsRootPath: tls.rootPath,
    issuingRootPath,
    intermediatePath,
    httpPort,
    tlsPort,
    managementUrl: management,
    dns,
    server,
    stop: async () => {
      await server.stop();
      await dns.stop();
    },
  };
}
