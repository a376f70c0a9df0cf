/**
 * Issue 9, point 15 and Done-means 2: servers that check revocation at every level of the chain (openssl
 * verify -crl_check_all, nginx ssl_crl, PostgreSQL ssl_crl_file) accept a valid client certificate and
 * refuse a revoked one with the one file pki writes for them, crl/chain.crl.pem (root CRL + intermediate
 * CRL). With the intermediate's CRL alone (all pki published before) they refused every client.
 */
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, initCa, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer, requirePeer, runPeer } from '../helpers/peers.js';
import type { Server } from '../helpers/process.js';
import { startNginx } from '../helpers/nginx.js';
import { startTlsPostgres } from '../helpers/postgres.js';

interface Ca {
  readonly dir: string;
  readonly certs: string;
  readonly root: string;
  readonly intermediate: string;
  readonly chainCrl: string;
}

/** A CA with a bundle for `svc` (server cert with IP:127.0.0.1) and clients "good" and "bad"; "bad" revoked. */
function caWithRevokedClient(): Ca {
  const dir = initCa();
  const g = pki(['generate', 'svc', 'main', '--client', 'good', '--client', 'bad', '--dir', dir]);
  expect(g.code, g.stderr).toBe(0);
  const certs = join(dir, 'services/svc/main/certs');
  const r = pki(['revoke', join(certs, 'bad.crt'), '--reason', 'keyCompromise', '--dir', dir]);
  expect(r.code, r.stderr).toBe(0);
  return { dir, certs, root: join(dir, 'ca/root_ca.crt'), intermediate: join(dir, 'ca/intermediate_ca.crt'), chainCrl: join(dir, 'crl/chain.crl.pem') };
}

function verifyAll(ca: Ca, crlFile: string, cert: string) {
  return runPeer('openssl', ['verify', '-crl_check_all', '-CAfile', ca.root, '-untrusted', ca.intermediate, '-CRLfile', crlFile, cert]);
}

describe('openssl verify -crl_check_all with crl/chain.crl.pem', () => {
  let ca: Ca;
  beforeAll(() => {
    ca = caWithRevokedClient();
  });

  it('accepts the valid client and rejects the revoked one; the intermediate CRL alone is not enough', () => {
    const good = verifyAll(ca, ca.chainCrl, join(ca.certs, 'good.crt'));
    expect(good.status, good.stdout + good.stderr).toBe(0);
    const bad = verifyAll(ca, ca.chainCrl, join(ca.certs, 'bad.crt'));
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/error 23 at 0 depth lookup: certificate revoked/);
    // What pki published before: no CRL from the root, so every client fails at depth 1.
    const old = verifyAll(ca, join(ca.dir, 'crl/intermediate_ca.crl'), join(ca.certs, 'good.crt'));
    expect(old.stdout + old.stderr).toMatch(/error 3 at 1 depth lookup: unable to get certificate CRL/);
  });

  it('the root CRL is signed by the root, with AKI = the root SKI and a CRL Number; the chain holds root then intermediate CRL', () => {
    const rootCrl = join(ca.dir, 'crl/root_ca.crl');
    const v = runPeer('openssl', ['crl', '-in', rootCrl, '-CAfile', ca.root, '-noout', '-verify']);
    expect(v.stderr + v.stdout).toMatch(/verify OK/);
    const text = peer('openssl', ['crl', '-in', rootCrl, '-noout', '-text']);
    const ski = peer('openssl', ['x509', '-in', ca.root, '-noout', '-ext', 'subjectKeyIdentifier']).split('\n')[1]!.trim();
    expect(text).toMatch(/Issuer: CN ?= ?pki Root CA/);
    expect(text).toContain(ski);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+1\n/);
    expect(text).toMatch(/No Revoked Certificates/);
    const chain = readFileSync(ca.chainCrl, 'utf8');
    expect(chain.match(/-----BEGIN X509 CRL-----/g)).toHaveLength(2);
    expect(chain).toBe(readFileSync(rootCrl, 'utf8') + readFileSync(join(ca.dir, 'crl/intermediate_ca.crl'), 'utf8'));
    const days = (Date.parse(/Next Update: (.*)/.exec(text)![1]!) - Date.parse(/Last Update: (.*)/.exec(text)![1]!)) / 86_400_000;
    expect(days).toBe(365);
  });

  it('revoking the intermediate re-signs the root CRL (root key present): every leaf under it is rejected', () => {
    const own = caWithRevokedClient();
    const serial = peer('openssl', ['x509', '-in', own.intermediate, '-noout', '-serial']).trim().slice('serial='.length);
    const r = pki(['revoke', serial, '--reason', 'cACompromise', '--json', '--dir', own.dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { crl: { path: string; crlNumber: string; entries: number; chainPath: string } };
    expect(out.crl).toMatchObject({ path: join(own.dir, 'crl/root_ca.crl'), crlNumber: '2', entries: 1, chainPath: own.chainCrl });
    const good = verifyAll(own, own.chainCrl, join(own.certs, 'good.crt'));
    expect(good.stdout + good.stderr).toMatch(/error 23 at 1 depth lookup: certificate revoked/);
  });

  it('revoking the intermediate with the root key offline records it and says how to re-sign the root CRL', () => {
    const own = caWithRevokedClient();
    renameSync(join(own.dir, 'ca/root_ca.key'), join(own.dir, 'root_ca.key.offline'));
    const rootCrlBefore = readFileSync(join(own.dir, 'crl/root_ca.crl'));
    const serial = peer('openssl', ['x509', '-in', own.intermediate, '-noout', '-serial']).trim().slice('serial='.length);
    const r = pki(['revoke', serial, '--json', '--dir', own.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { crl: unknown }).crl).toBeNull();
    expect(readFileSync(join(own.dir, 'crl/root_ca.crl'))).toEqual(rootCrlBefore);
    // The ceremony: pki crl --root refuses without the key (nothing changes), then signs with it brought back.
    const before = snapshotTree(own.dir);
    const refused = pki(['crl', '--root', '--json', '--dir', own.dir]);
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stdout) as { error: { code: string } }).error.code).toBe('ERR_FILE_NOT_FOUND');
    expect(expectOneLineError(refused)).toMatch(/root_ca\.key .*offline/);
    expect(snapshotTree(own.dir)).toBe(before);
    renameSync(join(own.dir, 'root_ca.key.offline'), join(own.dir, 'ca/root_ca.key'));
    const signed = pki(['crl', '--root', '--json', '--dir', own.dir]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ crlNumber: '2', entries: 1, chainPath: own.chainCrl });
    expect(peer('openssl', ['crl', '-in', join(own.dir, 'crl/root_ca.crl'), '-noout', '-text'])).toContain(`Serial Number: ${serial}`);
    const good = verifyAll(own, own.chainCrl, join(own.certs, 'good.crt'));
    expect(good.stdout + good.stderr).toMatch(/error 23 at 1 depth lookup: certificate revoked/);
  });
});

