/**
 * docs/guides/haproxy.md, run as written (issue 12, point 5): the bundle, `pki export --haproxy`,
 * haproxy.cfg from the guide verbatim, haproxy started by the guide's own command, curl with the client
 * certificate gets in and curl without one is refused (HAProxy logs why), and after the guide's renewal and
 * export --force the restarted HAProxy serves the new certificate.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock, startGuideServer, writeGuideFile } from '../helpers/guides.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';

const guide = loadGuide('haproxy.md');
const work = guideWorkdir('haproxy');
const certs = join(work, 'pki/services/web/main/certs');
let haproxy: Server | undefined;

afterAll(async () => {
  await haproxy?.stop();
});

/** haproxy.cfg written for each port tried, then the guide's serve block. */
const start = () =>
  startGuideServer(guide, 'haproxy', {
    cwd: work,
    env: (port) => ({ PORT: String(port) }),
    beforeStart: (port) => writeGuideFile(guide, 'haproxy.cfg', join(work, 'haproxy.cfg'), { PORT: String(port) }),
  });

/** The serial of the certificate HAProxy presents (openssl s_client with the client pair). */
function servedSerial(port: number): string {
  const hello = runPeer('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', join(certs, 'ca.crt'), '-cert', join(certs, 'app.crt'), '-key', join(certs, 'app.key')], { input: '' });
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(hello.stdout);
  if (!leaf) throw new Error(`no certificate from 127.0.0.1:${port}: ${hello.stderr}`);
  return runPeer('openssl', ['x509', '-noout', '-serial'], { input: leaf[0] }).stdout.trim();
}

const fileSerial = () => runPeer('openssl', ['x509', '-noout', '-serial', '-in', join(work, 'haproxy/web.pem')]).stdout.trim();

describe('docs/guides/haproxy.md', () => {
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    requirePeer('haproxy');
    requirePeer('curl');
    expect(runGuideBlock(guide, 'bundle', { cwd: work }).stdout).toMatch(/app\.crt/);
    runGuideBlock(guide, 'export', { cwd: work });
    haproxy = await start();
    env = { PORT: String(haproxy.port) };
  });

  it('lets curl in with the client certificate of the bundle', () => {
    expect(runGuideBlock(guide, 'curl', { cwd: work, env }).stdout).toBe('hello app\n');
  });

  it('refuses curl without a client certificate, and logs why', async () => {
    const refused = runGuideBlock(guide, 'no-client-cert', { cwd: work, env, expectFailure: true });
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/alert certificate required/);
    expect(await haproxy!.log.waitFor(/SSL handshake failure/)).toMatch(/SSL handshake failure/);
  });

  it('serves the renewed certificate after the guide\'s renew and export --force, once restarted', async () => {
    const before = fileSerial();
    expect(servedSerial(haproxy!.port)).toBe(before);
    runGuideBlock(guide, 'renew', { cwd: work });
    expect(fileSerial()).not.toBe(before);
    await haproxy!.stop();
    haproxy = await start();
    expect(servedSerial(haproxy.port)).toBe(fileSerial());
    expect(runGuideBlock(guide, 'curl', { cwd: work, env: { PORT: String(haproxy.port) } }).stdout).toBe('hello app\n');
    expectEveryBlockRun(guide);
  });
});
