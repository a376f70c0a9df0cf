/**
 * docs/guides/nginx.md, run as written (issue 12, point 5): the bundle, the guide's server block and its
 * throw-away nginx.conf written verbatim, nginx started by the guide's command; 200 with a client
 * certificate, 400 without, 400 for a client revoked with `pki revoke` after the guide's reload, and a
 * re-signed CRL after `pki crl`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock, startGuideServer, writeGuideFile } from '../helpers/guides.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';

const guide = loadGuide('nginx.md');
const work = guideWorkdir('nginx');
let nginx: Server | undefined;

afterAll(async () => {
  await nginx?.stop();
});

/**
 * Resolves once nginx has finished its `reloads`-th reload: the old worker has exited, so only a worker
 * with the new configuration (and CRL) accepts connections.
 */
const reloaded = (server: Server, reloads: number) => server.log.waitFor(new RegExp(`(reconfiguring[\\s\\S]*?worker process \\d+ exited with code 0[\\s\\S]*?){${reloads}}`));

const crlNumber = () => runPeer('openssl', ['crl', '-noout', '-crlnumber', '-in', join(work, 'pki/crl/intermediate_ca.crl')]).stdout.trim();

describe('docs/guides/nginx.md', () => {
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    requirePeer('nginx');
    requirePeer('curl');
    runGuideBlock(guide, 'bundle', { cwd: work });
    nginx = await startGuideServer(guide, 'nginx', {
      cwd: work,
      env: (port) => ({ PORT: String(port) }),
      beforeStart: (port) => {
        writeGuideFile(guide, 'nginx.conf', join(work, 'nginx.conf'));
        writeGuideFile(guide, 'mtls.conf', join(work, 'mtls.conf'), { LISTEN: `127.0.0.1:${port}`, CERTS: join(work, 'pki/services/web/main/certs'), PKI_DIR: join(work, 'pki') });
      },
      ready: /start worker process \d+/,
      stopSignal: 'SIGQUIT', // graceful: the master waits for its worker
    });
    env = { PORT: String(nginx.port) };
  });

  it('answers 200 to a client certificate and 400 without one', async () => {
    expect(runGuideBlock(guide, 'with-cert', { cwd: work, env }).stdout).toBe('hello CN=alice\n200\n');
    const anonymous = runGuideBlock(guide, 'without-cert', { cwd: work, env }).stdout;
    expect(anonymous).toMatch(/No required SSL certificate was sent[\s\S]*\n400\n$/);
    expect(await nginx!.log.waitFor(/client sent no required SSL certificate/)).toMatch(/client sent no required SSL certificate/);
  });

  it('refuses bob (400, "certificate revoked") after pki revoke and the reload, alice still 200', async () => {
    expect(runGuideBlock(guide, 'revoked', { cwd: work, env }).stdout).toBe('hello CN=bob\n200\n'); // before the revocation
    runGuideBlock(guide, 'revoke', { cwd: work, env });
    await reloaded(nginx!, 1);
    const bob = runGuideBlock(guide, 'revoked', { cwd: work, env }).stdout;
    expect(bob).toMatch(/The SSL certificate error[\s\S]*\n400\n$/);
    expect(await nginx!.log.waitFor(/client SSL certificate verify error: \(23:certificate revoked\)/)).toMatch(/23:certificate revoked/);
    expect(runGuideBlock(guide, 'with-cert', { cwd: work, env }).stdout).toBe('hello CN=alice\n200\n');
  });

  it('pki crl --if-due is not due, pki crl re-signs, and after the reload the same clients get the same answers', async () => {
    const before = crlNumber();
    const crl = runGuideBlock(guide, 'crl', { cwd: work, env });
    expect(crl.stdout + crl.stderr).toMatch(/not due/i);
    await reloaded(nginx!, 2);
    expect(crlNumber()).not.toBe(before);
    expect(runGuideBlock(guide, 'with-cert', { cwd: work, env }).stdout).toBe('hello CN=alice\n200\n');
    expect(runGuideBlock(guide, 'revoked', { cwd: work, env }).stdout).toMatch(/\n400\n$/);
    expectEveryBlockRun(guide);
  });
});
