/**
 * docs/guides/java.md runs as written (issue 12, point 5): the bundle, the keystore from `pki export --p12`
 * and the truststore from `keytool -importcert`, the guide's own Client.java compiled with javac, the
 * guide's own `openssl s_server` command (client certificate required) on a port of the test's, and the
 * Java client gets `HTTP 200` through mutual TLS.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock, startGuideServer, writeGuideFile } from '../helpers/guides.js';
import { requirePeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';

const guide = loadGuide('java.md');
const work = guideWorkdir('java');
let server: Server | undefined;

afterAll(async () => {
  await server?.stop();
});

describe('docs/guides/java.md', () => {
  beforeAll(() => {
    for (const p of ['java', 'javac', 'keytool', 'openssl']) requirePeer(p);
    runGuideBlock(guide, 'issue', { cwd: work });
  });

  it('makes the keystore (one PrivateKeyEntry named app) and the truststore (the root)', () => {
    const stores = runGuideBlock(guide, 'stores', { cwd: work });
    expect(stores.stdout).toMatch(/^app, .*PrivateKeyEntry,/m);
    expect(stores.stdout).toMatch(/^pki-root, .*trustedCertEntry,/m);
  });

  it("compiles the guide's Client.java", () => {
    writeGuideFile(guide, 'Client.java', join(work, 'Client.java'));
    runGuideBlock(guide, 'compile', { cwd: work });
  });

  it("connects through mutual TLS to the guide's s_server: HTTP 200", async () => {
    runGuideBlock(guide, 'chain', { cwd: work });
    server = await startGuideServer(guide, 's-server', { cwd: work, env: (port) => ({ PORT: String(port) }) });
    const client = runGuideBlock(guide, 'client', { cwd: work, env: { PORT: String(server.port) } });
    expect(client.stdout).toBe('HTTP 200\n');
    expectEveryBlockRun(guide);
  });
});
