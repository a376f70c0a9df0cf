/**
 * Issue 14, point 5 / "Done means" 4 (root rotation): `pki ca rotate-root` makes a new root under the same
 * name with both cross certificates (RFC 4210 §4.4), re-certifies the intermediate's key under it, and
 * from then until `--finish` bundles carry both roots in ca.crt and leaf + intermediate + newWithOld as
 * their chain. OpenSSL, GnuTLS and Go judge leaves issued before the rotation, during the transition and
 * after --finish against old-only, new-only and both-roots trust stores (the table below). A redis-server
 * and an nginx that trust only the old root keep accepting clients of the transition bundles, and a client
 * that trusts only the old root accepts nginx's transition certificate. `--finish` refuses while a valid
 * certificate still carries the old chain; `pki ca rollback` undoes a rotation, root key included.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { nginxGet, redisPing, startMtlsNginx, startMtlsRedis } from '../helpers/mtls-servers.js';
import type { Server } from '../helpers/process.js';
import { runPeer } from '../helpers/peers.js';
import { buildVerifiers, verifyEverywhere } from '../helpers/verifiers.js';

const BLOCK = /(?<=-----END CERTIFICATE-----\n)/;

let dir = '';
let work = '';
const certs = (service: string) => join(dir, 'services', service, 'main', 'certs');
const ok = (args: string[]) => {
  const r = pki([...args, '--dir', dir]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const keep = (file: string, name: string) => {
  const out = join(work, name);
  copyFileSync(file, out);
  return out;
};
/** The certificates after the leaf in a chain file: what a TLS peer sends besides the leaf. */
const tailOf = (chainFile: string) => {
  const out = `${chainFile}.tail.pem`;
  writeFileSync(out, readFileSync(chainFile, 'utf8').split(BLOCK).slice(1).join(''));
  return out;
};
const count = (file: string) => readFileSync(file, 'utf8').split(BLOCK).filter((b) => b.includes('BEGIN')).length;

type Verdicts = Record<'openssl' | 'gnutls' | 'go', 'ok' | 'refused'>;
const judged = (roots: string, chainFile: string): Verdicts => {
  const r = verifyEverywhere(roots, tailOf(chainFile), chainFile);
  return { openssl: r.openssl === 'ok' ? 'ok' : 'refused', gnutls: r.gnutls === 'ok' ? 'ok' : 'refused', go: r.go === 'ok' ? 'ok' : 'refused' };
};
const OK: Verdicts = { openssl: 'ok', gnutls: 'ok', go: 'ok' };
const REFUSED: Verdicts = { openssl: 'refused', gnutls: 'refused', go: 'refused' };
const OPENSSL_ONLY: Verdicts = { openssl: 'ok', gnutls: 'refused', go: 'refused' };

let oldRoot = '';
let newRoot = '';
let bothRoots = '';
let before = '';
let during = '';
const servers: Server[] = [];
let redisPort = 0;
let nginxPort = 0;
let rotated: { snapshot: string; newWithOld: string };

