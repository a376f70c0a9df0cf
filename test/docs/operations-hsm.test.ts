/**
 * docs/operations.md "CA keys on a PKCS#11 token (HSM)", run as written (issue 14): a SoftHSM2 token made
 * by the section's own commands (SOFTHSM2_CONF set to a configuration of the test's), the CA on it, the
 * keys listed by pkcs11-tool, a bundle, a CRL and the SSH CAs. Only this section's blocks (`hsm-…`) are
 * run here; test/cli/pkcs11.test.ts proves the token path in depth.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { requirePeer } from '../helpers/peers.js';

describe('docs/operations.md: CA keys on a PKCS#11 token', () => {
  const guide = loadGuide('../operations.md');
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  const run = (name: string) => runGuideBlock(guide, name, { cwd: work, env });

  beforeAll(() => {
    requirePeer('softhsm2-util');
    requirePeer('pkcs11-tool');
    work = guideWorkdir('operations-hsm');
    mkdirSync(join(work, 'tokens'));
    const conf = join(work, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(work, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    env = { HOME: work, SOFTHSM2_CONF: conf };
  });

  it('makes the token, the CA on it, and shows the keys as never extractable', () => {
    run('hsm-token');
    const init = run('hsm-init');
    expect(init.stdout).toMatch(/keys on the PKCS#11 token/);
    expect(readdirSync(join(work, 'hsm-ca/ca')).sort()).toEqual(['intermediate_ca.crt', 'root_ca.crt']);
    const listed = run('hsm-list').stdout;
    for (const label of ['pki-root', 'pki-intermediate']) expect(listed).toMatch(new RegExp(`label:\\s+${label}\\n(?:.*\\n)*?\\s+Access:\\s+sensitive, always sensitive, never extractable, local`));
  });

  it('issues a bundle that verifies, publishes the CRL and makes the SSH CAs on the token', () => {
    run('hsm-issue');
    const certs = join(work, 'hsm-ca/services/redis/main/certs');
    const verified = execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', join(certs, 'ca.crt'), '-untrusted', join(certs, 'redis.crt'), join(certs, 'redis.crt')], { encoding: 'utf8' });
    expect(verified).toMatch(/: OK$/m);
    expect(readdirSync(join(work, 'hsm-ca/ssh')).sort()).toEqual(['revoked_keys', 'ssh_host_ca_key.pkcs11', 'ssh_host_ca_key.pub', 'ssh_user_ca_key.pkcs11', 'ssh_user_ca_key.pub']);
  });
});
