/**
 * docs/guides/redis.md, run as written (issue 12, point 5): the bundle, redis.conf from the guide verbatim,
 * redis-server started by the guide's own command, PONG with the client certificate, a refusal without it,
 * and a renewal that Redis serves after the guide's CONFIG SET.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock, startGuideServer, writeGuideFile } from '../helpers/guides.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { REDIS_READY, type Server } from '../helpers/process.js';

const guide = loadGuide('redis.md');
const work = guideWorkdir('redis');
const certs = join(work, 'pki/services/redis/main/certs');
let redis: Server | undefined;

afterAll(async () => {
  await redis?.stop();
});

/** The serial of the certificate the server presents now (openssl s_client, with the client pair). */
function servedSerial(port: number): string {
  const hello = runPeer('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', join(certs, 'ca.crt'), '-cert', join(certs, 'client.crt'), '-key', join(certs, 'client.key')], { input: '' });
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(hello.stdout);
  if (!leaf) throw new Error(`no certificate from 127.0.0.1:${port}: ${hello.stderr}`);
  return runPeer('openssl', ['x509', '-noout', '-serial'], { input: leaf[0] }).stdout.trim();
}

const fileSerial = () => runPeer('openssl', ['x509', '-noout', '-serial', '-in', join(certs, 'redis.crt')]).stdout.trim();

describe('docs/guides/redis.md', () => {
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    requirePeer('redis-server');
    requirePeer('redis-cli');
    runGuideBlock(guide, 'bundle', { cwd: work });
    redis = await startGuideServer(guide, 'redis', {
      cwd: work,
      env: (port) => ({ PORT: String(port) }),
      beforeStart: (port) => writeGuideFile(guide, 'redis.conf', join(work, 'redis.conf'), { PORT: String(port), CERTS: certs }),
      ready: REDIS_READY,
    });
    env = { PORT: String(redis.port) };
  });

  it('answers PONG to redis-cli with the client certificate', () => {
    expect(runGuideBlock(guide, 'ping', { cwd: work, env }).stdout).toBe('PONG\n');
  });

  it('refuses redis-cli without a client certificate, and logs why', async () => {
    const refused = runGuideBlock(guide, 'no-client-cert', { cwd: work, env, expectFailure: true });
    expect(refused.stdout).not.toMatch(/PONG/);
    expect(await redis!.log.waitFor(/peer did not return a certificate/)).toMatch(/peer did not return a certificate/);
  });

  it('serves the renewed certificate after the guide\'s CONFIG SET', () => {
    const before = fileSerial();
    expect(servedSerial(redis!.port)).toBe(before);
    expect(runGuideBlock(guide, 'reload', { cwd: work, env }).stdout).toMatch(/^Renewed .*\nOK\n$/);
    expect(fileSerial()).not.toBe(before);
    expect(servedSerial(redis!.port)).toBe(fileSerial());
    expectEveryBlockRun(guide);
  });
});
