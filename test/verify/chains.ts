/**
 * Every certificate and CRL of the agreement table (test/verify/peer-agreement.test.ts), built once per run
 * with the openssl CLI by ChainFactory. Names: `<type>.root/.inter/.leaf2/.leaf3` for the per-key-type
 * chains, `root`/`inter` (= the P-256 ones) under every other case, `leaf.<case>` and `inter.<case>` for
 * the crafted certificates, `crl.<case>` for CRL paths.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainFactory, EXT, type KeyAlgorithm } from './chain-factory.js';

/** Key types with a full chain of their own; rsa-pss uses the RSA keys with PSS signatures. */
export const KEY_TYPES = ['rsa', 'rsa-pss', 'p256', 'p384', 'p521', 'ed25519'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

const ALGORITHM: Record<KeyType, KeyAlgorithm> = { rsa: 'rsa', 'rsa-pss': 'rsa', p256: 'p256', p384: 'p384', p521: 'p521', ed25519: 'ed25519' };
const DIGEST: Partial<Record<KeyType, string>> = { p384: 'sha384', p521: 'sha512' };

/** A server leaf for www.example.com: the default every case departs from. */
export const SERVER_LEAF = [...EXT.leaf, 'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:www.example.com'];

const leafExt = (...lines: string[]) => [...EXT.leaf, ...lines];

export interface Chains {
  readonly factory: ChainFactory;
  readonly crl: { readonly fresh: string; readonly stale: string; readonly wrongKey: string; readonly chain: string };
}

export function buildChains(dir: string, now: Date): Chains {
  const f = new ChainFactory(dir, now);
  perKeyType(f);
  // The P-256 chain is the base of every other case.
  const root = 'p256.root';
  const inter = 'p256.inter';
  const leaf = (name: string, subject: string, ext: readonly string[], issuer = inter, o: { from?: number; to?: number; md?: string; key?: string } = {}) =>
    f.issue(name, { subject, key: o.key ?? 'p256-leaf', issuer, ext, from: o.from ?? -30, to: o.to ?? 60, md: o.md });
  const ca = (name: string, subject: string, ext: readonly string[], issuer = root, o: { from?: number; to?: number } = {}) => {
    f.key(name, 'p256');
    return f.issue(name, { subject, key: name, issuer, ext, from: o.from ?? -365, to: o.to ?? 1825 });
  };

  // Validity.
  leaf('leaf.expired', '/CN=www.example.com', SERVER_LEAF, inter, { from: -60, to: -1 });
  leaf('leaf.future', '/CN=www.example.com', SERVER_LEAF, inter, { from: 1, to: 90 });
  ca('inter.expired', '/CN=Expired Intermediate', EXT.ca, root, { from: -365, to: -1 });
  leaf('leaf.under-expired', '/CN=www.example.com', SERVER_LEAF, 'inter.expired');
  ca('inter.future', '/CN=Future Intermediate', EXT.ca, root, { from: 1, to: 900 });
  leaf('leaf.under-future', '/CN=www.example.com', SERVER_LEAF, 'inter.future');

  // Path building: a root with the real root's name but another key; a cross-signed intermediate; a loop.
  f.key('impostor-root', 'p256');
  f.issue('root.impostor', { subject: '/CN=P-256 Root', key: 'impostor-root', issuer: 'self', ext: EXT.root, from: -365, to: 3650 });
  ca('cross.r1', '/CN=Cross Root 1', EXT.root, 'self');
  f.key('cross-inter', 'p256');
  f.issue('cross.by-r1', { subject: '/CN=Cross Intermediate', key: 'cross-inter', issuer: 'cross.r1', ext: EXT.ca, from: -365, to: 1825 });
  f.issue('cross.by-root', { subject: '/CN=Cross Intermediate', key: 'cross-inter', issuer: root, ext: EXT.ca, from: -365, to: 1825 });
  leaf('leaf.cross', '/CN=www.example.com', SERVER_LEAF, 'cross.by-root');
  // Loop: A is issued by B and B by A (B's first, self-signed certificate only seeds A's signature).
  ca('loop.b-seed', '/CN=Loop B', EXT.root, 'self');
  f.key('loop-a', 'p256');
  f.issue('loop.a', { subject: '/CN=Loop A', key: 'loop-a', issuer: 'loop.b-seed', ext: EXT.ca, from: -365, to: 1825 });
  f.issue('loop.b', { subject: '/CN=Loop B', key: 'loop.b-seed', issuer: 'loop.a', ext: EXT.ca, from: -365, to: 1825 });
  leaf('leaf.loop', '/CN=www.example.com', SERVER_LEAF, 'loop.a');

  // Host names and IP addresses.
  leaf('leaf.api', '/CN=db.example.com', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = DNS:api.example.com'));
  leaf('leaf.wildcard', '/CN=wildcard', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = DNS:*.example.com'));
  leaf('leaf.star-com', '/CN=star com', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = DNS:*.com'));
  leaf('leaf.ip', '/CN=ip leaf', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = IP:192.0.2.10, IP:2001:db8::1'));
  leaf('leaf.cn-only', '/CN=www.example.com', leafExt('extendedKeyUsage = serverAuth'));

  // Purpose.
  leaf('leaf.client', '/CN=client', leafExt('extendedKeyUsage = clientAuth', 'subjectAltName = DNS:www.example.com'));
  ca('inter.client-only', '/CN=Client-only Intermediate', [...EXT.ca, 'extendedKeyUsage = clientAuth']);
  leaf('leaf.under-client-only', '/CN=www.example.com', SERVER_LEAF, 'inter.client-only');

  // CA constraints.
  ca('inter.pathlen0', '/CN=PathLen0 Intermediate', ['basicConstraints = critical,CA:TRUE,pathlen:0', ...EXT.ca.slice(1)]);
  ca('inter.below-pathlen0', '/CN=Below PathLen0 Intermediate', EXT.ca, 'inter.pathlen0');
  leaf('leaf.pathlen', '/CN=www.example.com', SERVER_LEAF, 'inter.below-pathlen0');
  ca('inter.not-ca', '/CN=Not-a-CA Issuer', EXT.leaf);
  leaf('leaf.under-not-ca', '/CN=www.example.com', SERVER_LEAF, 'inter.not-ca');
  ca('inter.no-certsign', '/CN=No-keyCertSign Intermediate', [EXT.ca[0]!, 'keyUsage = critical,digitalSignature,cRLSign', ...EXT.ca.slice(2)]);
  leaf('leaf.under-no-certsign', '/CN=www.example.com', SERVER_LEAF, 'inter.no-certsign');

  // Name constraints.
  ca('inter.nc-dns', '/CN=DNS-constrained Intermediate', [...EXT.ca, 'nameConstraints = critical,permitted;DNS:example.com,excluded;DNS:bad.example.com']);
  leaf('leaf.nc-dns-ok', '/CN=www.example.com', SERVER_LEAF, 'inter.nc-dns');
  leaf('leaf.nc-dns-outside', '/CN=www.example.org', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = DNS:www.example.org'), 'inter.nc-dns');
  leaf('leaf.nc-dns-excluded', '/CN=x.bad.example.com', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = DNS:x.bad.example.com'), 'inter.nc-dns');
  ca('inter.nc-ip', '/CN=IP-constrained Intermediate', [...EXT.ca, 'nameConstraints = critical,permitted;IP:192.0.2.0/255.255.255.0,excluded;IP:192.0.2.128/255.255.255.128']);
  const ipLeaf = (name: string, ip: string) => leaf(name, '/CN=ip leaf', leafExt('extendedKeyUsage = serverAuth', `subjectAltName = IP:${ip}`), 'inter.nc-ip');
  ipLeaf('leaf.nc-ip-ok', '192.0.2.10');
  ipLeaf('leaf.nc-ip-outside', '198.51.100.1');
  ipLeaf('leaf.nc-ip-excluded', '192.0.2.200');

  // Extensions and algorithms.
  leaf('leaf.critical-ext', '/CN=www.example.com', [...SERVER_LEAF, '1.3.6.1.4.1.55555.7 = critical,ASN1:NULL']);
  leaf('leaf.sha1', '/CN=www.example.com', SERVER_LEAF, inter, { md: 'sha1' });
  f.key('rsa1024-leaf', 'rsa1024');
  leaf('leaf.rsa1024', '/CN=www.example.com', SERVER_LEAF, 'rsa.inter', { key: 'rsa1024-leaf' });

  // Revocation: the intermediate revokes one leaf; an impostor with its name and key identifier signs a CRL.
  leaf('leaf.good', '/CN=www.example.com', SERVER_LEAF);
  leaf('leaf.revoked', '/CN=revoked.example.com', leafExt('extendedKeyUsage = serverAuth', 'subjectAltName = DNS:www.example.com'));
  f.revoke(inter, 'leaf.revoked');
  f.key('impostor-inter', 'p256');
  f.issue('inter.impostor', { subject: '/CN=P-256 Intermediate', key: 'impostor-inter', issuer: 'self', ext: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', `subjectKeyIdentifier = ${f.subjectKeyId(inter)}`], from: -365, to: 1825 });
  // The root revokes an intermediate: crl.chain holds the root's CRL and that intermediate's (as pki crl/chain.crl.pem).
  ca('inter.revoked', '/CN=Revoked Intermediate', EXT.ca);
  leaf('leaf.under-revoked-inter', '/CN=www.example.com', SERVER_LEAF, 'inter.revoked');
  f.revoke(root, 'inter.revoked', 'CACompromise');
  const chainCrl = join(dir, 'crl.chain.pem');
  writeFileSync(chainCrl, [f.crl('crl.root', { issuer: root, from: -1, to: 7 }), f.crl('crl.revoked-inter', { issuer: 'inter.revoked', from: -1, to: 7 })].map((p) => readFileSync(p, 'utf8')).join(''));
  // Issuer name and key identifier of the real intermediate, signature by another key.
  leaf('leaf.bad-signature', '/CN=www.example.com', SERVER_LEAF, 'inter.impostor');
  return {
    factory: f,
    crl: {
      fresh: f.crl('crl.fresh', { issuer: inter, from: -1, to: 7 }),
      stale: f.crl('crl.stale', { issuer: inter, from: -20, to: -1 }),
      wrongKey: f.crl('crl.wrong-key', { issuer: inter, from: -1, to: 7, signer: 'inter.impostor' }),
      chain: chainCrl,
    },
  };
}

/** Root, intermediate, a leaf under the root (2-tier) and one under the intermediate (3-tier), per key type. */
function perKeyType(f: ChainFactory): void {
  const label: Record<KeyType, string> = { rsa: 'RSA', 'rsa-pss': 'RSA-PSS', p256: 'P-256', p384: 'P-384', p521: 'P-521', ed25519: 'Ed25519' };
  for (const type of KEY_TYPES) {
    const alg = ALGORITHM[type];
    for (const role of ['root', 'inter', 'leaf']) f.key(`${alg}-${role}`, alg);
    const sign = { md: DIGEST[type], pss: type === 'rsa-pss' };
    f.issue(`${type}.root`, { subject: `/CN=${label[type]} Root`, key: `${alg}-root`, issuer: 'self', ext: EXT.root, from: -365, to: 3650, ...sign });
    f.issue(`${type}.inter`, { subject: `/CN=${label[type]} Intermediate`, key: `${alg}-inter`, issuer: `${type}.root`, ext: EXT.ca, from: -365, to: 1825, ...sign });
    f.issue(`${type}.leaf2`, { subject: '/CN=www.example.com', key: `${alg}-leaf`, issuer: `${type}.root`, ext: SERVER_LEAF, from: -30, to: 60, ...sign });
    f.issue(`${type}.leaf3`, { subject: '/CN=www.example.com', key: `${alg}-leaf`, issuer: `${type}.inter`, ext: SERVER_LEAF, from: -30, to: 60, ...sign });
  }
}