beforeAll(async () => {
  buildVerifiers();
  dir = initCa();
  work = tempDir('pki-rotate-root-');
  ok(['generate', 'redis', 'main', '--client', 'app']);
  oldRoot = keep(join(dir, 'ca/root_ca.crt'), 'old-root.crt');
  before = keep(join(certs('redis'), 'redis.crt'), 'before.crt');
  rotated = JSON.parse(ok(['ca', 'rotate-root', '--json'])) as typeof rotated;
  newRoot = keep(join(dir, 'ca/root_ca.crt'), 'new-root.crt');
  ok(['generate', 'edge', 'main', '--client', 'new-client']);
  bothRoots = keep(join(certs('edge'), 'ca.crt'), 'both-roots.crt');
  during = keep(join(certs('edge'), 'edge.crt'), 'during.crt');
  // Servers that know only the old root: redis with its pre-rotation bundle, nginx with the transition certificate.
  const redis = await startMtlsRedis({ cert: join(certs('redis'), 'redis.crt'), key: join(certs('redis'), 'redis.key'), ca: oldRoot });
  const nginx = await startMtlsNginx({ cert: join(certs('edge'), 'edge.crt'), key: join(certs('edge'), 'edge.key'), ca: oldRoot });
  servers.push(redis, nginx);
  redisPort = redis.port;
  nginxPort = nginx.port;
}, 240_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('pki ca rotate-root: the transition', () => {
  it('keeps the old root and both cross certificates; a new bundle has both roots in ca.crt and leaf + intermediate + newWithOld as its chain', () => {
    for (const f of ['old_root_ca.crt', 'old_root_ca.key', 'new_with_old.crt', 'old_with_new.crt']) expect(existsSync(join(dir, 'ca/cross', f)), f).toBe(true);
    expect(readFileSync(join(dir, 'ca/cross/old_root_ca.crt'), 'utf8')).toBe(readFileSync(oldRoot, 'utf8'));
    expect(readFileSync(bothRoots, 'utf8')).toBe(readFileSync(newRoot, 'utf8') + readFileSync(oldRoot, 'utf8'));
    expect(count(during)).toBe(3);
    expect(readFileSync(during, 'utf8').split(BLOCK)[2]).toBe(readFileSync(rotated.newWithOld, 'utf8'));
    // the cross certificate: the new root's key, the same name, signed by the old root
    const pub = (file: string) => runPeer('openssl', ['x509', '-in', file, '-noout', '-pubkey']).stdout;
    expect(pub(rotated.newWithOld)).toBe(pub(newRoot));
    expect(runPeer('openssl', ['verify', '-CAfile', oldRoot, rotated.newWithOld]).stdout).toContain(': OK');
  });

  it('OpenSSL, GnuTLS and Go: the expected verdict for each leaf against old-only, new-only and both-roots trust stores', () => {
    const table = {
      'before the rotation / old root only': judged(oldRoot, before),
      'before the rotation / new root only': judged(newRoot, before),
      'before the rotation / both roots': judged(bothRoots, before),
      'transition bundle / old root only': judged(oldRoot, during),
      'transition bundle / new root only': judged(newRoot, during),
      'transition bundle / both roots': judged(bothRoots, during),
    };
    expect(table).toEqual({
      'before the rotation / old root only': OK,
      'before the rotation / new root only': REFUSED, // its chain file has the intermediate certified by the old root
      'before the rotation / both roots': OK,
      // Through newWithOld. OpenSSL follows RFC 5280 §6.1.4 (l): the self-issued cross certificate does not count
      // against the old root's pathLenConstraint (1, as pki init makes roots). GnuTLS and Go count it and refuse:
      // clients built on them need the transition ca.crt (both roots) before servers switch (docs/operations.md).
      'transition bundle / old root only': OPENSSL_ONLY,
      'transition bundle / new root only': OK,
      'transition bundle / both roots': OK,
    });
  });

  it('redis-server and nginx that trust only the old root accept the transition bundle’s clients; curl with the old root accepts nginx', () => {
    const pong = redisPing(redisPort, oldRoot, certs('edge'), 'new-client');
    expect(pong.stdout.trim(), pong.stderr).toBe('PONG');
    const get = nginxGet(nginxPort, oldRoot, certs('edge'), 'new-client');
    expect(get.stdout, get.stderr).toBe('hello CN=new-client\n\n200');
    const newOnly = nginxGet(nginxPort, newRoot, certs('edge'), 'new-client');
    expect(newOnly.stdout, newOnly.stderr).toBe('hello CN=new-client\n\n200');
  });

  it("chain.crl.pem carries the old root's CRL too: OpenSSL and an nginx with ssl_crl that trust only the old root accept the transition client", async () => {
    const chainCrl = join(dir, 'crl/chain.crl.pem');
    const blocks = readFileSync(chainCrl, 'utf8').split(/(?<=-----END X509 CRL-----\n)/).filter((b) => b.includes('BEGIN'));
    expect(blocks).toHaveLength(3); // new root, old root, intermediate
    const crlBy = (anchor: string) => blocks.filter((b) => runPeer('openssl', ['crl', '-noout', '-CAfile', anchor], { input: b }).stderr.includes('verify OK'));
    expect(crlBy(oldRoot)).toHaveLength(1);
    const untrusted = join(work, 'transition-untrusted.pem');
    writeFileSync(untrusted, readFileSync(during, 'utf8').split(BLOCK).slice(1).join(''));
    const check = (anchor: string, crls: string) => runPeer('openssl', ['verify', '-crl_check_all', '-CAfile', anchor, '-untrusted', untrusted, '-CRLfile', crls, during]);
    for (const anchor of [oldRoot, newRoot]) expect(check(anchor, chainCrl).stdout).toContain(': OK');
    // Without the old root's CRL (the chain file as it was before) an old-root client cannot check the cross certificate.
    const withoutOld = join(work, 'chain-without-old-root.crl.pem');
    writeFileSync(withoutOld, blocks.filter((b) => !crlBy(oldRoot).includes(b)).join(''));
    expect(check(oldRoot, withoutOld).stdout + check(oldRoot, withoutOld).stderr).toMatch(/unable to get certificate CRL/);
    const nginx = await startMtlsNginx({ cert: join(certs('edge'), 'edge.crt'), key: join(certs('edge'), 'edge.key'), ca: oldRoot, crl: chainCrl }, 'pki-rotate-crl-nginx-');
    servers.push(nginx);
    const get = nginxGet(nginx.port, oldRoot, certs('edge'), 'new-client');
    expect(get.stdout, get.stderr).toBe('hello CN=new-client\n\n200');
  });

  it('pki trust plans both roots during the transition (two anchors, two labels); status is installed only when both are', () => {
    const fp = (file: string) => runPeer('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1]!.replaceAll(':', '');
    type Doc = { root: { sha256: string; label: string }; stores: Array<{ store: string; commands: string[] }>; installed?: boolean; oldRoot?: Doc };
    const install = pki(['trust', 'install', '--platform', 'debian', '--dry-run', '--json', '--dir', dir]);
    expect(install.code, install.stderr).toBe(0);
    const doc = JSON.parse(install.stdout) as Doc;
    expect(doc.root.sha256.replaceAll(':', '').toUpperCase()).toBe(fp(newRoot));
    expect(doc.oldRoot!.root.sha256.replaceAll(':', '').toUpperCase()).toBe(fp(oldRoot));
    expect(doc.root.label).not.toBe(doc.oldRoot!.root.label);
    const anchor = (d: Doc) => d.stores.find((st) => st.store === 'system')!.commands.join('\n');
    expect(anchor(doc)).toContain(`/usr/local/share/ca-certificates/${doc.root.label}.crt`);
    expect(anchor(doc.oldRoot!)).toContain(`/usr/local/share/ca-certificates/${doc.oldRoot!.root.label}.crt`);
    const status = pki(['trust', 'status', '--platform', 'debian', '--json', '--dir', dir]);
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as Doc).oldRoot).toBeDefined();
    // --root names one root: that one alone.
    expect((JSON.parse(pki(['trust', 'install', '--root', oldRoot, '--platform', 'debian', '--dry-run', '--json', '--dir', dir]).stdout) as Doc).oldRoot).toBeUndefined();
  });

  it('a second rotate-root during the transition is refused in one line', () => {
    const again = pki(['ca', 'rotate-root', '--dir', dir]);
    expectOneLineError(again, 2);
    expect(again.stderr).toContain('already in progress');
  });
});

