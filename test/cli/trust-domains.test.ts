/**
 * Issue 14, point 4 / "Done means" 4 (first part): per-service trust domains. `pki generate … --trust-domain
 * NAME` issues the bundle from a root and intermediate of that domain's own (domains/NAME/, made on first
 * use), so a server whose ca.crt is domain A's admits A's clients only. Proven with a real redis-server and
 * nginx: a client certificate of domain B, or of the main hierarchy, is refused by A's server and accepted
 * by its own — while two bundles of the main hierarchy accept each other's clients (the problem the domains
 * solve). The inventory records the domain; revoke, crl and renew act with the domain's CA.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editPkiJson } from '../helpers/serve-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree, tempDir, treeContents } from '../helpers/cli.js';
import { startNginx } from '../helpers/nginx.js';
import { REDIS_READY, startServer, type Server } from '../helpers/process.js';
import { requirePeer, runPeer } from '../helpers/peers.js';


let dir = '';
const certs = (service: string, variant: string) => join(dir, 'services', service, variant, 'certs');
const openssl = (args: string[]) => runPeer('openssl', args);

beforeAll(() => {
  requirePeer('openssl');
  dir = initCa();
  // Domain "cache" holds Redis; domain "web" holds nginx; "db" and "edge" are bundles of the main hierarchy.
  for (const [service, variant, domain] of [
    ['redis', 'main', 'cache'],
    ['nginx', 'main', 'web'],
  ] as const) {
    const r = pki(['generate', service, variant, '--trust-domain', domain, '--no-password', '--insecure', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Created trust domain ${domain} in ${join(dir, 'domains', domain)}`);
  }
  for (const service of ['postgres', 'edge']) expect(pki(['generate', service, 'main', '--dir', dir]).code).toBe(0);
});

describe('the files of a trust domain', () => {
  it("has its own self-signed root in ca.crt, and the bundle's chain verifies to it and to nothing else", () => {
    const subject = (file: string) => openssl(['x509', '-in', file, '-noout', '-subject', '-issuer']).stdout;
    expect(subject(join(certs('redis', 'main'), 'ca.crt'))).toBe('subject=CN = pki cache Root CA\nissuer=CN = pki cache Root CA\n');
    expect(subject(join(certs('nginx', 'main'), 'ca.crt'))).toBe('subject=CN = pki web Root CA\nissuer=CN = pki web Root CA\n');
    expect(subject(join(dir, 'domains/cache/ca/intermediate_ca.crt'))).toBe('subject=CN = pki cache Intermediate CA\nissuer=CN = pki cache Root CA\n');
    const verify = (anchorOf: string, leaf: string) => openssl(['verify', '-x509_strict', '-CAfile', join(certs(anchorOf, 'main'), 'ca.crt'), '-untrusted', leaf, leaf]);
    const redisClient = join(certs('redis', 'main'), 'client.crt');
    expect(verify('redis', redisClient).stdout).toContain(': OK');
    for (const other of ['nginx', 'postgres']) expect(verify(other, redisClient).stdout).not.toContain(': OK');
    expect(verify('postgres', join(certs('edge', 'main'), 'client.crt')).stdout).toContain(': OK'); // the main hierarchy: one trust for all
  });

  it('keeps the domain keys 0600 in a 0700 folder, and its CRLs in domains/NAME/crl/', () => {
    expect(statSync(join(dir, 'domains/cache/ca')).mode & 0o777).toBe(0o700);
    for (const key of ['root_ca.key', 'intermediate_ca.key']) expect(statSync(join(dir, 'domains/cache/ca', key)).mode & 0o777).toBe(0o600);
    const crl = openssl(['crl', '-in', join(dir, 'domains/cache/crl/intermediate_ca.crl'), '-CAfile', join(dir, 'domains/cache/ca/intermediate_ca.crt'), '-noout', '-issuer']);
    expect(crl.stdout + crl.stderr).toMatch(/issuer=CN = pki cache Intermediate CA\nverify OK/);
  });

  it('a second bundle in an existing domain reuses its CA; list --json names each certificate\'s domain, CA and issuer', () => {
    const before = openssl(['x509', '-in', join(dir, 'domains/cache/ca/root_ca.crt'), '-noout', '-fingerprint', '-sha256']).stdout;
    const r = pki(['generate', 'redis', 'replica', '--trust-domain', 'cache', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('Created trust domain');
    expect(openssl(['x509', '-in', join(certs('redis', 'replica'), 'ca.crt'), '-noout', '-fingerprint', '-sha256']).stdout).toBe(before);
    const rows = JSON.parse(pki(['list', '--json', '--dir', dir]).stdout) as { subject: string; certificatePath: string | null; trustDomain: string | null; ca: string; issuer: string }[];
    const of = (path: string) => rows.find((row) => row.certificatePath === path)!;
    expect(of(join(certs('redis', 'replica'), 'client.crt'))).toMatchObject({ trustDomain: 'cache', ca: 'default', issuer: 'CN=pki cache Intermediate CA' });
    expect(of(join(certs('nginx', 'main'), 'nginx.crt'))).toMatchObject({ trustDomain: 'web', issuer: 'CN=pki web Intermediate CA' });
    expect(of(join(certs('postgres', 'main'), 'client.crt'))).toMatchObject({ trustDomain: null, ca: 'default', issuer: 'CN=pki Intermediate CA' });
    expect(of(join(dir, 'domains/web/ca/root_ca.crt'))).toMatchObject({ trustDomain: 'web', subject: 'CN=pki web Root CA' });
    expect(pki(['list', '--dir', dir]).stdout).toMatch(/^SERIAL +SUBJECT +PROFILE +DOMAIN +NOT AFTER/);
  });
});

describe('redis-server and nginx configured with one domain’s bundle', () => {
  const servers: Server[] = [];
  let redisPort = 0;
  let nginxPort = 0;

  beforeAll(async () => {
    const redisServer = requirePeer('redis-server');
    requirePeer('redis-cli');
    requirePeer('curl');
    const redis = certs('redis', 'main');
    const work = tempDir('pki-domain-redis-');
    const r = await startServer({
      program: redisServer,
      // prettier-ignore
      args: (port) => ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', join(redis, 'redis.crt'), '--tls-key-file', join(redis, 'redis.key'), '--tls-ca-cert-file', join(redis, 'ca.crt'), '--tls-auth-clients', 'yes', '--save', '', '--appendonly', 'no', '--dir', work],
      ready: REDIS_READY,
    });
    servers.push(r);
    redisPort = r.port;
    const web = certs('nginx', 'main');
    const n = await startNginx({
      prefix: 'pki-domain-nginx-',
      server: `    ssl_certificate ${join(web, 'nginx.crt')};
    ssl_certificate_key ${join(web, 'nginx.key')};
    ssl_client_certificate ${join(web, 'ca.crt')};
    ssl_verify_client on;
    ssl_verify_depth 2;
    location / { return 200 "hello $ssl_client_s_dn\\n"; }`,
    });
    servers.push(n.server);
    nginxPort = n.server.port;
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  const ping = (folder: string) =>
    // prettier-ignore
    runPeer('redis-cli', ['--tls', '-h', '127.0.0.1', '-p', String(redisPort), '--cacert', join(certs('redis', 'main'), 'ca.crt'), '--cert', join(folder, 'client.crt'), '--key', join(folder, 'client.key'), 'PING']);
  const get = (folder: string) =>
    // prettier-ignore
    runPeer('curl', ['-sS', '--cacert', join(certs('nginx', 'main'), 'ca.crt'), '--cert', join(folder, 'client.crt'), '--key', join(folder, 'client.key'), '-w', '\n%{http_code}', `https://localhost:${nginxPort}/`, '--resolve', `localhost:${nginxPort}:127.0.0.1`]);

  it("redis answers PONG to its own domain's client, and refuses the other domain's and the main hierarchy's", () => {
    const own = ping(certs('redis', 'main'));
    expect(own.stdout.trim(), own.stderr).toBe('PONG');
    const sameDomain = ping(certs('redis', 'replica')); // issued later by the same domain CA
    expect(sameDomain.stdout.trim(), sameDomain.stderr).toBe('PONG');
    for (const stranger of [certs('nginx', 'main'), certs('postgres', 'main')]) {
      const r = ping(stranger);
      expect(r.stdout.trim()).not.toBe('PONG');
      expect(`${r.stdout}${r.stderr}`).toMatch(/SSL|TLS|alert|error|reset|Connection/i);
    }
  });

  it("nginx admits its own domain's client (200) and answers 400 to the others", () => {
    const own = get(certs('nginx', 'main'));
    expect(own.stdout, own.stderr).toBe('hello CN=client\n\n200');
    for (const stranger of [certs('redis', 'main'), certs('postgres', 'main')]) {
      const r = get(stranger);
      expect(r.stdout).toMatch(/400$/);
      expect(r.stdout).toContain('The SSL certificate error');
    }
  });
});

describe("a domain's leaves name the domain's CRL and intermediate", () => {
  it("pki.json's CRL and caIssuers URLs are rewritten to /domains/NAME/ as pki serve publishes them, others left out; OCSP kept; the main hierarchy's leaves unchanged", () => {
    const home = initCa();
    editPkiJson(home, (config) => {
      config.crl = { ...(config.crl ?? {}), distributionPoints: ['http://pki.test/crl/intermediate_ca.crl', 'http://other.test/x.crl'] };
      config.aia = { caIssuers: ['http://pki.test/intermediate.crt'] };
      config.ocsp = { urls: ['http://pki.test/ocsp'] };
    });
    for (const args of [['redis', 'main', '--trust-domain', 'cache', '--no-password', '--insecure'], ['postgres', 'main']]) {
      const r = pki(['generate', ...args, '--dir', home]);
      expect(r.code, r.stderr).toBe(0);
    }
    const urls = (leaf: string) => {
      const text = openssl(['x509', '-in', leaf, '-noout', '-text']).stdout;
      const crlSection = /X509v3 CRL Distribution Points:([\s\S]*?)(?:\n\s*X509v3|\n\s*Authority Information|\nSignature)/.exec(text)?.[1] ?? '';
      return {
        crl: [...crlSection.matchAll(/URI:(\S+)/g)].map((m) => m[1]),
        caIssuers: [...text.matchAll(/CA Issuers - URI:(\S+)/g)].map((m) => m[1]),
        ocsp: [...text.matchAll(/OCSP - URI:(\S+)/g)].map((m) => m[1]),
      };
    };
    expect(urls(join(home, 'services/redis/main/certs/redis.crt'))).toEqual({
      crl: ['http://pki.test/domains/cache/crl/intermediate_ca.crl'],
      caIssuers: ['http://pki.test/domains/cache/intermediate.crt'],
      ocsp: ['http://pki.test/ocsp'],
    });
    expect(urls(join(home, 'services/postgres/main/certs/postgres.crt'))).toEqual({
      crl: ['http://pki.test/crl/intermediate_ca.crl', 'http://other.test/x.crl'],
      caIssuers: ['http://pki.test/intermediate.crt'],
      ocsp: ['http://pki.test/ocsp'],
    });
  });
});

describe('revoke, crl and renew act with the domain’s CA', () => {
  it("revoke finds the domain from the inventory: the certificate goes on the domain's CRL, not on the main one", () => {
    const client = join(certs('nginx', 'main'), 'client.crt');
    const serial = openssl(['x509', '-in', client, '-noout', '-serial']).stdout.trim().replace('serial=', '');
    const mainCrlBefore = openssl(['crl', '-in', join(dir, 'crl/intermediate_ca.crl'), '-noout', '-crlnumber']).stdout;
    const r = pki(['revoke', client, '--reason', 'keyCompromise', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(dir, 'domains/web/crl/intermediate_ca.crl'));
    const text = openssl(['crl', '-in', join(dir, 'domains/web/crl/intermediate_ca.crl'), '-CAfile', join(dir, 'domains/web/ca/intermediate_ca.crt'), '-noout', '-text']);
    expect(text.stderr).toContain('verify OK');
    expect(text.stdout).toContain(`Serial Number: ${serial}`);
    expect(text.stdout).toMatch(/X509v3 CRL Number: \n\s+2\n/); // the domain's own counter: its first CRL was 1
    expect(openssl(['crl', '-in', join(dir, 'crl/intermediate_ca.crl'), '-noout', '-text']).stdout).not.toContain(serial);
    expect(openssl(['crl', '-in', join(dir, 'crl/intermediate_ca.crl'), '-noout', '-crlnumber']).stdout).toBe(mainCrlBefore);
    // openssl, as a relying party with the domain's CRLs, refuses the revoked client
    const chain = join(dir, 'domains/web/crl/chain.crl.pem');
    const v = openssl(['verify', '-crl_check_all', '-CRLfile', chain, '-CAfile', join(certs('nginx', 'main'), 'ca.crt'), '-untrusted', client, client]);
    expect(v.stdout + v.stderr).toMatch(/certificate revoked/);
  });

  it('pki crl --trust-domain re-publishes that domain’s CRL with the next number of its own counter', () => {
    const r = pki(['crl', '--trust-domain', 'web', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ path: join(dir, 'domains/web/crl/intermediate_ca.crl'), crlNumber: '3', entries: 1 });
    const main = JSON.parse(pki(['crl', '--json', '--dir', dir]).stdout) as { path: string; entries: number };
    expect(main).toMatchObject({ path: join(dir, 'crl/intermediate_ca.crl'), entries: 0 });
  });

  it("renew --all re-issues each domain's certificates with that domain's intermediate (its ca.crt still verifies them)", () => {
    const leaf = join(certs('redis', 'main'), 'redis.crt');
    const serialOf = (file: string) => openssl(['x509', '-in', file, '-noout', '-serial']).stdout;
    const before = serialOf(leaf);
    const r = pki(['renew', '--all', '--force', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(serialOf(leaf)).not.toBe(before);
    expect(openssl(['x509', '-in', leaf, '-noout', '-issuer']).stdout).toBe('issuer=CN = pki cache Intermediate CA\n');
    const v = openssl(['verify', '-x509_strict', '-CAfile', join(certs('redis', 'main'), 'ca.crt'), '-untrusted', leaf, leaf]);
    expect(v.stdout, v.stderr).toContain(': OK');
    const rows = JSON.parse(pki(['list', '--json', '--dir', dir]).stdout) as { certificatePath: string | null; trustDomain: string | null }[];
    expect(rows.find((row) => row.certificatePath === leaf)?.trustDomain).toBe('cache');
  });

  it('sign --trust-domain signs a CSR with the domain’s intermediate', () => {
    const work = tempDir('pki-domain-sign-');
    const key = join(work, 'app.key');
    const csr = join(work, 'app.csr');
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=app.internal', '-addext', 'subjectAltName=DNS:app.internal', '-out', csr]);
    const out = join(work, 'app.crt');
    const r = pki(['sign', csr, '--trust-domain', 'cache', '--out', out, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(openssl(['verify', '-CAfile', join(certs('redis', 'main'), 'ca.crt'), '-untrusted', out, out]).stdout).toContain(': OK');
  });
});

describe("pki ca renew --trust-domain and ca rollback --trust-domain", () => {
  it("renews the domain's intermediate with the domain's root (same key and subject), bundles renewed after carry it, and a rollback restores the domain's ca/ byte for byte", () => {
    const domainCa = join(dir, 'domains/cache/ca');
    const before = snapshotTree(domainCa);
    const mainBefore = snapshotTree(join(dir, 'ca'));
    const r = pki(['ca', 'renew', '--trust-domain', 'cache', '--not-after', '6y', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const renewed = JSON.parse(r.stdout) as { certificatePath: string; notAfter: string; previousNotAfter: string; snapshot: string };
    expect(renewed.certificatePath).toBe(join(domainCa, 'intermediate_ca.crt'));
    expect(Date.parse(renewed.notAfter)).toBeGreaterThan(Date.parse(renewed.previousNotAfter));
    const fields = openssl(['x509', '-in', join(domainCa, 'intermediate_ca.crt'), '-noout', '-subject', '-issuer']).stdout;
    expect(fields).toBe('subject=CN = pki cache Intermediate CA\nissuer=CN = pki cache Root CA\n');
    expect(snapshotTree(join(dir, 'ca'))).toBe(mainBefore); // the main hierarchy is untouched
    // a leaf issued afterwards chains through the renewed certificate to the same domain root
    expect(pki(['renew', join(certs('redis', 'main'), 'client.crt'), '--force', '--dir', dir]).code).toBe(0);
    const client = join(certs('redis', 'main'), 'client.crt');
    const v = openssl(['verify', '-x509_strict', '-CAfile', join(certs('redis', 'main'), 'ca.crt'), '-untrusted', client, client]);
    expect(v.stdout, v.stderr).toContain(': OK');
    expect(readFileSync(client, 'utf8')).toContain(readFileSync(join(domainCa, 'intermediate_ca.crt'), 'utf8').trim());
    const back = pki(['ca', 'rollback', '--trust-domain', 'cache', '--force', '--dir', dir]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`snapshot ${renewed.snapshot}`);
    expect(treeContents(snapshotTree(domainCa))).toEqual(treeContents(before));
  });
});

describe('refusals', () => {
  it('an invalid domain name is a usage error (exit 2), a missing domain one line (exit 1); nothing on disk changes', () => {
    const before = snapshotTree(dir);
    const bad = pki(['generate', 'redis', 'x', '--trust-domain', 'Not_A_Name', '--no-password', '--insecure', '--dir', dir]);
    expectOneLineError(bad, 2);
    expect(bad.stderr).toContain('invalid trust domain name "Not_A_Name"');
    for (const args of [['crl', '--trust-domain', 'nowhere'], ['sign', join(dir, 'none.csr'), '--trust-domain', 'nowhere']]) {
      const r = pki([...args, '--dir', dir]);
      expectOneLineError(r, 1);
      expect(r.stderr).toContain('there is no trust domain nowhere');
    }
    const combined = pki(['generate', 'redis', 'x', '--trust-domain', 'cache', '--init', '--dir', dir]);
    expectOneLineError(combined, 2);
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('renew --trust-domain', () => {
  it('renews only that domain\'s certificates with --all, and refuses one of another CA in one line', () => {
    const rows = JSON.parse(pki(['list', '--json', '--dir', dir]).stdout) as Array<{ certificatePath: string | null; trustDomain: string | null; profile: string }>;
    const cachePaths = rows.filter((x) => x.trustDomain === 'cache' && !['root', 'intermediate'].includes(x.profile) && x.certificatePath).map((x) => x.certificatePath!).sort();
    const r = pki(['renew', '--all', '--force', '--trust-domain', 'cache', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const outcomes = JSON.parse(r.stdout).certificates as Array<{ path: string; status: string; reason?: string }>;
    const renewed = outcomes.filter((o) => o.status === 'renewed').map((o) => o.path).sort();
    // Every one renewed is the domain's; redis/main/client.crt holds a serial the rollback above took out of the inventory.
    for (const path of renewed) expect(cachePaths).toContain(path);
    expect(renewed).toEqual(expect.arrayContaining([join(certs('redis', 'main'), 'redis.crt'), join(certs('redis', 'replica'), 'client.crt')]));
    expect(outcomes.find((o) => o.path === join(certs('nginx', 'main'), 'nginx.crt'))).toMatchObject({ status: 'skipped', reason: 'issued by trust domain web, not trust domain cache' });
    const one = pki(['renew', join(certs('postgres', 'main'), 'client.crt'), '--force', '--trust-domain', 'cache', '--dir', dir]);
    expect(expectOneLineError(one, 2)).toMatch(/was issued by CA default, not trust domain cache: a certificate is renewed by the CA that issued it/);
  });
});

describe('cron and monitoring cover every domain', () => {
  it("crl --if-due re-publishes each domain's due CRL (its own counter); pki check reads each domain's CRLs", () => {
    const number = (file: string) => Number(/X509v3 CRL Number: *\n\s*(\d+)/.exec(openssl(['crl', '-in', file, '-noout', '-text']).stdout)?.[1]);
    const cacheCrl = join(dir, 'domains/cache/crl/intermediate_ca.crl');
    const before = number(cacheCrl);
    const sixDays = new Date(Date.now() + 6 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const r = pki(['crl', '--if-due', '--json', '--dir', dir], { env: { PKI_TEST_NOW: sixDays } });
    expect(r.code, r.stderr).toBe(0);
    const others = (JSON.parse(r.stdout) as { others: Array<{ trustDomain: string | null; status: string }> }).others;
    expect(others.map((o) => [o.trustDomain, o.status])).toEqual([['cache', 'published'], ['web', 'published']]);
    expect(number(cacheCrl)).toBe(before + 1);
    const check = JSON.parse(pki(['check', '--json', '--dir', dir]).stdout) as { items: Array<{ type: string; path: string; issuer: string }> };
    const crl = (path: string) => check.items.find((i) => i.type === 'crl' && i.path === join(dir, path));
    expect(crl('domains/cache/crl/intermediate_ca.crl')?.issuer).toBe('CN=pki cache Intermediate CA');
    expect(crl('domains/web/crl/root_ca.crl')?.issuer).toBe('CN=pki web Root CA');
  });
});
