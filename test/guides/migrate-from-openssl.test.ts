/**
 * docs/guides/migrate-from-openssl.md, run as written: a flat openssl CA built by its own eight commands,
 * adopted with `pki init --import-ca --import-key --import-index`, then generate, crl, revoke and renew as
 * the guide claims, each claim checked here beyond the block's exit status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { requirePeer } from '../helpers/peers.js';

describe('docs/guides/migrate-from-openssl.md', () => {
  it('adopts the old CA and keeps its anchor, certificates and revocations', () => {
    requirePeer('openssl');
    const guide = loadGuide('migrate-from-openssl.md');
    const cwd = guideWorkdir('migrate');
    const run = (name: string, expectFailure = false) => runGuideBlock(guide, name, { cwd, expectFailure });

    expect(run('old-ca').stdout).toMatch(/^R\t\d+Z\t\d+Z,keyCompromise\t1001\tunknown\t\/CN=api\.example\.com$/m);

    const imported = run('import');
    expect(imported.stdout).toMatch(/Imported oldca\/ca\.crt \(RSA 2048\) as the root CA/);
    expect(imported.stdout).toMatch(/^1000\s+CN=web\.example\.com\s+server\s+.*valid$/m);
    expect(imported.stdout).toMatch(/^1001\s+CN=api\.example\.com\s+server\s+.*revoked$/m);
    expect(imported.stdout).toMatch(/CN=Example Intermediate CA\s+intermediate/);

    expect(run('old-still-valid').stdout).toMatch(/oldca\/web\.crt: OK/);

    const generated = run('generate').stdout;
    expect(generated).toMatch(/redis\.crt: OK/);
    expect(generated).toMatch(/the bundle's anchor is your ca\.crt/);
    expect(readFileSync(join(cwd, 'pki/services/redis/main/certs/redis.crt'), 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    expect(run('crl').stdout).toMatch(/Serial Number: 1001[\s\S]*Key Compromise/);
    const revokedOld = run('old-revoked', true);
    expect(revokedOld.stdout + revokedOld.stderr).toMatch(/certificate revoked/);

    expect(run('renew-old-refused', true).stderr).toMatch(/pki did not issue it/);
    const reissued = run('reissue-old');
    expect(reissued.stdout).toMatch(/web\.crt: OK/);
    expect(reissued.stdout).toMatch(/Renewed/i);

    const revoked = run('revoke-old').stdout;
    expect(revoked).toMatch(/the root CA issued it, so the root's CRL lists it/);
    expect(revoked).toMatch(/Serial Number: 1000[\s\S]*Superseded/);

    expectEveryBlockRun(guide);
  });
});
