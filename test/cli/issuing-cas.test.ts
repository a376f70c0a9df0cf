/**
 * Issue 14, point 3: several issuing CAs under one root. `pki ca add NAME` makes a further intermediate
 * in ca/NAME/ (its own key, lifetime, name constraints and profile set, its own CRL crl/NAME.crl);
 * `--ca NAME` on generate, sign, renew and crl selects it; revoke and renew take it from the inventory;
 * list shows it. Checked with openssl, GnuTLS and Go verifying leaves through each CA, a redis-server
 * serving a bundle of an added CA, and openssl refusing a certificate its key signed outside its name
 * constraints (the constraint is in the certificate, not only in pki's check).
 */
import { editPkiJson } from '../helpers/serve-client.js';
import { copyFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { redisPing, startMtlsRedis } from '../helpers/mtls-servers.js';
import { requirePeer, runPeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';
import { buildVerifiers, verifyEverywhere } from '../helpers/verifiers.js';

let dir = '';
let work = '';
const openssl = (args: string[]) => runPeer('openssl', args);
const caFile = (name: string) => join(dir, 'ca', name, 'intermediate_ca.crt');
const root = () => join(dir, 'ca', 'root_ca.crt');
const crlNumber = (file: string) => Number(/X509v3 CRL Number: *\n\s*(\d+)/.exec(openssl(['crl', '-in', file, '-noout', '-text']).stdout)?.[1]);
const ok = { openssl: 'ok', gnutls: 'ok', go: 'ok' };

/** A CSR (and key) made by openssl for `cn` with DNS SAN `cn`. */
function csr(cn: string): string {
  const base = join(work, cn);
  const r = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`]);
  expect(r.status, r.stderr).toBe(0);
  return `${base}.csr`;
}

function sign(cn: string, ca: string, profile = 'server'): string {
  const out = join(work, `${cn}.crt`);
  const r = pki(['sign', csr(cn), '--ca', ca, '--profile', profile, '--out', out, '--dir', dir]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

function listJson(): Array<{ serial: string; subject: string; ca: string; issuer: string; status: string; certificatePath: string | null }> {
  const r = pki(['list', '--json', '--all', '--dir', dir]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  requirePeer('openssl');
  buildVerifiers();
  dir = initCa();
  work = tempDir('pki-issuing-cas-');
  const add = (args: string[]) => {
    const r = pki(['ca', 'add', ...args, '--no-password', '--insecure', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  expect(add(['systems', '--permit-dns', 'internal', '--not-after', '2y'])).toContain('Created issuing CA systems');
  expect(add(['users', '--profile-set', 'client', '--not-after', '3y'])).toContain('profiles: client');
  add(['apps', '--not-after', '1y']);
}, 120_000);

describe('pki ca add', () => {
  it('makes ca/NAME/ (key 0600 in 0700, policy, certificate signed by the root) with its own lifetime and name constraints', () => {
    for (const name of ['systems', 'users', 'apps']) {
      expect(statSync(join(dir, 'ca', name)).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'ca', name, 'intermediate_ca.key')).mode & 0o777).toBe(0o600);
      const text = openssl(['x509', '-in', caFile(name), '-noout', '-subject', '-issuer']).stdout;
      expect(text).toBe(`subject=CN = pki ${name} Intermediate CA\nissuer=CN = pki Root CA\n`);
      expect(openssl(['verify', '-x509_strict', '-CAfile', root(), caFile(name)]).stdout).toContain(': OK');
    }
    expect(openssl(['x509', '-in', caFile('systems'), '-noout', '-ext', 'nameConstraints']).stdout).toMatch(/critical\n\s*Permitted:\n\s*DNS:internal/);
    expect(openssl(['x509', '-in', caFile('users'), '-noout', '-ext', 'nameConstraints']).stdout).not.toContain('Permitted');
    expect(JSON.parse(readFileSync(join(dir, 'ca/users/ca.json'), 'utf8'))).toEqual({ version: 1, permittedDns: [], profiles: ['client'] });
    // Staggered expiries: apps 1y < systems 2y < users 3y < default intermediate (pki.json validity.intermediate).
    const end = (file: string) => Date.parse(openssl(['x509', '-in', file, '-noout', '-enddate']).stdout.replace('notAfter=', ''));
    const year = 365 * 86_400_000;
    expect(end(caFile('systems')) - end(caFile('apps'))).toBeGreaterThan(0.9 * year);
    expect(end(caFile('users')) - end(caFile('systems'))).toBeGreaterThan(0.9 * year);
    expect(end(join(dir, 'ca/intermediate_ca.crt'))).toBeGreaterThan(end(caFile('users')));
  });

  it('publishes a CRL per CA, signed by that CA and numbered on its own, with a chain file root first', () => {
    for (const name of ['systems', 'users', 'apps']) {
      const crl = join(dir, 'crl', `${name}.crl`);
      const r = openssl(['crl', '-in', crl, '-CAfile', caFile(name), '-noout', '-issuer']);
      expect(r.stdout + r.stderr).toMatch(new RegExp(`issuer=CN = pki ${name} Intermediate CA\\nverify OK`));
      expect(crlNumber(crl)).toBe(1);
      const chain = readFileSync(join(dir, 'crl', `${name}.chain.crl.pem`), 'utf8');
      expect(chain.match(/BEGIN X509 CRL/g)).toHaveLength(2);
      expect(chain.startsWith(readFileSync(join(dir, 'crl/root_ca.crl'), 'utf8').trim().split('\n')[0]!)).toBe(true);
    }
  });

  it('refuses a taken, reserved or malformed name, an unknown profile, a bad constraint, a lifetime past the root, a missing root key: one line, nothing changed', () => {
    const before = snapshotTree(dir);
    const run = (args: string[]) => pki(['ca', 'add', ...args, '--no-password', '--insecure', '--dir', dir]);
    expect(expectOneLineError(run(['systems']))).toMatch(/issuing CA systems already exists/);
    expect(expectOneLineError(run(['retired']), 2)).toMatch(/invalid CA name "retired"/);
    expect(expectOneLineError(run(['Bad_Name']), 2)).toMatch(/invalid CA name/);
    expect(expectOneLineError(run(['extra', '--profile-set', 'nosuch']), 2)).toMatch(/nosuch/);
    expect(expectOneLineError(run(['extra', '--permit-dns', 'not a name!']))).toMatch(/name constraint/);
    expect(expectOneLineError(run(['extra', '--not-after', '40y']))).toMatch(/outlive the root/);
    renameSync(join(dir, 'ca/root_ca.key'), join(work, 'root_ca.key'));
    try {
      expect(expectOneLineError(run(['extra']))).toMatch(/root CA key .* is not in the CA home/);
    } finally {
      renameSync(join(work, 'root_ca.key'), join(dir, 'ca/root_ca.key'));
    }
    expect(snapshotTree(dir)).toBe(before);
    // init --force would orphan the added CAs under the replaced root: refused, nothing changed.
    expect(expectOneLineError(pki(['init', '--force', '--no-password', '--insecure', '--dir', dir]))).toMatch(/would leave the issuing CAs apps, systems, users under the replaced root/);
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('issuing from an added CA', () => {
  it('sign --ca: a leaf chains through that CA in OpenSSL, GnuTLS and Go, and not through another', () => {
    const leaf = sign('db.internal', 'systems');
    expect(openssl(['x509', '-in', leaf, '-noout', '-issuer']).stdout).toBe('issuer=CN = pki systems Intermediate CA\n');
    expect(verifyEverywhere(root(), caFile('systems'), leaf)).toEqual(ok);
    const wrong = verifyEverywhere(root(), caFile('users'), leaf);
    for (const verdict of Object.values(wrong)) expect(verdict).not.toBe('ok');
    const client = sign('alice', 'users', 'client');
    expect(verifyEverywhere(root(), caFile('users'), client)).toEqual(ok);
  });

  it('export of a bare leaf completes the chain with the CA that signed it (an added CA), verified by openssl', () => {
    const bare = join(work, 'alice-bare.crt');
    writeFileSync(bare, readFileSync(join(work, 'alice.crt'), 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
    const full = join(work, 'alice-full.pem');
    const r = pki(['export', '--cert', bare, '--key', join(work, 'alice.key'), '--fullchain', full, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const blocks = readFileSync(full, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/).filter((b) => b.includes('BEGIN'));
    expect(blocks[1]).toBe(readFileSync(caFile('users'), 'utf8'));
    const rest = join(work, 'alice-full-rest.pem');
    writeFileSync(rest, blocks.slice(1).join(''));
    expect(openssl(['verify', '-CAfile', root(), '-untrusted', rest, bare]).stdout).toContain(': OK');
  });

  it("enforces the CA's name constraints before signing, and relying parties enforce them too", () => {
    const before = snapshotTree(dir);
    const out = join(work, 'outside.crt');
    const r = pki(['sign', csr('db.example.com'), '--ca', 'systems', '--out', out, '--dir', dir]);
    expect(expectOneLineError(r)).toMatch(/db\.example\.com is outside issuing CA systems's name constraints \(permitted: internal\)/);
    expect(existsSync(out)).toBe(false);
    expect(snapshotTree(dir)).toBe(before);
    // The same request signed with the CA's key by openssl: OpenSSL refuses it because of the certificate's constraint.
    const forged = join(work, 'forged.crt');
    const ext = join(work, 'forged.ext');
    writeFileSync(ext, 'subjectAltName=DNS:db.example.com\n');
    const x = openssl(['x509', '-req', '-in', join(work, 'db.example.com.csr'), '-CA', caFile('systems'), '-CAkey', join(dir, 'ca/systems/intermediate_ca.key'), '-out', forged, '-days', '1', '-extfile', ext]);
    expect(x.status, x.stderr).toBe(0);
    const v = openssl(['verify', '-CAfile', root(), '-untrusted', caFile('systems'), forged]);
    expect(v.status).not.toBe(0);
    expect(v.stdout + v.stderr).toMatch(/permitted subtree violation/);
  });

  it("refuses a profile outside the CA's profile set (users issues client only): one line, nothing changed", () => {
    const before = snapshotTree(dir);
    const r = pki(['sign', csr('web.internal'), '--ca', 'users', '--profile', 'server', '--out', join(work, 'web.crt'), '--dir', dir]);
    expect(expectOneLineError(r)).toMatch(/issuing CA users does not issue profile "server" \(it issues client\)/);
    expect(expectOneLineError(pki(['generate', 'app', 'main', '--ca', 'users', '--dir', dir]))).toMatch(/does not issue profile "peer"/);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('generate --ca: the bundle chains through the CA, ca.crt is the shared root, a real redis-server serves it to its clients', async () => {
    const r = pki(['generate', 'redis', 'main', '--ca', 'apps', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const certs = join(dir, 'services/redis/main/certs');
    expect(readFileSync(join(certs, 'ca.crt'), 'utf8')).toBe(readFileSync(root(), 'utf8'));
    const chain = readFileSync(join(certs, 'redis.crt'), 'utf8');
    expect(chain).toContain(readFileSync(caFile('apps'), 'utf8').trim());
    expect(verifyEverywhere(root(), caFile('apps'), join(certs, 'client.crt'))).toEqual(ok);
    let redis: Server | undefined;
    try {
      redis = await startMtlsRedis({ cert: join(certs, 'redis.crt'), key: join(certs, 'redis.key'), ca: join(certs, 'ca.crt') });
      expect(redisPing(redis.port, join(certs, 'ca.crt'), certs).stdout.trim()).toBe('PONG');
    } finally {
      redis?.stop();
    }
  }, 60_000);

  it('generate of an existing bundle with another --ca is refused (one line), --force re-issues it from that CA', () => {
    const before = snapshotTree(dir);
    expect(expectOneLineError(pki(['generate', 'redis', 'main', '--ca', 'default', '--dir', dir]))).toMatch(/issued by another issuing CA/);
    expect(snapshotTree(dir)).toBe(before);
    expect(pki(['generate', 'redis', 'main', '--ca', 'apps', '--dir', dir]).stdout).toContain('is up to date');
    const forced = pki(['generate', 'redis', 'replica', '--ca', 'apps', '--dir', dir]);
    expect(forced.code, forced.stderr).toBe(0);
    const again = pki(['generate', 'redis', 'replica', '--ca', 'default', '--force', '--dir', dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(openssl(['x509', '-in', join(dir, 'services/redis/replica/certs/redis.crt'), '-noout', '-issuer']).stdout).toBe('issuer=CN = pki Intermediate CA\n');
  });

  it('list shows a CA column and list --json each certificate\'s ca and issuer', () => {
    const rows = listJson();
    const bySubject = (s: string) => rows.find((r) => r.subject === s && r.status === 'valid')!;
    expect(bySubject('CN=db.internal')).toMatchObject({ ca: 'systems', issuer: 'CN=pki systems Intermediate CA' });
    expect(bySubject('CN=alice')).toMatchObject({ ca: 'users', issuer: 'CN=pki users Intermediate CA' });
    expect(rows.find((r) => r.certificatePath === join(dir, 'services/redis/main/certs/redis.crt') && r.status === 'valid')).toMatchObject({ ca: 'apps' });
    expect(bySubject('CN=pki users Intermediate CA')).toMatchObject({ ca: 'users', issuer: 'CN=pki Root CA' });
    const text = pki(['list', '--dir', dir]).stdout;
    expect(text.split('\n')[0]).toMatch(/PROFILE\s+CA\s+NOT AFTER/);
    expect(text).toMatch(/CN=db\.internal\s+server\s+systems\s/);
  });

  it('refuses an unknown or malformed --ca, and --ca with --trust-domain', () => {
    const c = csr('x.internal');
    expect(expectOneLineError(pki(['sign', c, '--ca', 'nosuch', '--dir', dir]))).toMatch(/there is no issuing CA nosuch .*pki ca add nosuch.*default, apps, systems, users/);
    expect(expectOneLineError(pki(['sign', c, '--ca', 'NoSuch', '--dir', dir]), 2)).toMatch(/invalid CA name/);
    expect(expectOneLineError(pki(['crl', '--ca', 'systems', '--trust-domain', 'web', '--dir', dir]), 2)).toMatch(/--ca and --trust-domain cannot be combined/);
    expect(expectOneLineError(pki(['crl', '--ca', 'nosuch', '--dir', dir]))).toMatch(/there is no issuing CA nosuch/);
  });
});

describe('revocation, CRLs and renewal per CA', () => {
  it("revoke puts a leaf on its own CA's CRL only; crl --ca re-publishes that one; openssl -crl_check refuses the leaf", () => {
    const leaf = sign('cache.internal', 'systems');
    const serial = openssl(['x509', '-in', leaf, '-noout', '-serial']).stdout.trim().replace('serial=', '');
    const numbers = () => ({ systems: crlNumber(join(dir, 'crl/systems.crl')), users: crlNumber(join(dir, 'crl/users.crl')), main: crlNumber(join(dir, 'crl/intermediate_ca.crl')) });
    const before = numbers();
    const r = pki(['revoke', leaf, '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(dir, 'crl/systems.crl'));
    expect(numbers()).toEqual({ ...before, systems: before.systems + 1 });
    expect(openssl(['crl', '-in', join(dir, 'crl/systems.crl'), '-noout', '-text']).stdout).toContain(`Serial Number: ${serial}`);
    for (const other of ['users.crl', 'intermediate_ca.crl']) expect(openssl(['crl', '-in', join(dir, 'crl', other), '-noout', '-text']).stdout).not.toContain(serial);
    const check = (file: string) => openssl(['verify', '-crl_check_all', '-CAfile', root(), '-untrusted', caFile('systems'), '-CRLfile', join(dir, 'crl/systems.chain.crl.pem'), file]);
    expect(check(leaf).stdout + check(leaf).stderr).toMatch(/certificate revoked/);
    expect(check(join(work, 'db.internal.crt')).stdout).toContain(': OK');
    const c = pki(['crl', '--ca', 'systems', '--dir', dir]);
    expect(c.code, c.stderr).toBe(0);
    expect(numbers()).toEqual({ ...before, systems: before.systems + 2 });
  });

  it("pki verify --crl-check finds each CA's own CRL: the revoked leaf of an added CA refused, a valid one accepted", () => {
    const verify = (file: string) => pki(['verify', file, '--crl-check', '--json', '--dir', dir]);
    const revoked = verify(join(work, 'cache.internal.crt'));
    expect(revoked.code).toBe(1);
    expect(revoked.stdout).toContain('ERR_REVOKED');
    const valid = verify(join(work, 'db.internal.crt'));
    expect(valid.code, valid.stdout + valid.stderr).toBe(0);
  });

  it('renew keeps the issuing CA; --ca filters renew --all and refuses a certificate of another CA', () => {
    const leaf = join(work, 'db.internal.crt');
    const r = pki(['renew', leaf, '--force', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(openssl(['x509', '-in', leaf, '-noout', '-issuer']).stdout).toBe('issuer=CN = pki systems Intermediate CA\n');
    expect(verifyEverywhere(root(), caFile('systems'), leaf)).toEqual(ok);
    expect(expectOneLineError(pki(['renew', leaf, '--force', '--ca', 'users', '--dir', dir]), 2)).toMatch(/was issued by CA systems, not CA users: a certificate is renewed by the CA that issued it/);
    const all = pki(['renew', '--all', '--force', '--ca', 'users', '--json', '--dir', dir]);
    expect(all.code, all.stderr).toBe(0);
    const outcomes = JSON.parse(all.stdout).certificates as Array<{ path: string; status: string; reason?: string }>;
    expect(outcomes.find((o) => o.path === join(work, 'alice.crt'))).toMatchObject({ status: 'renewed' });
    expect(outcomes.find((o) => o.path === leaf)).toMatchObject({ status: 'skipped', reason: 'issued by CA systems, not CA users' });
    expect(outcomes.filter((o) => o.status === 'renewed')).toHaveLength(1);
    const text = pki(['renew', '--all', '--force', '--ca', 'users', '--dir', dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^1 renewed, 0 not due, [1-9]\d* of other CAs left alone, 0 failed\.$/m);
  });

  it('ca renew NAME extends that CA (constraints kept); leaves before and after verify in OpenSSL, GnuTLS and Go', () => {
    const oldEnd = openssl(['x509', '-in', caFile('systems'), '-noout', '-enddate']).stdout;
    const old = join(work, 'before-renew.crt');
    copyFileSync(join(work, 'db.internal.crt'), old);
    const r = pki(['ca', 'renew', 'systems', '--not-after', '3y', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/notAfter \S+ -> \S+/);
    expect(openssl(['x509', '-in', caFile('systems'), '-noout', '-enddate']).stdout).not.toBe(oldEnd);
    expect(openssl(['x509', '-in', caFile('systems'), '-noout', '-ext', 'nameConstraints']).stdout).toMatch(/DNS:internal/);
    expect(verifyEverywhere(root(), caFile('systems'), old)).toEqual(ok);
    expect(verifyEverywhere(root(), caFile('systems'), sign('after.internal', 'systems'))).toEqual(ok);
  });

  it("ca rotate NAME retires that CA's key under ca/NAME/retired/, which keeps signing its own CRL", () => {
    const oldLeaf = join(work, 'alice.crt');
    const oldCa = join(work, 'users-old.crt');
    copyFileSync(caFile('users'), oldCa);
    const r = pki(['ca', 'rotate', 'users', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const keyId = /retired ([0-9A-F]+)/.exec(r.stdout)![1]!;
    expect(readFileSync(join(dir, 'ca/users/retired', keyId, 'intermediate_ca.crt'), 'utf8')).toBe(readFileSync(oldCa, 'utf8'));
    expect(existsSync(join(dir, 'ca/retired'))).toBe(false); // the default intermediate's retired folder is untouched
    const v = pki(['revoke', oldLeaf, '--dir', dir]);
    expect(v.code, v.stderr).toBe(0);
    const retiredCrl = join(dir, 'crl/retired/users', `${keyId}.crl`);
    const crl = openssl(['crl', '-in', retiredCrl, '-CAfile', oldCa, '-noout', '-text']);
    expect(crl.stdout + crl.stderr).toMatch(/verify OK/);
    expect(crl.stdout).toContain(openssl(['x509', '-in', oldLeaf, '-noout', '-serial']).stdout.trim().replace('serial=', 'Serial Number: '));
    expect(readFileSync(join(dir, 'crl/users.chain.crl.pem'), 'utf8').match(/BEGIN X509 CRL/g)).toHaveLength(3);
    expect(verifyEverywhere(root(), caFile('users'), sign('bob', 'users', 'client'))).toEqual(ok);
  });

  it("revoking an added CA puts it on the root's CRL (in every chain file) and it issues nothing more", () => {
    const serial = openssl(['x509', '-in', caFile('apps'), '-noout', '-serial']).stdout.trim().replace('serial=', '');
    const r = pki(['revoke', serial, '--reason', 'cessationOfOperation', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const rootCrl = readFileSync(join(dir, 'crl/root_ca.crl'), 'utf8');
    expect(openssl(['crl', '-in', join(dir, 'crl/root_ca.crl'), '-noout', '-text']).stdout).toContain(`Serial Number: ${serial}`);
    for (const chain of ['chain.crl.pem', 'systems.chain.crl.pem', 'users.chain.crl.pem', 'apps.chain.crl.pem']) {
      expect(readFileSync(join(dir, 'crl', chain), 'utf8').startsWith(rootCrl), chain).toBe(true);
    }
    const before = snapshotTree(dir);
    expect(expectOneLineError(pki(['sign', csr('late.internal'), '--ca', 'apps', '--out', join(work, 'late.crt'), '--dir', dir]))).toMatch(/revoked/);
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('cron and monitoring cover every CA', () => {
  it('crl --if-due and renew --all re-publish each due CA CRL (not the revoked CA); pki check lists each CRL', () => {
    const sixDays = new Date(Date.now() + 6 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const before = { systems: crlNumber(join(dir, 'crl/systems.crl')), users: crlNumber(join(dir, 'crl/users.crl')), apps: crlNumber(join(dir, 'crl/apps.crl')) };
    const r = pki(['crl', '--if-due', '--json', '--dir', dir], { env: { PKI_TEST_NOW: sixDays } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { status: string; others: Array<{ ca: string | null; status: string }> };
    expect(out.status).toBe('published');
    expect(out.others.map((o) => [o.ca, o.status])).toEqual([['systems', 'published'], ['users', 'published']]);
    expect(crlNumber(join(dir, 'crl/systems.crl'))).toBe(before.systems + 1);
    expect(crlNumber(join(dir, 'crl/users.crl'))).toBe(before.users + 1);
    expect(crlNumber(join(dir, 'crl/apps.crl'))).toBe(before.apps); // revoked: it signs nothing more
    const later = new Date(Date.now() + 12 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const renew = pki(['renew', '--all', '--json', '--dir', dir], { env: { PKI_TEST_NOW: later } });
    expect(renew.code, renew.stderr).toBe(0);
    expect((JSON.parse(renew.stdout).otherCrls as Array<{ ca: string; status: string }>).map((o) => [o.ca, o.status])).toEqual([['systems', 'published'], ['users', 'published']]);
    expect(crlNumber(join(dir, 'crl/systems.crl'))).toBe(before.systems + 2);
    const check = JSON.parse(pki(['check', '--json', '--dir', dir]).stdout) as { items: Array<{ type: string; path: string; issuer: string; subject: string; profile: string | null; notes: string[] }> };
    // The rotated-out users key still signs its CRL: pki check watches its certificate beside the new one.
    const retired = check.items.find((i) => i.type === 'x509' && i.path.startsWith(join(dir, 'ca/users/retired/')));
    expect(retired).toMatchObject({ subject: 'CN=pki users Intermediate CA', profile: 'intermediate' });
    expect(retired!.notes.join(' ')).toMatch(/retired intermediate \(pki ca rotate\): signs \S+crl\/retired\/users\/[0-9A-F]+\.crl/);
    const crls = check.items.filter((i) => i.type === 'crl');
    for (const name of ['systems', 'users', 'apps']) expect(crls.find((c) => c.path === join(dir, 'crl', `${name}.crl`))?.issuer).toBe(`CN=pki ${name} Intermediate CA`);
    expect(crls.some((c) => c.path.startsWith(join(dir, 'crl/retired/users/')))).toBe(true);
  });
});

describe('pki ca rotate-root with added CAs', () => {
  it('re-certifies each added CA under the new root (key, subject, end kept); --finish waits for their leaves', () => {
    const home = initCa();
    const add = pki(['ca', 'add', 'systems', '--not-after', '2y', '--no-password', '--insecure', '--dir', home]);
    expect(add.code, add.stderr).toBe(0);
    const systems = join(home, 'ca/systems/intermediate_ca.crt');
    const oldRoot = join(work, 'rotation-old-root.pem');
    copyFileSync(join(home, 'ca/root_ca.crt'), oldRoot);
    const before = readFileSync(systems, 'utf8');
    const leaf = join(work, 'rotation-leaf.crt');
    const s = pki(['sign', csr('rotation.internal'), '--ca', 'systems', '--out', leaf, '--dir', home]);
    expect(s.code, s.stderr).toBe(0);
    const r = pki(['ca', 'rotate-root', '--dir', home]);
    expect(r.code, r.stderr).toBe(0);
    const field = (file: string, what: string[]) => openssl(['x509', '-in', file, '-noout', ...what]).stdout;
    expect(readFileSync(systems, 'utf8')).not.toBe(before);
    const oldSystems = join(work, 'rotation-old-systems.pem');
    writeFileSync(oldSystems, before);
    for (const what of [['-subject'], ['-pubkey'], ['-enddate'], ['-ext', 'subjectKeyIdentifier']]) expect(field(systems, what), what.join(' ')).toBe(field(oldSystems, what));
    expect(field(systems, ['-serial'])).not.toBe(field(oldSystems, ['-serial']));
    const newRoot = join(work, 'rotation-new-root.pem');
    writeFileSync(newRoot, readFileSync(join(home, 'ca/root_ca.crt'), 'utf8'));
    expect(openssl(['verify', '-CAfile', newRoot, systems]).stdout).toContain(': OK');
    // The leaf's file still carries the systems certificate of the old root: --finish refuses, renew fixes it.
    const finish = pki(['ca', 'rotate-root', '--finish', '--dir', home]);
    expect(expectOneLineError(finish)).toMatch(/still chain only to the old root \(e\.g\. /);
    const renew = pki(['renew', '--all', '--force', '--dir', home]);
    expect(renew.code, renew.stderr).toBe(0);
    const chain = join(work, 'rotation-chain.pem');
    writeFileSync(chain, readFileSync(leaf, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/).slice(1).join(''));
    // Old-root clients reach it through the cross certificate in the chain (OpenSSL; GnuTLS and Go: see ca-rotate-root.test.ts).
    for (const anchor of [oldRoot, newRoot]) expect(openssl(['verify', '-x509_strict', '-CAfile', anchor, '-untrusted', chain, leaf]).stdout).toContain(': OK');
    const done = pki(['ca', 'rotate-root', '--finish', '--dir', home]);
    expect(done.code, done.stderr).toBe(0);
  });
});

describe("an added CA's CRL and caIssuers URLs", () => {
  it("stamps its own: pki.json's rewritten to the CA's files, unknown ones left out, --crl-url / --ca-issuers-url as given", () => {
    const home = initCa();
    editPkiJson(home, (config) => {
      config.crl = { ...(config.crl ?? {}), distributionPoints: ['http://pki.test/crl/intermediate_ca.crl', 'http://other.test/some.crl'] };
      config.aia = { caIssuers: ['http://pki.test/intermediate.crt'] };
    });
    const add = (args: string[]) => expect(pki(['ca', 'add', ...args, '--no-password', '--insecure', '--dir', home]).code).toBe(0);
    add(['derived']);
    add(['explicit', '--crl-url', 'http://crl.test/explicit.crl', '--ca-issuers-url', 'http://crl.test/explicit.crt']);
    const urls = (ca: string) => {
      const out = join(work, `urls-${ca}.crt`);
      const r = pki(['sign', csr(`urls-${ca}.internal`), '--ca', ca, '--out', out, '--dir', home]);
      expect(r.code, r.stderr).toBe(0);
      const text = openssl(['x509', '-in', out, '-noout', '-ext', 'crlDistributionPoints,authorityInfoAccess']).stdout;
      return { crl: [...text.matchAll(/URI:(\S+\.crl)/g)].map((m) => m[1]), caIssuers: [...text.matchAll(/CA Issuers - URI:(\S+)/g)].map((m) => m[1]) };
    };
    expect(urls('default')).toEqual({ crl: ['http://pki.test/crl/intermediate_ca.crl', 'http://other.test/some.crl'], caIssuers: ['http://pki.test/intermediate.crt'] });
    expect(urls('derived')).toEqual({ crl: ['http://pki.test/crl/derived.crl'], caIssuers: ['http://pki.test/ca/derived/intermediate.crt'] });
    expect(urls('explicit')).toEqual({ crl: ['http://crl.test/explicit.crl'], caIssuers: ['http://crl.test/explicit.crt'] });
    expect(expectOneLineError(pki(['ca', 'add', 'bad', '--crl-url', 'ftp://x', '--no-password', '--insecure', '--dir', home]), 2)).toMatch(/--crl-url "ftp:\/\/x" is not an http\(s\) URL/);
  });
});
