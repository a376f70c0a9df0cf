import { readFileSync, statSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { runPeer } from '../helpers/peers.js';

const certs = (dir: string, service = 'redis', variant = 'main') => join(dir, 'services', service, variant, 'certs');

function verifyWithOpenssl(folder: string, file: string, purpose: string) {
  return runPeer('openssl', ['verify', '-purpose', purpose, '-CAfile', join(folder, 'ca.crt'), '-untrusted', join(folder, file), join(folder, file)]);
}

describe('pki generate: every key type verifies with openssl and GnuTLS', () => {
  it.each([
    ['EC P-256', ['--kty', 'EC', '--crv', 'P-256'], /id-ecPublicKey[\s\S]*P-256|prime256v1/],
    ['EC P-384', ['--kty', 'EC', '--crv', 'P-384'], /P-384|secp384r1/],
    ['RSA 2048', ['--kty', 'RSA', '--size', '2048'], /Public-Key: \(2048 bit\)/],
    ['RSA 4096', ['--kty', 'RSA', '--size', '4096'], /Public-Key: \(4096 bit\)/],
    ['Ed25519', ['--kty', 'OKP', '--crv', 'Ed25519'], /ED25519/],
  ])('%s', (_name, keyFlags, keyPattern) => {
    const dir = initCa(keyFlags);
    const r = pki(['generate', 'redis', 'main', '--dir', dir, ...keyFlags]);
    expect(r.code, r.stderr).toBe(0);
    const folder = certs(dir);
    const server = verifyWithOpenssl(folder, 'redis.crt', 'sslserver');
    expect(server.stdout.trim(), server.stderr).toBe(`${join(folder, 'redis.crt')}: OK`);
    const client = verifyWithOpenssl(folder, 'client.crt', 'sslclient');
    expect(client.stdout.trim(), client.stderr).toBe(`${join(folder, 'client.crt')}: OK`);
    // A client certificate must not pass as a server certificate.
    expect(verifyWithOpenssl(folder, 'client.crt', 'sslserver').status).not.toBe(0);
    for (const file of ['redis.crt', 'client.crt']) {
      const chain = join(tempDir(), 'chain.pem');
      writeFileSync(chain, readFileSync(join(folder, file), 'utf8') + readFileSync(join(folder, 'ca.crt'), 'utf8'));
      const g = runPeer('certtool', ['--verify-chain', '--infile', chain]);
      expect(g.status, g.stdout + g.stderr).toBe(0);
      expect(g.stdout).toMatch(/Chain verification output: Verified/);
    }
    const text = runPeer('openssl', ['x509', '-in', join(folder, 'redis.crt'), '-noout', '-text']).stdout;
    expect(text).toMatch(keyPattern);
    expect(text).toMatch(/DNS:redis, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(_name.startsWith('RSA') ? /Key Usage: critical\s+Digital Signature, Key Encipherment/ : /Key Usage: critical\s+Digital Signature\n/);
    const clientText = runPeer('openssl', ['x509', '-in', join(folder, 'client.crt'), '-noout', '-text']).stdout;
    expect(clientText).toMatch(/Subject: CN\s?=\s?client/);
    expect(clientText).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication\n/);
    // Serials: random, positive, at least 64 bits.
    const serial = runPeer('openssl', ['x509', '-in', join(folder, 'redis.crt'), '-noout', '-serial']).stdout.trim().slice(7);
    expect(serial.length * 4).toBeGreaterThanOrEqual(64);
  });
});

describe('pki generate: files and modes', () => {
  it('writes the documented files with the documented modes, one key per client', () => {
    const dir = initCa();
    const r = pki(['generate', 'postgres', 'replica', '--dir', dir, '--client', 'grafana', '--client', 'api', '--san', 'db.internal', '--san', '10.1.2.3']);
    expect(r.code, r.stderr).toBe(0);
    const folder = certs(dir, 'postgres', 'replica');
    const modes: Record<string, string> = { 'ca.crt': '644', 'postgres.crt': '644', 'postgres.key': '600', 'grafana.crt': '644', 'grafana.key': '600', 'api.crt': '644', 'api.key': '600' };
    for (const [file, m] of Object.entries(modes)) expect((statSync(join(folder, file)).mode & 0o777).toString(8), file).toBe(m);
    expect(existsSync(join(folder, 'client.crt'))).toBe(false);
    const keys = ['postgres.key', 'grafana.key', 'api.key'].map((k) => readFileSync(join(folder, k), 'utf8'));
    expect(new Set(keys).size).toBe(3);
    // Full chain, leaf first, then the intermediate.
    const chain = readFileSync(join(folder, 'postgres.crt'), 'utf8');
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(readFileSync(join(folder, 'ca.crt'), 'utf8')).toBe(readFileSync(join(dir, 'ca/root_ca.crt'), 'utf8'));
    const text = runPeer('openssl', ['x509', '-in', join(folder, 'postgres.crt'), '-noout', '-ext', 'subjectAltName']).stdout;
    expect(text).toMatch(/DNS:postgres, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, DNS:db\.internal, IP Address:10\.1\.2\.3/);
  });

  it('--key-mode 0640 --group applies to keys only; --no-client issues no client', () => {
    const dir = initCa();
    const r = pki(['generate', 'nginx', 'web', '--dir', dir, '--no-client', '--key-mode', '0640', '--group', '0']);
    expect(r.code, r.stderr).toBe(0);
    const folder = certs(dir, 'nginx', 'web');
    expect((statSync(join(folder, 'nginx.key')).mode & 0o777).toString(8)).toBe('640');
    expect((statSync(join(folder, 'nginx.crt')).mode & 0o777).toString(8)).toBe('644');
    expect(existsSync(join(folder, 'client.crt'))).toBe(false);
  });

  it('creates keys 0600 even under a permissive umask', () => {
    const dir = initCa();
    const r = pki(['generate', 'redis', 'main', '--dir', dir], { env: { NODE_OPTIONS: '' } });
    expect(r.code).toBe(0);
    expect(statSync(join(certs(dir), 'redis.key')).mode & 0o077).toBe(0);
  });
});

describe('pki generate: convergent re-runs', () => {
  it('a second identical run changes no byte and no mtime and exits 0', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'cache.internal']).code).toBe(0);
    const before = snapshotTree(dir);
    const again = pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'cache.internal']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('different --san values are applied by renewing the service certificate (issue 9: no longer a refusal), naming the change', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'a.internal']).code).toBe(0);
    const key = readFileSync(join(certs(dir), 'redis.key'));
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--san', 'b.internal']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SANs to add: b\.internal/);
    expect(r.stdout).toMatch(/SANs not requested: a\.internal/);
    expect(readFileSync(join(certs(dir), 'redis.key')).equals(key)).toBe(true);
    const text = runPeer('openssl', ['x509', '-in', join(certs(dir), 'redis.crt'), '-noout', '-ext', 'subjectAltName']).stdout;
    expect(text).toMatch(/b\.internal/);
    expect(text).not.toMatch(/a\.internal/);
  });

  it('a different key type or client set is a difference too', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    expect(expectCliError(pki(['generate', '--json', 'redis', 'main', '--dir', dir, '--kty', 'RSA']), 'ERR_BUNDLE_MISMATCH')).toMatch(/key type is EC P-256, requested RSA 2048/);
    expect(expectCliError(pki(['generate', '--json', 'redis', 'main', '--dir', dir, '--client', 'app']), 'ERR_BUNDLE_MISMATCH')).toMatch(/clients to add: app/);
  });

  it('a partial bundle is reported, never silently completed; --force re-issues it', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    rmSync(join(certs(dir), 'client.key'));
    const before = snapshotTree(dir);
    expect(expectCliError(pki(['generate', '--json', 'redis', 'main', '--dir', dir]), 'ERR_BUNDLE_PARTIAL')).toMatch(/incomplete: missing client\.key/);
    expect(snapshotTree(dir)).toBe(before);
    const forced = pki(['generate', 'redis', 'main', '--dir', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(certs(dir), 'client.key'))).toBe(true);
    expect(verifyWithOpenssl(certs(dir), 'client.crt', 'sslclient').status).toBe(0);
  });

  it('a bundle from another CA is a difference', () => {
    const dir = initCa();
    expect(pki(['generate', 'redis', 'main', '--dir', dir]).code).toBe(0);
    expect(pki(['init', '--no-password', '--insecure', '--force', '--dir', dir]).code).toBe(0);
    expect(expectCliError(pki(['generate', '--json', 'redis', 'main', '--dir', dir]), 'ERR_BUNDLE_MISMATCH')).toMatch(/another CA/);
  });
});

