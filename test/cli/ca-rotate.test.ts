/**
 * Issue 14, point 5 / "Done means" 4 (intermediate rotation): `pki ca rotate` gives the CA a new
 * intermediate key and certificate under the same root and subject; the old intermediate is retired to
 * ca/retired/<key id>/ and keeps signing the CRL of what it issued. OpenSSL, GnuTLS and Go verify leaves
 * issued before and after against the root with the intermediate that signed each (and refuse the other
 * pairing); a redis-server started before the rotation, and an nginx whose ssl_client_certificate is the
 * bundle's old ca.crt, keep accepting clients issued after it; revoking a leaf of the old key lands on the
 * old key's CRL (in crl/chain.crl.pem); renew re-issues old-key leaves with the new chain; rollback
 * restores the CA files.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree, tempDir, treeContents } from '../helpers/cli.js';
import { nginxGet, redisPing, startMtlsNginx, startMtlsRedis } from '../helpers/mtls-servers.js';
import type { Server } from '../helpers/process.js';
import { runPeer } from '../helpers/peers.js';
import { buildVerifiers, verifyEverywhere } from '../helpers/verifiers.js';

const ALL_OK = { openssl: 'ok', gnutls: 'ok', go: 'ok' };

let dir = '';
let work = '';
const certs = (service: string) => join(dir, 'services', service, 'main', 'certs');
const openssl = (args: string[]) => runPeer('openssl', args);
const ok = (args: string[]) => {
  const r = pki([...args, '--dir', dir]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
/** A copy of a file as it is now (the old ca.crt, the old intermediate), kept outside the home. */
const keep = (file: string, name: string) => {
  const out = join(work, name);
  runPeer('cp', [file, out]);
  return out;
};

interface Rotated {
  certificatePath: string;
  keyId: string;
  retired: { certificatePath: string; keyId: string; crlPath: string };
  snapshot: string;
}

const servers: Server[] = [];
let rotated: Rotated;
let oldIntermediate = '';
let oldCaCrt = '';
let oldLeaf = '';
let redisPort = 0;
let nginxPort = 0;
let caBefore = '';

