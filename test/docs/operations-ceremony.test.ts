/**
 * docs/operations.md "The offline root ceremony", run as written (issue 14): the root key moved out of
 * the home, everyday commands working without it, the root CRL refused in one line, then the ceremony —
 * key back, root CRL re-signed, intermediate renewed, key out again.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { runPeer } from '../helpers/peers.js';

describe('docs/operations.md: the offline root ceremony', () => {
  const guide = loadGuide('../operations.md');
  let work = '';
  const run = (name: string, expectFailure = false) => runGuideBlock(guide, name, { cwd: work, env: { HOME: work, PKI_PASSWORD: undefined }, ...(expectFailure ? { expectFailure: true } : {}) });

  beforeAll(() => {
    work = guideWorkdir('operations-ceremony');
    writeFileSync(join(work, 'ca.pass'), 'ceremony passphrase\n', { mode: 0o600 });
  });

  it('issues and publishes the intermediate CRL with the root key offline', () => {
    const r = run('ceremony-init');
    expect(r.stdout).toMatch(/Issued redis\/main/);
    expect(r.stdout).toMatch(/Published CRL #2/);
    expect(existsSync(join(work, 'ceremony-ca/ca/root_ca.key'))).toBe(false);
    expect(existsSync(join(work, 'offline/root_ca.key'))).toBe(true);
  });

  it('refuses the root CRL in one line while the key is away', () => {
    const r = run('ceremony-refused', true);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pki: error: the root CA key \S+ceremony-ca\/ca\/root_ca\.key is not in the CA home \(it belongs offline\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the ceremony re-signs the root CRL and renews the intermediate, and the key leaves again; no snapshot holds it', () => {
    const r = run('ceremony-steps');
    expect(r.stdout).toMatch(/Published CRL #2 with 0 revoked certificates to \S+ceremony-ca\/crl\/root_ca\.crl/);
    expect(r.stdout).toMatch(/Renewed the intermediate/);
    expect(existsSync(join(work, 'ceremony-ca/ca/root_ca.key'))).toBe(false);
    const snapshots = join(work, 'ceremony-ca/ca/snapshots');
    for (const id of readdirSync(snapshots)) expect(readdirSync(join(snapshots, id, 'ca'))).not.toContain('root_ca.key');
    const leaf = join(work, 'ceremony-ca/services/redis/main/certs/redis.crt');
    expect(runPeer('openssl', ['verify', '-CAfile', join(work, 'ceremony-ca/ca/root_ca.crt'), '-untrusted', join(work, 'ceremony-ca/ca/intermediate_ca.crt'), leaf]).stdout).toContain(': OK');
  });
});
