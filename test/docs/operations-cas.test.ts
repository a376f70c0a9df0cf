/**
 * docs/operations.md "Several issuing CAs under one root", run as written (issue 14): two CAs added under
 * the root, a leaf from each, a revocation on its own CA's CRL, `pki list` with its CA column.
 * test/cli/issuing-cas.test.ts proves the rest with OpenSSL, GnuTLS, Go and redis-server.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { runPeer } from '../helpers/peers.js';

describe('docs/operations.md: several issuing CAs', () => {
  const guide = loadGuide('../operations.md');
  let work = '';
  const run = (name: string) => runGuideBlock(guide, name, { cwd: work, env: { HOME: work } });
  const openssl = (args: string[]) => runPeer('openssl', args).stdout;

  beforeAll(() => {
    work = guideWorkdir('operations-cas');
  });

  it('adds two CAs under the root, with the constraint and the profile set the guide describes', () => {
    const r = run('cas-add');
    expect(r.stdout).toContain(`Created issuing CA systems in ${join(work, 'cas-ca/ca/systems')}`);
    expect(r.stdout).toContain('profiles: client');
    expect(openssl(['x509', '-in', join(work, 'cas-ca/ca/systems/intermediate_ca.crt'), '-noout', '-issuer', '-ext', 'nameConstraints'])).toMatch(/issuer=CN = pki Root CA\n[\s\S]*DNS:internal/);
  });

  it("issues from each CA, revokes onto the CA's own CRL and lists the CA of each certificate", () => {
    const r = run('cas-issue');
    expect(openssl(['x509', '-in', join(work, 'db.crt'), '-noout', '-issuer'])).toBe('issuer=CN = pki systems Intermediate CA\n');
    expect(r.stdout).toContain(join(work, 'cas-ca/crl/users.crl'));
    expect(r.stdout).toMatch(/^SERIAL +SUBJECT +PROFILE +CA /m);
    expect(r.stdout).toMatch(/CN=db\.internal +server +systems /);
    expect(r.stdout).toMatch(/CN=alice +client +users .* revoked$/m);
  });
});
