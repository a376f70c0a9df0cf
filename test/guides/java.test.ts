/**
 * docs/guides/java.md runs as written (issue 12, point 5): issue a bundle, `pki export --p12` the client's
 * keystore, `keytool -importcert` the truststore, compile the guide's own Client.java with javac, start the
 * guide's own `openssl s_server` command (requiring a client certificate) on a port of the test's, and the
 * Java client gets `HTTP 200` through mutual TLS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { requirePeer } from '../helpers/peers.js';
import { startServer, type Server } from '../helpers/process.js';

const guide = loadGuide('java.md');
const text = () => readFileSync(guide.file, 'utf8');

/** The guide's ```java block: the client the operator saves as Client.java. */
function guideClient(): string {
  const block = /^```java\n([\s\S]*?)^```$/m.exec(text());
  if (!block) throw new Error(`${guide.file}: no \`\`\`java block`);
  return block[1]!;
}

/** The guide's `openssl s_server` block (a plain ```sh block: the operator starts it by hand) as argv. */
function guideServerArgs(port: number): string[] {
  const block = /^```sh\n(openssl s_server[\s\S]*?)^```$/m.exec(text());
  if (!block) throw new Error(`${guide.file}: no \`\`\`sh block with the openssl s_server command`);
  const words = block[1]!.replace(/\\\n/g, ' ').trim().split(/\s+/).map((w) => w.replace(/^"|"$/g, ''));
  expect(words.slice(0, 2)).toEqual(['openssl', 's_server']);
  // -quiet: the test gives s_server no terminal, and without it s_server ends at the EOF of its stdin.
  return [...words.slice(1).map((w) => (w === '$PORT' ? `127.0.0.1:${port}` : w)), '-quiet'];
}

describe('docs/guides/java.md', () => {
  let server: Server | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('every block runs: keystore from pki export --p12, keytool truststore, the guide client through mTLS', async () => {
    for (const p of ['java', 'javac', 'keytool', 'openssl']) requirePeer(p);
    const cwd = guideWorkdir('java');
    const env = { PKI_PASSWORD: 'guide-passphrase-java' };
    runGuideBlock(guide, 'issue', { cwd, env });
    const stores = runGuideBlock(guide, 'stores', { cwd, env });
    expect(stores.stdout).toMatch(/^app, .*PrivateKeyEntry,/m);
    expect(stores.stdout).toMatch(/^pki-root, .*trustedCertEntry,/m);

    writeFileSync(join(cwd, 'Client.java'), guideClient());
    runGuideBlock(guide, 'compile', { cwd, env });
    runGuideBlock(guide, 'chain', { cwd, env });
    server = await startServer({ program: requirePeer('openssl'), args: guideServerArgs, cwd });
    const client = runGuideBlock(guide, 'client', { cwd, env: { ...env, PORT: String(server.port) } });
    expect(client.stdout).toBe('HTTP 200\n');
    expectEveryBlockRun(guide);
  });
});
