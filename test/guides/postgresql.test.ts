/**
 * docs/guides/postgresql.md, run as written (issue 12, point 5 and Done-means 3): the guide's blocks make
 * the CA and the bundle; PostgreSQL 15 is started with the guide's postgresql.conf and pg_hba.conf blocks
 * (`${PKI_DIR}` filled with the test's CA home), on 127.0.0.1 and a free port passed as $PGPORT. psql
 * with verify-full and alice's certificate gets `SELECT 1`; without a client certificate, with another
 * CA's, and with a host name not in the SANs it fails, each with its own message.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki } from '../helpers/cli.js';
import { expectEveryBlockRun, guideFile, guideWorkdir, loadGuide, runGuideBlock, type BlockResult } from '../helpers/guides.js';
import { peer, requirePeer } from '../helpers/peers.js';
import { startTlsPostgres, type TlsPostgres } from '../helpers/postgres.js';

describe('docs/guides/postgresql.md against PostgreSQL (hostssl … cert clientcert=verify-full, sslmode=verify-full)', () => {
  const guide = loadGuide('postgresql.md');
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  let pg: TlsPostgres | undefined;
  const run = (name: string, extra: NodeJS.ProcessEnv = {}) => runGuideBlock(guide, name, { cwd: work, env: { ...env, ...extra } });
  const fail = (name: string): BlockResult => runGuideBlock(guide, name, { cwd: work, env, expectFailure: true });

  beforeAll(() => {
    requirePeer('psql');
    work = guideWorkdir('postgresql');
    chmodSync(work, 0o755); // as /srv is: the postgres user must reach the bundle below it
    const home = join(work, 'home'); // no ~/.postgresql files: only what the guide names is used
    mkdirSync(home);
    env = { PKI_DIR: join(work, 'pki'), HOME: home, PGPORT: undefined, PGHOST: undefined, PGUSER: undefined };
  });

  afterAll(async () => {
    await pg?.server.stop();
  });

  it('makes the CA and the bundle: CN=alice for the client, root:postgres 0640 for the server key', () => {
    run('ca');
    run('bundle');
    const certs = join(work, 'pki/services/postgres/main/certs');
    expect(peer('openssl', ['x509', '-in', join(certs, 'alice.crt'), '-noout', '-subject'])).toBe('subject=CN = alice\n');
    const key = statSync(join(certs, 'postgres.key'));
    expect({ mode: key.mode & 0o777, uid: key.uid, gid: key.gid }).toEqual({ mode: 0o640, uid: 0, gid: Number(peer('id', ['-g', 'postgres']).trim()) });
  });

  it('PostgreSQL starts with the guide\'s configuration; the role is created; psql verify-full with alice\'s certificate runs SELECT 1', async () => {
    const conf = guideFile(guide, 'postgresql.conf', { PKI_DIR: env.PKI_DIR! });
    const hba = guideFile(guide, 'pg_hba.conf');
    expect(conf).toMatch(/^ssl_crl_file = '.*\/crl\/chain\.crl\.pem'$/m);
    expect(hba).toMatch(/^hostssl\s+all\s+all\s+127\.0\.0\.1\/32\s+cert clientcert=verify-full$/m);
    // The guide keeps Debian's `local` lines for the superuser; here that is trust over the test's socket.
    pg = await startTlsPostgres({ conf, hba: `local all all trust\n${hba}`, settings: () => ['log_connections=on'], prefix: 'pki-guide-pg-' });
    env.PGPORT = String(pg.server.port);
    run('role', { PGHOST: pg.work, PGUSER: 'postgres' });
    run('client-files');
    const r = run('connect');
    expect(r.stdout).toMatch(/^\s*1\n\(1 row\)/m);
    await pg.server.log.waitFor(/connection authorized: user=alice database=postgres .*SSL enabled/);
  });

  it('refuses a client without a certificate: "connection requires a valid client certificate"', () => {
    const r = fail('fail-no-client-cert');
    expect(r.stderr).toMatch(/FATAL: {2}connection requires a valid client certificate/);
    expect(r.stdout).toBe('');
  });

  it('refuses a client certificate from another CA (same CN): the server ends the handshake, "certificate verify failed" in its log', async () => {
    run('other-ca');
    const r = fail('fail-other-ca');
    expect(r.stderr).toMatch(/SSL error: tlsv1 alert unknown ca/);
    expect(r.stdout).toBe('');
    await pg!.server.log.waitFor(/could not accept SSL connection: certificate verify failed/);
  });

  it('refuses a server name the certificate does not carry: "does not match host name"', () => {
    const r = fail('fail-wrong-name');
    expect(r.stderr).toMatch(/server certificate for "postgres" \(and 4 other names\) does not match host name "db\.example\.com"/);
    expect(r.stdout).toBe('');
  });

  it('refuses alice once revoked and reloaded: "certificate revoked" (ssl_crl_file crl/chain.crl.pem)', async () => {
    run('revoke', { PGHOST: pg!.work, PGUSER: 'postgres' });
    await pg!.server.log.waitFor(/received SIGHUP, reloading configuration files/);
    const r = fail('fail-revoked');
    expect(r.stderr).toMatch(/SSL error: sslv3 alert certificate revoked/);
    expect(r.stdout).toBe('');
  });

  it('as the guide warns, a bundle without --key-mode 0640 --group postgres leaves the server unable to read its key', async () => {
    const g = pki(['generate', 'postgres', 'nogroup', '--client', 'alice', '--dir', env.PKI_DIR!, '--password-file', join(work, 'ca.pass')]);
    expect(g.code, g.stderr).toBe(0);
    const conf = guideFile(guide, 'postgresql.conf', { PKI_DIR: env.PKI_DIR! }).replaceAll('/postgres/main/', '/postgres/nogroup/');
    const start = startTlsPostgres({ conf, hba: `local all all trust\n${guideFile(guide, 'pg_hba.conf')}`, prefix: 'pki-guide-pg-nogroup-' });
    await expect(start).rejects.toThrow(/could not load private key file ".*\/postgres\/nogroup\/certs\/postgres\.key": Permission denied/);
  });

  it('ran every runnable block of the guide', () => {
    expectEveryBlockRun(guide);
  });
});