beforeAll(async () => {
  buildVerifiers();
  dir = initCa();
  work = tempDir('pki-rotate-');
  ok(['generate', 'redis', 'main', '--client', 'app']);
  ok(['generate', 'web', 'main', '--client', 'old-client']);
  oldIntermediate = keep(join(dir, 'ca/intermediate_ca.crt'), 'old-intermediate.crt');
  oldCaCrt = keep(join(certs('redis'), 'ca.crt'), 'old-ca.crt');
  oldLeaf = keep(join(certs('web'), 'web.crt'), 'old-web.crt');
  const redis = await startMtlsRedis({ cert: join(certs('redis'), 'redis.crt'), key: join(certs('redis'), 'redis.key'), ca: oldCaCrt });
  const nginx = await startMtlsNginx({ cert: join(certs('web'), 'web.crt'), key: join(certs('web'), 'web.key'), ca: oldCaCrt });
  servers.push(redis, nginx);
  redisPort = redis.port;
  nginxPort = nginx.port;
  caBefore = snapshotTree(join(dir, 'ca'));
  rotated = JSON.parse(ok(['ca', 'rotate', '--json'])) as Rotated;
  // after the rotation: a new bundle and a new client in an existing one, issued by the new key
  ok(['generate', 'edge', 'main', '--client', 'new-client']);
}, 240_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('pki ca rotate', () => {
  it('puts a new key in ca/intermediate_ca.* under the same subject and root, and retires the old pair (key 0600) under ca/retired/<key id>/', () => {
    expect(rotated.keyId).not.toBe(rotated.retired.keyId);
    expect(rotated.retired.certificatePath).toBe(join(dir, 'ca/retired', rotated.retired.keyId, 'intermediate_ca.crt'));
    expect(readFileSync(rotated.retired.certificatePath, 'utf8')).toBe(readFileSync(oldIntermediate, 'utf8'));
    expect(statSync(join(dir, 'ca/retired', rotated.retired.keyId, 'intermediate_ca.key')).mode & 0o777).toBe(0o600);
    const names = (file: string) => openssl(['x509', '-in', file, '-noout', '-subject', '-issuer']).stdout;
    expect(names(join(dir, 'ca/intermediate_ca.crt'))).toBe(names(oldIntermediate));
    const pub = (file: string) => openssl(['x509', '-in', file, '-noout', '-pubkey']).stdout;
    expect(pub(join(dir, 'ca/intermediate_ca.crt'))).not.toBe(pub(oldIntermediate));
    const ski = openssl(['x509', '-in', join(dir, 'ca/intermediate_ca.crt'), '-noout', '-ext', 'subjectKeyIdentifier']).stdout.replace(/[^0-9A-F]/gi, '').slice(-40);
    expect(ski.toUpperCase()).toContain(rotated.keyId.slice(0, 8));
  });

  it('OpenSSL, GnuTLS and Go: each leaf verifies to the unchanged root through the intermediate that signed it, and not through the other', () => {
    const root = join(dir, 'ca/root_ca.crt');
    const newIntermediate = join(dir, 'ca/intermediate_ca.crt');
    const newLeaf = join(certs('edge'), 'edge.crt');
    const both = join(work, 'both.pem');
    runPeer('sh', ['-c', `cat "$0" "$1" > "$2"`, oldIntermediate, newIntermediate, both]);
    const verdicts = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === 'ok' ? 'ok' : 'refused']));
    const table = {
      'leaf before, old intermediate': verdicts(verifyEverywhere(root, oldIntermediate, oldLeaf)),
      'leaf before, new intermediate': verdicts(verifyEverywhere(root, newIntermediate, oldLeaf)),
      'leaf after, new intermediate': verdicts(verifyEverywhere(root, newIntermediate, newLeaf)),
      'leaf after, old intermediate': verdicts(verifyEverywhere(root, oldIntermediate, newLeaf)),
      'leaf before, both intermediates': verdicts(verifyEverywhere(root, both, oldLeaf)),
      'leaf after, both intermediates': verdicts(verifyEverywhere(root, both, newLeaf)),
    };
    const REFUSED = { openssl: 'refused', gnutls: 'refused', go: 'refused' };
    expect(table).toEqual({
      'leaf before, old intermediate': ALL_OK,
      'leaf before, new intermediate': REFUSED,
      'leaf after, new intermediate': ALL_OK,
      'leaf after, old intermediate': REFUSED,
      'leaf before, both intermediates': ALL_OK,
      'leaf after, both intermediates': ALL_OK,
    });
  });

  it('redis-server (started before) and nginx with the old ca.crt accept clients issued after the rotation', () => {
    const pong = redisPing(redisPort, oldCaCrt, certs('edge'), 'new-client');
    expect(pong.stdout.trim(), pong.stderr).toBe('PONG');
    const oldClient = redisPing(redisPort, oldCaCrt, certs('redis'), 'app');
    expect(oldClient.stdout.trim(), oldClient.stderr).toBe('PONG');
    const get = nginxGet(nginxPort, oldCaCrt, certs('edge'), 'new-client');
    expect(get.stdout, get.stderr).toBe('hello CN=new-client\n\n200');
  });

  it("revoking a leaf of the old key puts it on the old key's CRL (signed by it, in chain.crl.pem); OpenSSL with the chain refuses it and accepts a new leaf", () => {
    const client = join(certs('web'), 'old-client.crt');
    const serial = openssl(['x509', '-in', client, '-noout', '-serial']).stdout.trim().replace('serial=', '');
    ok(['revoke', client]);
    const retiredCrl = openssl(['crl', '-in', rotated.retired.crlPath, '-CAfile', oldIntermediate, '-noout', '-text']);
    expect(retiredCrl.stderr).toContain('verify OK');
    expect(retiredCrl.stdout).toContain(`Serial Number: ${serial}`);
    const chain = readFileSync(join(dir, 'crl/chain.crl.pem'), 'utf8');
    expect(chain.match(/-----BEGIN X509 CRL-----/g)).toHaveLength(3);
    const check = (leaf: string) => openssl(['verify', '-crl_check_all', '-CRLfile', join(dir, 'crl/chain.crl.pem'), '-CAfile', join(dir, 'ca/root_ca.crt'), '-untrusted', oldIntermediate, '-untrusted', join(dir, 'ca/intermediate_ca.crt'), leaf]);
    const refused = check(client);
    expect(refused.stdout + refused.stderr).toMatch(/certificate revoked/);
    const accepted = check(join(certs('edge'), 'edge.crt'));
    expect(accepted.stdout, accepted.stderr).toContain(': OK');
    const stillGood = check(join(certs('redis'), 'app.crt')); // an old-key leaf not revoked
    expect(stillGood.stdout, stillGood.stderr).toContain(': OK');
    // pki crl re-signs both: the current CRL and the retired key's
    const crl = JSON.parse(ok(['crl', '--json'])) as { retired?: { path: string }[] };
    expect(crl.retired?.map((r) => r.path)).toEqual([rotated.retired.crlPath]);
  });

  it('renew re-issues a leaf of the old key with the new key; its file carries the new chain', () => {
    const leaf = join(certs('redis'), 'app.crt');
    ok(['renew', leaf, '--force']);
    expect(verifyEverywhere(join(dir, 'ca/root_ca.crt'), join(dir, 'ca/intermediate_ca.crt'), leaf)).toEqual(ALL_OK);
    expect(readFileSync(leaf, 'utf8')).toContain(readFileSync(join(dir, 'ca/intermediate_ca.crt'), 'utf8').trim());
  });

  it('revoking the retired intermediate by serial: on the root CRL, its own CRL no longer re-signed, the current one keeps issuing', () => {
    const serial = openssl(['x509', '-in', rotated.retired.certificatePath, '-noout', '-serial']).stdout.trim().replace('serial=', '');
    const r = pki(['revoke', serial, '--reason', 'superseded', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('it had been retired by "pki ca rotate": the current intermediate keeps issuing');
    expect(openssl(['crl', '-in', join(dir, 'crl/root_ca.crl'), '-noout', '-text']).stdout).toContain(`Serial Number: ${serial}`);
    const retiredCrl = readFileSync(rotated.retired.crlPath, 'utf8');
    const crl = JSON.parse(ok(['crl', '--json'])) as { retired?: unknown[] };
    expect(crl.retired).toBeUndefined();
    expect(readFileSync(rotated.retired.crlPath, 'utf8')).toBe(retiredCrl);
    ok(['generate', 'after-revoke', 'main']);
    expect(verifyEverywhere(join(dir, 'ca/root_ca.crt'), join(dir, 'ca/intermediate_ca.crt'), join(certs('after-revoke'), 'client.crt'))).toEqual(ALL_OK);
  });
});

describe('refusals and rollback', () => {
  it('a lifetime beyond the root, or a CA name that does not exist, is one line and changes nothing', () => {
    const before = snapshotTree(dir);
    const long = pki(['ca', 'rotate', '--not-after', '30y', '--dir', dir]);
    expectOneLineError(long, 1);
    expect(long.stderr).toContain('would outlive the root');
    const named = pki(['ca', 'rotate', 'systems', '--dir', dir]);
    expect(expectOneLineError(named, 1)).toMatch(/there is no issuing CA systems/);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('pki ca rollback restores ca/ as it was before the rotation (the retired folder gone, the old pair back)', () => {
    expectOneLineError(pki(['ca', 'rollback', '--snapshot', rotated.snapshot, '--dir', dir])); // leaves issued since
    const r = pki(['ca', 'rollback', '--snapshot', rotated.snapshot, '--force', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(treeContents(snapshotTree(join(dir, 'ca')))).toEqual(treeContents(caBefore));
    expect(readFileSync(join(dir, 'ca/intermediate_ca.crt'), 'utf8')).toBe(readFileSync(oldIntermediate, 'utf8'));
  });
});
