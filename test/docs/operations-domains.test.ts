/**
 * docs/operations.md "Trust domains: a CA per service", run as written (issue 14): two domains made by
 * their first bundles, a revocation on one domain's CRL, `pki list` with its DOMAIN column.
 * test/cli/trust-domains.test.ts proves the separation with redis-server and nginx.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { runPeer } from '../helpers/peers.js';

describe('docs/operations.md: trust domains', () => {
  const guide = loadGuide('../operations.md');
  let work = '';
  const run = (name: string) => runGuideBlock(guide, name, { cwd: work, env: { HOME: work } });

  beforeAll(() => {
    work = guideWorkdir('operations-domains');
  });

  it("creates each domain with its first bundle: the bundle's ca.crt is the domain's own root", () => {
    const r = run('td-home');
    expect(r.stdout).toContain(`Created trust domain cache in ${join(work, 'domains-ca/domains/cache')}`);
    expect(r.stdout).toContain(`Created trust domain web in ${join(work, 'domains-ca/domains/web')}`);
    const anchor = join(work, 'domains-ca/services/redis/main/certs/ca.crt');
    expect(runPeer('openssl', ['x509', '-in', anchor, '-noout', '-subject']).stdout).toBe('subject=CN = pki cache Root CA\n');
    expect(readFileSync(anchor, 'utf8')).toBe(readFileSync(join(work, 'domains-ca/domains/cache/ca/root_ca.crt'), 'utf8'));
  });

  it("revokes onto the domain's CRL, re-publishes it, and lists the domain of each certificate", () => {
    const r = run('td-crl');
    expect(r.stdout).toContain(join(work, 'domains-ca/domains/web/crl/intermediate_ca.crl'));
    expect(r.stdout).toMatch(/Published CRL #3 with 1 revoked certificate to \S+domains\/web\/crl\/intermediate_ca\.crl/);
    expect(r.stdout).toMatch(/^SERIAL +SUBJECT +PROFILE +DOMAIN/m);
    expect(r.stdout).toMatch(/CN=redis +peer +cache /);
    expect(r.stdout).toMatch(/CN=nginx +peer +web /);
  });
});
