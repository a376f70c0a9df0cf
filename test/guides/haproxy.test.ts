/**
 * docs/guides/haproxy.md runs as written (issue 12, point 5): issue a bundle, `pki export --haproxy`, start
 * HAProxy with the guide's own configuration block (its `:$PORT` bound to 127.0.0.1 and a port of the
 * test's), then curl with the client certificate gets in and curl without one is refused.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { requirePeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';

const guide = loadGuide('haproxy.md');

/** The guide's ```haproxy block: the configuration the operator writes. */
function guideConfig(): string {
  const block = /^```haproxy\n([\s\S]*?)^```$/m.exec(readFileSync(guide.file, 'utf8'));
  if (!block) throw new Error(`${guide.file}: no \`\`\`haproxy configuration block`);
  return block[1]!;
}

describe('docs/guides/haproxy.md', () => {
  let haproxy: Server | undefined;
  afterAll(async () => {
    await haproxy?.stop();
  });

  it('every block runs against a real HAProxy: mTLS with the client bundle, refused without it', async () => {
    requirePeer('curl');
    const cwd = guideWorkdir('haproxy');
    const env = { PKI_PASSWORD: 'guide-passphrase-haproxy' };
    const issued = runGuideBlock(guide, 'issue', { cwd, env });
    expect(issued.stdout).toMatch(/app\.crt/);
    runGuideBlock(guide, 'export', { cwd, env });

    const config = guideConfig();
    expect(config).toContain('bind :$PORT ssl crt haproxy/web.pem ca-file haproxy/ca.crt verify required');
    haproxy = await startHaproxy((port) => config.replace('bind :$PORT', `bind 127.0.0.1:${port}`), cwd);
    const port = String(haproxy.port);

    const ok = runGuideBlock(guide, 'curl', { cwd, env: { ...env, PORT: port } });
    expect(ok.stdout).toBe('hello app\n');
    const refused = runGuideBlock(guide, 'curl-without-certificate', { cwd, env: { ...env, PORT: port }, expectFailure: true });
    expect(refused.stderr).toMatch(/alert certificate required|handshake failure/i);
    expectEveryBlockRun(guide);
  });
});