describe('pki ca rotate-root --finish', () => {
  it('refuses while a valid certificate still carries the old chain, changing nothing; succeeds once the bundles are renewed', () => {
    const tree = snapshotTree(dir);
    const early = pki(['ca', 'rotate-root', '--finish', '--dir', dir]);
    expectOneLineError(early, 1);
    expect(early.stderr).toContain('still chain only to the old root');
    expect(early.stderr).toContain(`(e.g. ${certs('redis')}/`); // redis.crt or app.crt, whichever the inventory lists first
    expect(snapshotTree(dir)).toBe(tree);
    ok(['renew', '--all', '--force']);
    expect(count(join(certs('redis'), 'ca.crt'))).toBe(2); // the transition ca.crt
    expect(judged(oldRoot, join(certs('redis'), 'redis.crt'))).toEqual(OPENSSL_ONLY);
    expect(judged(bothRoots, join(certs('redis'), 'redis.crt'))).toEqual(OK);
    expect(judged(newRoot, join(certs('redis'), 'redis.crt'))).toEqual(OK);
    ok(['ca', 'rotate-root', '--finish']);
    expect(existsSync(join(dir, 'ca/cross'))).toBe(false);
    expect((JSON.parse(ok(['trust', 'install', '--platform', 'debian', '--dry-run', '--json'])) as { oldRoot?: unknown }).oldRoot).toBeUndefined();
  });

  it('after --finish bundles have the new root alone and a chain without the cross certificate: old-only stores refuse, new-only accept', () => {
    ok(['generate', 'web', 'main']);
    const after = join(certs('web'), 'web.crt');
    expect(readFileSync(join(certs('web'), 'ca.crt'), 'utf8')).toBe(readFileSync(newRoot, 'utf8'));
    expect(count(after)).toBe(2);
    expect({ old: judged(oldRoot, after), new: judged(newRoot, after), both: judged(bothRoots, after) }).toEqual({ old: REFUSED, new: OK, both: OK });
  });
});

