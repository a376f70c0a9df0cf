/**
 * A redis-server and an nginx that demand client certificates, configured from files pki wrote (the CA
 * tests of issue 14 start both against bundles and trust anchors of their choosing). Each listens on a
 * random loopback port and is stopped by its PID (the returned Server).
 */
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { startNginx } from './nginx.js';
import { requirePeer, runPeer } from './peers.js';
import { REDIS_READY, startServer, type Server } from './process.js';

/** redis-server on 127.0.0.1 with TLS only and `--tls-auth-clients yes`. */
export async function startMtlsRedis(files: { cert: string; key: string; ca: string }): Promise<Server> {
  const redisServer = requirePeer('redis-server');
  requirePeer('redis-cli');
  const work = tempDir('pki-mtls-redis-');
  return startServer({
    program: redisServer,
    // prettier-ignore
    args: (port) => ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'yes', '--save', '', '--appendonly', 'no', '--dir', work],
    ready: REDIS_READY,
  });
}

/** nginx with `ssl_verify_client on` (and `ssl_crl` when given: every level of the chain checked), answering `hello <client DN>` to an accepted client. */
export async function startMtlsNginx(files: { cert: string; key: string; ca: string; crl?: string }, prefix = 'pki-mtls-nginx-'): Promise<Server> {
  requirePeer('curl');
  const n = await startNginx({
    prefix,
    server: `    ssl_certificate ${files.cert};
    ssl_certificate_key ${files.key};
    ssl_client_certificate ${files.ca};
    ssl_verify_client on;${files.crl ? `
    ssl_crl ${files.crl};` : ''}
    ssl_verify_depth 3;
    location / { return 200 "hello $ssl_client_s_dn\\n"; }`,
  });
  return n.server;
}

/** redis-cli PING with a client certificate `<folder>/<name>.crt|key`, trusting `ca`. */
export function redisPing(port: number, ca: string, folder: string, name = 'client') {
  return runPeer('redis-cli', ['--tls', '-h', '127.0.0.1', '-p', String(port), '--cacert', ca, '--cert', join(folder, `${name}.crt`), '--key', join(folder, `${name}.key`), 'PING']);
}

/** curl GET / on nginx as `localhost` with a client certificate; stdout ends with the HTTP status. */
export function nginxGet(port: number, ca: string, folder: string, name = 'client') {
  return runPeer('curl', ['-sS', '--cacert', ca, '--cert', join(folder, `${name}.crt`), '--key', join(folder, `${name}.key`), '-w', '\n%{http_code}', `https://localhost:${port}/`, '--resolve', `localhost:${port}:127.0.0.1`]);
}
