/**
 * docs/guides/offline-root.md, run as written: the root key moved to a folder standing for a USB stick,
 * every "keeps working without it" claim (generate, sign, renew, revoke, crl) and every "needs it" claim
 * (crl --root) proven, the key brought back and removed again, and today's way to renew the intermediate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectEveryBlockRun, guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { peer, requirePeer } from '../helpers/peers.js';

describe('docs/guides/offline-root.md', () => {
  it('keeps issuing without the root key and needs it only for the root CRL', () => {
    requirePeer('openssl');
    const guide = loadGuide('offline-root.md');
    const cwd = guideWorkdir('offline-root');
    const run = (name: string, expectFailure = false) => runGuideBlock(guide, name, { cwd, expectFailure });
    const rootKey = join(cwd, 'pki/ca/root_ca.key');
    const rootCrlNumber = () => /CRL Number:\s*\n?\s*(\d+)/.exec(peer('openssl', ['crl', '-in', join(cwd, 'pki/crl/root_ca.crl'), '-noout', '-text']))![1];

    run('init');
    expect(existsSync(rootKey)).toBe(true);
    const rootCert = readFileSync(join(cwd, 'pki/ca/root_ca.crt'), 'utf8');

    expect(run('move-offline').stdout).not.toMatch(/root_ca\.key/);
    expect(existsSync(rootKey)).toBe(false);
    expect(existsSync(join(cwd, 'usb/root_ca.key'))).toBe(true);

    const offline = run('works-offline').stdout;
    expect(offline).toMatch(/Signed app\.csr/);
    expect(offline).toMatch(/Renewed .*redis\.crt/);
    expect(offline).toMatch(/Revoked [0-9A-F]+ \(CN=app\.internal\), reason keyCompromise/);
    expect(offline).toMatch(/Published CRL #3 with 1 revoked certificate/);
    expect(offline).toMatch(/redis\.crt: OK/);
    const appSerial = peer('openssl', ['x509', '-in', join(cwd, 'app.crt'), '-noout', '-serial']).trim().replace('serial=', '');
    expect(peer('openssl', ['crl', '-in', join(cwd, 'pki/crl/intermediate_ca.crl'), '-noout', '-text'])).toContain(`Serial Number: ${appSerial}`);

    const refused = run('root-crl-needs-key', true);
    expect(refused.stderr).toMatch(/root CA key .*root_ca\.key is not in the CA home/);
    expect(rootCrlNumber()).toBe('1');

    const back = run('bring-back');
    expect(back.stdout).toMatch(/Published CRL #2 .*root_ca\.crl/);
    expect(back.stdout).toMatch(/^root_ca\.key$/m);
    expect(rootCrlNumber()).toBe('2');
    expect(existsSync(rootKey)).toBe(false);

    expect(run('after-removal').stdout).toMatch(/CRL Number:\s*\n?\s*2/);

    const replaced = run('replace-ca').stdout;
    expect(replaced).toMatch(/redis\.crt: OK/);
    expect(readFileSync(join(cwd, 'pki/ca/root_ca.crt'), 'utf8')).not.toBe(rootCert);
    expect(existsSync(join(cwd, 'usb/root_ca.key.new'))).toBe(true);

    expectEveryBlockRun(guide);
  });
});