describe('the next rotation', () => {
  it('a root made by rotate-root (pathLen 2) is reached through the next cross certificate by OpenSSL, GnuTLS and Go alike', () => {
    const home = join(tempDir(), 'ca');
    const run = (args: string[]) => expect(pki([...args, '--dir', home]).code).toBe(0);
    run(['init', '--no-password', '--insecure']);
    run(['ca', 'rotate-root']);
    run(['ca', 'rotate-root', '--finish']);
    const second = join(work, 'second-root.crt');
    copyFileSync(join(home, 'ca/root_ca.crt'), second);
    run(['ca', 'rotate-root']);
    run(['generate', 'edge', 'main']);
    expect(judged(second, join(home, 'services/edge/main/certs/edge.crt'))).toEqual(OK);
  });
});

describe('pki ca rollback of a root rotation', () => {
  it('puts the old root, its key and the old intermediate certificate back', () => {
    const home = join(tempDir(), 'ca');
    const run = (args: string[]) => {
      const r = pki([...args, '--dir', home]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    run(['init', '--no-password', '--insecure']);
    const rootPem = readFileSync(join(home, 'ca/root_ca.crt'), 'utf8');
    const rootKey = readFileSync(join(home, 'ca/root_ca.key'), 'utf8');
    const intermediate = readFileSync(join(home, 'ca/intermediate_ca.crt'), 'utf8');
    run(['ca', 'rotate-root']);
    expect(readFileSync(join(home, 'ca/root_ca.key'), 'utf8')).not.toBe(rootKey);
    run(['ca', 'rollback', '--force']);
    expect(readFileSync(join(home, 'ca/root_ca.crt'), 'utf8')).toBe(rootPem);
    expect(readFileSync(join(home, 'ca/root_ca.key'), 'utf8')).toBe(rootKey);
    expect(readFileSync(join(home, 'ca/intermediate_ca.crt'), 'utf8')).toBe(intermediate);
    expect(existsSync(join(home, 'ca/cross'))).toBe(false);
    run(['generate', 'redis', 'main']);
    expect(runPeer('openssl', ['verify', '-CAfile', join(home, 'ca/root_ca.crt'), '-untrusted', join(home, 'services/redis/main/certs/redis.crt'), join(home, 'services/redis/main/certs/redis.crt')]).stdout).toContain(': OK');
  });
});
