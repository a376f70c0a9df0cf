/**
 * Issue 14, point 5 / "Done means" 4 (first part): `pki ca renew` gives the intermediate a new certificate
 * with the same key and subject, signed by the root, and prints the old and new notAfter. Leaves issued
 * before and after it verify against the root through the new intermediate with OpenSSL (-x509_strict),
 * GnuTLS (certtool) and Go's crypto/x509; a bundle renewed afterwards carries the new intermediate in its
 * chain; the old intermediate's record is superseded. Refusals are one line, the CA files unchanged.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, tempDir } from '../helpers/cli.js';
import { buildVerifiers, firstCertificate, verifyEverywhere } from '../helpers/verifiers.js';
import { runPeer } from '../helpers/peers.js';


beforeAll(() => {
  buildVerifiers();
}, 180_000);

const x509Field = (file: string, ...args: string[]) => execFileSync('openssl', ['x509', '-in', file, '-noout', ...args], { encoding: 'utf8' }).trim();
const first = firstCertificate;

describe('pki ca renew', () => {
  it('renews the intermediate with the same key and subject; leaves before and after verify with OpenSSL, GnuTLS and Go', () => {
    const dir = join(tempDir(), 'ca');
    const ok = (args: string[]) => {
      const r = pki([...args, '--dir', dir]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    ok(['init', '--no-password', '--insecure', '--intermediate-not-after', '1y']);
    ok(['generate', 'redis', 'main']);
    const root = join(dir, 'ca', 'root_ca.crt');
    const intermediate = join(dir, 'ca', 'intermediate_ca.crt');
    const before = { subject: x509Field(intermediate, '-subject'), ski: x509Field(intermediate, '-ext', 'subjectKeyIdentifier'), serial: x509Field(intermediate, '-serial'), key: x509Field(intermediate, '-pubkey'), end: x509Field(intermediate, '-enddate') };
    const leafBefore = first(join(dir, 'services/redis/main/certs/redis.crt'));

    const renewed = JSON.parse(ok(['ca', 'renew', '--not-after', '3y', '--json'])) as { previousNotAfter: string; notAfter: string; serial: string; previousSerial: string };
    const year = 365 * 86_400_000;
    expect(Date.parse(renewed.previousNotAfter) - Date.now()).toBeGreaterThan(0.9 * year);
    expect(Date.parse(renewed.previousNotAfter) - Date.now()).toBeLessThan(1.1 * year);
    expect(Date.parse(renewed.notAfter) - Date.now()).toBeGreaterThan(2.9 * year);
    expect(x509Field(intermediate, '-subject')).toBe(before.subject);
    expect(x509Field(intermediate, '-ext', 'subjectKeyIdentifier')).toBe(before.ski);
    expect(x509Field(intermediate, '-pubkey')).toBe(before.key);
    expect(x509Field(intermediate, '-serial')).not.toBe(before.serial);
    expect(x509Field(intermediate, '-serial')).toBe(`serial=${renewed.serial}`);
    expect(x509Field(intermediate, '-enddate')).not.toBe(before.end);
    expect(execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', root, intermediate], { encoding: 'utf8' })).toMatch(/: OK/);

    ok(['generate', 'nginx', 'web']);
    const leafAfter = first(join(dir, 'services/nginx/web/certs/nginx.crt'));
    const expected = { openssl: 'ok', gnutls: 'ok', go: 'ok' };
    expect(verifyEverywhere(root, intermediate, leafBefore), 'a leaf issued before the renewal').toEqual(expected);
    expect(verifyEverywhere(root, intermediate, leafAfter), 'a leaf issued after it').toEqual(expected);
    // The new leaf may live past the old intermediate's end? Its chain is the new one: verify it carries it.
    const nginxChain = readFileSync(join(dir, 'services/nginx/web/certs/nginx.crt'), 'utf8');
    expect(nginxChain).toContain(readFileSync(intermediate, 'utf8').trim());

    // A bundle renewed afterwards carries the new intermediate in its chain.
    const redis = join(dir, 'services/redis/main/certs/redis.crt');
    expect(readFileSync(redis, 'utf8')).not.toContain(readFileSync(intermediate, 'utf8').trim());
    ok(['renew', '--force', redis]);
    expect(readFileSync(redis, 'utf8')).toContain(readFileSync(intermediate, 'utf8').trim());

    const records = JSON.parse(ok(['list', '--all', '--json'])) as { serial: string; profile: string; status: string }[];
    const intermediates = records.filter((r) => r.profile === 'intermediate').map((r) => [r.serial, r.status]);
    expect(intermediates).toEqual(expect.arrayContaining([[renewed.previousSerial, 'superseded'], [renewed.serial, 'valid']]));
    expect(intermediates).toHaveLength(2);
  });

  it('--rekey is a rotation: a new key, the old pair retired under ca/retired/ and still signing its CRL', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const pub = () => runPeer('openssl', ['pkey', '-in', join(dir, 'ca/intermediate_ca.key'), '-pubout']).stdout;
    const before = pub();
    const r = pki(['ca', 'renew', '--rekey', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const rotated = JSON.parse(r.stdout) as { retired: { keyId: string; certificatePath: string; crlPath: string } };
    expect(pub()).not.toBe(before);
    expect(rotated.retired.certificatePath).toBe(join(dir, 'ca/retired', rotated.retired.keyId, 'intermediate_ca.crt'));
    const crl = runPeer('openssl', ['crl', '-in', rotated.retired.crlPath, '-CAfile', rotated.retired.certificatePath, '-noout']);
    expect(crl.stdout + crl.stderr).toContain('verify OK');
  });

  it('prints the old and new notAfter', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const r = pki(['ca', 'renew', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/notAfter \d{4}-\d\d-\d\dT[\d:.]+Z -> \d{4}-\d\d-\d\dT[\d:.]+Z/);
    expect(r.stdout).toMatch(/move .*root_ca\.key offline again/);
  });

  it('refuses in one line, the CA files unchanged: beyond the root, an unknown CA, a bad lifetime, no root key', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--root-not-after', '2y', '--intermediate-not-after', '1y', '--dir', dir]).code).toBe(0);
    const files = ['intermediate_ca.crt', 'intermediate_ca.key', 'root_ca.crt'].map((f) => readFileSync(join(dir, 'ca', f), 'utf8'));
    const cases: [string[], number, RegExp][] = [
      [['--not-after', '5y'], 1, /would outlive the root/],
      [['users'], 1, /there is no issuing CA users .*pki ca add users/],
      [['--not-after', 'soon'], 1, /soon/],
    ];
    for (const [args, code, message] of cases) {
      const r = pki(['ca', 'renew', ...args, '--dir', dir]);
      expect(expectOneLineError(r, code), args.join(' ')).toMatch(message);
      expect(['intermediate_ca.crt', 'intermediate_ca.key', 'root_ca.crt'].map((f) => readFileSync(join(dir, 'ca', f), 'utf8'))).toEqual(files);
    }
    // The root key offline (moved away): the command names it.
    execFileSync('mv', [join(dir, 'ca', 'root_ca.key'), join(dir, 'root_ca.key.offline')]);
    const r = pki(['ca', 'renew', '--dir', dir]);
    expectOneLineError(r, 1);
    expect(r.stderr).toMatch(/root/);
    expect(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8')).toBe(files[0]);
  });

  it('an encrypted root key: the passphrase from --password-file; a wrong one is one line and changes nothing', () => {
    const dir = join(tempDir(), 'ca');
    const good = join(tempDir(), 'pass');
    const bad = join(tempDir(), 'wrong');
    writeFileSync(good, 'correct horse battery staple\n', { mode: 0o600 });
    writeFileSync(bad, 'not the passphrase\n', { mode: 0o600 });
    expect(pki(['init', '--password-file', good, '--dir', dir]).code).toBe(0);
    const before = readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8');
    const wrong = pki(['ca', 'renew', '--password-file', bad, '--dir', dir]);
    expectOneLineError(wrong, 1);
    expect(wrong.stderr).toMatch(/passphrase/i);
    expect(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8')).toBe(before);
    const right = pki(['ca', 'renew', '--password-file', good, '--dir', dir]);
    expect(right.code, right.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ca', 'intermediate_ca.crt'), 'utf8')).not.toBe(before);
    expect(right.stdout + right.stderr).not.toContain('correct horse');
  });
});
