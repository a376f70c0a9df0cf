/**
 * Issue 9 points 12–14 through the CLI: issuance-policy hardening (IPv4-mapped IPv6 SANs, RSA exponents,
 * explicit EC parameters, signature algorithm vs key type, CNs under DNS name constraints, SAN and input
 * caps), key usages and identifiers of issued leaves, and terminal-safe printing of names from requests,
 * certificates and file names. Refusals assert the --json error code, exit 1 and an unchanged CA home.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, snapshotTree, tempDir, type CliResult } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';

let work: string;
beforeAll(() => {
  work = tempDir('pki-hardening-');
});

let counter = 0;
const never = () => join(work, `never-${++counter}.crt`);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/** An openssl request; `newkey` as for openssl req (or `-key FILE`). */
function opensslCsr(subject: string, extra: string[] = [], newkey: string[] = EC): string {
  const name = `req${++counter}`;
  const out = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', ...newkey, ...(newkey.includes('-key') ? [] : ['-nodes', '-keyout', join(work, `${name}.key`)]), '-out', out, '-subj', subject, ...extra]);
  return out;
}

/** Runs `pki …args --json`: exit 1, the error code, nothing changed in the CA home. */
function expectRefusedWith(dir: string, args: string[], code: string): CliResult {
  const before = snapshotTree(dir);
  const r = pki([...args, '--dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(1);
  expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code, r.stderr).toBe(code);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(snapshotTree(dir)).toBe(before);
  return r;
}

const certText = (file: string) => peer('openssl', ['x509', '-in', file, '-noout', '-text']);

describe('key usages of issued leaves (point 13)', () => {
  it('an RSA client leaf carries keyUsage digitalSignature alone; the RSA service (peer) leaf keeps keyEncipherment', () => {
    const dir = initCa(['--kty', 'RSA']);
    const r = pki(['generate', 'redis', 'main', '--dir', dir, '--kty', 'RSA']);
    expect(r.code, r.stderr).toBe(0);
    const folder = join(dir, 'services', 'redis', 'main', 'certs');
    expect(certText(join(folder, 'client.crt'))).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(certText(join(folder, 'redis.crt'))).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    const v = runPeer('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(folder, 'ca.crt'), '-untrusted', join(folder, 'client.crt'), join(folder, 'client.crt')]);
    expect(v.stdout, v.stderr).toMatch(/: OK\n$/);
  });

  it('sign --profile client of an RSA request: digitalSignature alone', () => {
    const dir = initCa();
    const out = join(work, 'rsa-client.crt');
    const r = pki(['sign', opensslCsr('/CN=alice', [], ['-newkey', 'rsa:2048']), '--profile', 'client', '--out', out, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(certText(out)).toMatch(/Key Usage: critical\s+Digital Signature\n/);
  });
});