describe('pki generate: bad input is one line, exit 1, nothing on disk changed', () => {
  it.each([
    ['path-escaping service', ['..', 'main'], /service name "\.\." is not allowed/, 'ERR_INVALID_NAME'],
    ['slash in variant', ['redis', 'a/b'], /variant name "a\/b" is not allowed/, 'ERR_INVALID_NAME'],
    ['absolute service', ['/etc', 'main'], /service name "\/etc" is not allowed/, 'ERR_INVALID_NAME'],
    ['upper case', ['Redis', 'main'], /service name "Redis" is not allowed/, 'ERR_INVALID_NAME'],
    ['bad client name', ['redis', 'main', '--client', '../x'], /client name/, 'ERR_INVALID_NAME'],
    ['client colliding with ca.crt', ['redis', 'main', '--client', 'ca'], /collide/, 'ERR_INVALID_NAME'],
    ['invalid DNS SAN', ['redis', 'main', '--san', 'bad_name!.example'], /invalid SAN/, 'ERR_INVALID_SAN'],
    ['wildcard not left-most', ['redis', 'main', '--san', 'a.*.example.com'], /wildcard/, 'ERR_INVALID_SAN'],
    ['host:port SAN', ['redis', 'main', '--san', 'redis:6379'], /host:port/, 'ERR_INVALID_SAN'],
    ['invalid IP SAN', ['redis', 'main', '--san', '999.1.1.1'], /invalid SAN/, 'ERR_INVALID_SAN'],
    ['RSA 1024', ['redis', 'main', '--kty', 'RSA', '--size', '1024'], /too weak/, 'ERR_WEAK_KEY'],
    ['bad duration', ['redis', 'main', '--not-after', '90x'], /not a duration|neither a duration/, 'ERR_INVALID_DURATION'],
    ['world-readable key mode', ['redis', 'main', '--key-mode', '0644'], /every user/, 'ERR_POLICY'],
    ['unknown group', ['redis', 'main', '--group', 'no-such-group-xyz'], /unknown group/, 'ERR_INVALID_OPTION'],
    ['outliving the CA', ['redis', 'main', '--not-after', '20y'], /after its issuing CA/, 'ERR_VALIDITY'],
  ])('%s', (_name, args, message, code) => {
    const dir = initCa();
    const before = snapshotTree(dir);
    const r = pki(['generate', '--json', ...args, '--dir', dir]);
    expect(expectCliError(r, code)).toMatch(message);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('a missing CA says how to create one', () => {
    const parent = tempDir();
    const r = pki(['generate', '--json', 'redis', 'main', '--dir', join(parent, 'nothing')]);
    expect(expectCliError(r, 'ERR_CA_MISSING')).toMatch(/no CA found.*pki init/);
    expect(snapshotTree(parent)).toBe('');
  });

  it('a missing argument is a usage error (exit 2)', () => {
    const dir = initCa();
    const before = snapshotTree(dir);
    const r = pki(['generate', 'redis', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument/);
    expect(snapshotTree(dir)).toBe(before);
  });
});
