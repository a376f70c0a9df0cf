/**
 * Issue 14 point 4, "(or a `trustDomains` entry in pki.json)": pki.json names the services each trust
 * domain holds, and `pki generate SERVICE …` issues from that domain without `--trust-domain` — checked
 * with openssl (the bundle's ca.crt is the domain's root, the chain verifies to it and not to the main
 * root). A flag that contradicts pki.json, a service in two domains and a malformed domain name are each
 * one line, exit 2 / 1, nothing written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree } from '../helpers/cli.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import { editPkiJson } from '../helpers/serve-client.js';

let dir: string;
const certs = (service: string) => join(dir, 'services', service, 'main', 'certs');
const setTrustDomains = (trustDomains: unknown) => editPkiJson(dir, (config) => void (config.trustDomains = trustDomains));

beforeAll(() => {
  requirePeer('openssl');
  dir = initCa();
});

describe('pki.json trustDomains', () => {
  it('pki generate of a listed service issues from its domain (created on first use), with no flag; another service from the main hierarchy', () => {
    setTrustDomains({ cache: { services: ['redis', 'memcached'] } });
    const r = pki(['generate', 'redis', 'main', '--no-password', '--insecure', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Created trust domain cache in ${join(dir, 'domains', 'cache')}`);
    const subject = (file: string) => runPeer('openssl', ['x509', '-in', file, '-noout', '-subject']).stdout.trim();
    expect(subject(join(certs('redis'), 'ca.crt'))).toBe('subject=CN = pki cache Root CA');
    const verify = (anchor: string, leaf: string) => runPeer('openssl', ['verify', '-CAfile', anchor, '-untrusted', leaf, leaf]);
    expect(verify(join(certs('redis'), 'ca.crt'), join(certs('redis'), 'client.crt')).stdout).toMatch(/: OK/);
    expect(verify(join(dir, 'ca', 'root_ca.crt'), join(certs('redis'), 'client.crt')).status).not.toBe(0);
    // The second listed service reuses the domain; an unlisted one is the main hierarchy's.
    expect(pki(['generate', 'memcached', 'main', '--dir', dir]).code).toBe(0);
    expect(readFileSync(join(certs('memcached'), 'ca.crt'), 'utf8')).toBe(readFileSync(join(certs('redis'), 'ca.crt'), 'utf8'));
    expect(pki(['generate', 'postgres', 'main', '--dir', dir]).code).toBe(0);
    expect(subject(join(certs('postgres'), 'ca.crt'))).toBe('subject=CN = pki Root CA');
    const listed = JSON.parse(pki(['list', '--json', '--dir', dir]).stdout);
    const rows: any[] = Array.isArray(listed) ? listed : listed.certificates;
    const serviceOf = (c: { certificatePath: string }) => c.certificatePath.split('/services/')[1]!.split('/')[0];
    expect(rows.filter((c) => c.trustDomain === 'cache' && c.certificatePath?.includes('/services/')).map(serviceOf).sort()).toEqual(['memcached', 'memcached', 'redis', 'redis']);
    // --trust-domain naming the same domain is fine.
    expect(pki(['generate', 'redis', 'main', '--trust-domain', 'cache', '--dir', dir]).code).toBe(0);
  });

  it('refuses --trust-domain or --ca that contradict pki.json: one line, exit 2, nothing written', () => {
    setTrustDomains({ cache: { services: ['redis'] } });
    const before = snapshotTree(dir);
    const other = expectOneLineError(pki(['generate', 'redis', 'replica', '--trust-domain', 'web', '--no-password', '--insecure', '--dir', dir]), 2);
    expect(other).toMatch(/^pki: error: pki\.json puts service redis in trust domain cache \(trustDomains\.cache\.services\); --trust-domain web contradicts it \(drop --trust-domain, or move redis in pki\.json's trustDomains\)/);
    expect(expectOneLineError(pki(['generate', 'redis', 'replica', '--ca', 'default', '--dir', dir]), 2)).toMatch(/--ca default contradicts it/);
    expect(snapshotTree(dir)).toEqual(before);
    expect(existsSync(join(dir, 'domains', 'web'))).toBe(false);
  });

  it('refuses a service in two domains and a malformed domain name as invalid pki.json (one line naming the field, exit 1)', () => {
    setTrustDomains({ cache: { services: ['redis'] }, web: { services: ['nginx', 'redis'] } });
    expect(expectOneLineError(pki(['generate', 'nginx', 'main', '--dir', dir]), 1)).toMatch(/trustDomains\.web\.services: service "redis" is in trust domains "cache" and "web": a service is in one at most/);
    setTrustDomains({ Cache_1: { services: ['redis'] } });
    expect(expectOneLineError(pki(['config', 'validate', '--dir', dir]), 1)).toMatch(/trustDomains.*a trust domain name is lower-case letters, digits and hyphens/);
    setTrustDomains({ cache: { services: [] } });
    expect(expectOneLineError(pki(['config', 'validate', '--dir', dir]), 1)).toMatch(/trustDomains\.cache\.services: must name at least one service/);
    setTrustDomains({ cache: { services: ['redis'] } });
  });

  it("does not judge a domain's leaves by pki.json's nameConstraints, which are the main intermediate's (stamped there by init --permit-dns)", () => {
    const home = initCa(['--permit-dns', 'internal']);
    const main = pki(['generate', 'redis', 'main', '--dir', home]);
    expect(main.code).toBe(1);
    expect(main.stderr).toMatch(/outside the intermediate's name constraints/);
    const r = pki(['generate', 'redis', 'main', '--trust-domain', 'cache', '--no-password', '--insecure', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    const leaf = join(home, 'services', 'redis', 'main', 'certs', 'redis.crt');
    // The domain's intermediate carries no constraints: openssl accepts the name the main one would refuse.
    expect(runPeer('openssl', ['verify', '-CAfile', join(home, 'domains', 'cache', 'ca', 'root_ca.crt'), '-untrusted', join(home, 'domains', 'cache', 'ca', 'intermediate_ca.crt'), leaf]).stdout).toMatch(/: OK/);
  });

  it('refuses bad input for a new domain before creating it: a bad SAN (exit 1) or an unknown profile (exit 2), nothing on disk changes', () => {
    const home = initCa();
    const before = snapshotTree(home);
    expect(expectOneLineError(pki(['generate', 'redis', 'main', '--trust-domain', 'fresh', '--san', 'bad name!', '--no-password', '--insecure', '--dir', home]), 1)).toMatch(/invalid SAN "bad name!"/);
    expect(expectOneLineError(pki(['generate', 'redis', 'main', '--trust-domain', 'fresh', '--profile', 'nosuch', '--no-password', '--insecure', '--dir', home]), 2)).toMatch(/unknown profile "nosuch"/);
    expect(snapshotTree(home)).toEqual(before);
    expect(existsSync(join(home, 'domains', 'fresh'))).toBe(false);
  });
});