describe('nginx with ssl_verify_client on and ssl_crl crl/chain.crl.pem', () => {
  let ca: Ca;
  let server: Server | undefined;
  let port = 0;
  let errorLog = '';

  beforeAll(async () => {
    requirePeer('nginx');
    requirePeer('curl');
    ca = caWithRevokedClient();
    ({ server, errorLog } = await startNginx({
      server: `    ssl_certificate ${join(ca.certs, 'svc.crt')};
    ssl_certificate_key ${join(ca.certs, 'svc.key')};
    ssl_client_certificate ${join(ca.certs, 'ca.crt')};
    ssl_verify_client on;
    ssl_verify_depth 2;
    ssl_crl ${ca.chainCrl};
    location / { return 200 "hello $ssl_client_s_dn\\n"; }`,
    }));
    port = server.port;
  });

  afterAll(async () => {
    await server?.stop();
  });

  const get = (client: string) =>
    runPeer('curl', [
      '-sS',
      '--max-time', '20',
      '-o', '-',
      '-w', '\n%{http_code}',
      '--cacert', ca.root,
      '--cert', join(ca.certs, `${client}.crt`),
      '--key', join(ca.certs, `${client}.key`),
      `https://127.0.0.1:${port}/`,
    ]);

  it('answers 200 to the valid client certificate', () => {
    const r = get('good');
    expect(r.stdout, r.stderr).toMatch(/^hello CN=good\n\n200$/);
  });

  it('refuses the revoked client certificate (400, "certificate revoked" in its log)', () => {
    const r = get('bad');
    expect(r.stdout).toMatch(/400$/);
    expect(r.stdout).not.toMatch(/hello/);
    expect(readFileSync(errorLog, 'utf8')).toMatch(/client SSL certificate verify error: \(23:certificate revoked\)/);
  });
});

describe('PostgreSQL with ssl_crl_file crl/chain.crl.pem and cert authentication', () => {
  let ca: Ca;
  let server: Server | undefined;
  let port = 0;

  beforeAll(async () => {
    requirePeer('psql');
    ca = caWithRevokedClient();
    // TCP only with a client certificate, any verified CN mapped to postgres; local (socket) trust for setup.
    ({ server } = await startTlsPostgres({
      files: { 'server.crt': join(ca.certs, 'svc.crt'), 'server.key': join(ca.certs, 'svc.key'), 'root.crt': join(ca.certs, 'ca.crt'), 'chain.crl.pem': ca.chainCrl },
      hba: 'local all all trust\nhostssl all all 127.0.0.1/32 cert map=any\n',
      ident: 'any /^(.*)$ postgres\n',
      settings: (work) => [`ssl_ca_file=${join(work, 'root.crt')}`, `ssl_crl_file=${join(work, 'chain.crl.pem')}`, 'log_connections=on'],
    }));
    port = server.port;
  });

  afterAll(async () => {
    await server?.stop();
  });

  const query = (client: string) =>
    runPeer('psql', [
      `sslmode=verify-full sslcert=${join(ca.certs, `${client}.crt`)} sslkey=${join(ca.certs, `${client}.key`)} sslrootcert=${ca.root} host=127.0.0.1 port=${port} user=postgres dbname=postgres connect_timeout=20`,
      '-XAtc',
      'SELECT 40 + 2',
    ], { env: { PATH: process.env.PATH, HOME: tempDir('pki-psql-home-') } });

  it('accepts the valid client certificate (verify-full, cert authentication)', () => {
    const r = query('good');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('42');
  });

  it('refuses the revoked client certificate', () => {
    const r = query('bad');
    expect(r.status).not.toBe(0);
    expect(r.stdout.trim()).not.toBe('42');
    expect(r.stderr).toMatch(/certificate revoked/i);
  });
});
