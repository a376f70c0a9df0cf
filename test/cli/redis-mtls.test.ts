/**
 * Done-means 3 of the foundation issue: a real redis-server, configured only with the files
 * `pki generate` wrote, answers PING over mutual TLS and refuses a client certificate from another CA.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { REDIS_READY, startServer, type Server } from '../helpers/process.js';
import { requirePeer, runPeer } from '../helpers/peers.js';

describe('redis-server over mutual TLS with a pki bundle', () => {
  let server: Server | undefined;
  let port = 0;
  let folder = '';
  let strangerFolder = '';

  beforeAll(async () => {
    const redisServer = requirePeer('redis-server');
    requirePeer('redis-cli');
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    folder = join(dir, 'services/redis/main/certs');
    const stranger = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', stranger]).code).toBe(0);
    strangerFolder = join(stranger, 'services/redis/main/certs');
    const work = tempDir('pki-redis-');
    server = await startServer({
      program: redisServer,
      args: (tlsPort) => [
        '--port', '0',
        '--tls-port', String(tlsPort),
        '--bind', '127.0.0.1',
        '--tls-cert-file', join(folder, 'redis.crt'),
        '--tls-key-file', join(folder, 'redis.key'),
        '--tls-ca-cert-file', join(folder, 'ca.crt'),
        '--tls-auth-clients', 'yes',
        '--save', '',
        '--appendonly', 'no',
        '--dir', work,
      ],
      ready: REDIS_READY,
    });
    port = server.port;
  });

  afterAll(async () => {
    await server?.stop();
  });

  const ping = (certFolder: string, certName: string) =>
    runPeer('redis-cli', [
      '--tls',
      '-h', '127.0.0.1',
      '-p', String(port),
      '--cacert', join(folder, 'ca.crt'),
      '--cert', join(certFolder, `${certName}.crt`),
      '--key', join(certFolder, `${certName}.key`),
      'PING',
    ]);

  it('answers PING to a client presenting client.crt/client.key', () => {
    const r = ping(folder, 'client');
    expect(r.stdout.trim(), r.stderr).toBe('PONG');
  });

  it('refuses a client certificate issued by a different pki init', () => {
    const r = ping(strangerFolder, 'client');
    expect(r.stdout.trim()).not.toBe('PONG');
    expect(`${r.stdout}${r.stderr}`).toMatch(/SSL|TLS|alert|error|reset|Connection/i);
  });
});
