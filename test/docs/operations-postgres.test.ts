/**
 * docs/operations.md "A shared PostgreSQL inventory", run as written (issue 14): pki issues the database's
 * server certificate and the `pki` role's client certificate; PostgreSQL 15 is started with the section's
 * postgresql.conf and pg_hba.conf blocks (hostssl … cert clientcert=verify-full, `${CERTS}` filled in),
 * on 127.0.0.1 and a free port ($PGPORT, $DB_HOST=127.0.0.1); a CA is initialised on the database over
 * sslmode=verify-full with the client certificate, a second CA home copy issues into the same inventory,
 * and a host without its client certificate is refused in one line. Only this section's blocks (`pg-…`)
 * are run here: the other sections of operations.md have tests of their own.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guideFile, guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { requirePeer } from '../helpers/peers.js';
import { psql, startTlsPostgres, type TlsPostgres } from '../helpers/postgres.js';

describe('docs/operations.md: a shared PostgreSQL inventory over verify-full TLS with a pki client certificate', () => {
  const guide = loadGuide('../operations.md');
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  let pg: TlsPostgres | undefined;
  const run = (name: string, extra: NodeJS.ProcessEnv = {}) => runGuideBlock(guide, name, { cwd: work, env: { ...env, ...extra } });

  beforeAll(() => {
    requirePeer('psql');
    work = guideWorkdir('operations-postgres');
    chmodSync(work, 0o755); // the postgres user reads the server's files below it
    const home = join(work, 'home'); // no ~/.pgpass, no ~/.postgresql: only what the section names
    mkdirSync(home);
    env = { HOME: home, DB_HOST: '127.0.0.1', PGPASSWORD: undefined, PGPASSFILE: undefined, PKI_DATABASE_URL: undefined, PGHOST: undefined, PGUSER: undefined };
  });

  afterAll(async () => {
    await pg?.server.stop();
  });

  it('issues the database certificates, starts PostgreSQL with the section\'s files, makes the role and the database', async () => {
    run('pg-db-certs');
    const conf = guideFile(guide, 'postgresql.conf', { CERTS: join(work, 'db-ca/services/postgres/inventory/certs') });
    const hba = guideFile(guide, 'pg_hba.conf');
    expect(hba).toMatch(/^hostssl\s+pki\s+pki\s+127\.0\.0\.1\/32\s+cert clientcert=verify-full$/m);
    pg = await startTlsPostgres({ conf, hba: `local all all trust\n${hba}`, settings: () => ['log_connections=on'], prefix: 'pki-ops-pg-' });
    env.PGPORT = String(pg.server.port);
    run('pg-role', { PGHOST: pg.work, PGUSER: 'postgres' });
    run('pg-client-files');
  });

  it('a CA initialised on the database (verify-full, client certificate CN=pki): its records are in PostgreSQL', async () => {
    const r = run('pg-init');
    expect(r.stdout).toMatch(/CN=redis\s+peer\s/);
    await pg!.server.log.waitFor(/connection authorized: user=pki database=pki application_name=pki SSL enabled/);
    expect(psql(pg!, `SELECT profile FROM certificates ORDER BY profile`, 'pki').trim().split('\n')).toEqual(['client', 'intermediate', 'peer', 'root']);
    const config = JSON.parse(readFileSync(join(work, 'shared-ca', 'pki.json'), 'utf8')) as { inventory?: { url: string } };
    expect(config.inventory?.url).toMatch(/^postgres:\/\/pki@127\.0\.0\.1:\d+\/pki\?sslmode=verify-full&sslrootcert=.*&sslkey=.*\/db-client\/pki\.key$/);
    expect(existsSync(join(work, 'shared-ca', 'db', 'pki.sqlite'))).toBe(false);
  });

  it('a second CA home copy issues into the same inventory', () => {
    const r = run('pg-second-host');
    expect(r.stdout).toMatch(/CN=nginx\s+peer\s/);
    expect(r.stdout).toMatch(/CN=redis\s+peer\s/);
    expect(Number(psql(pg!, `SELECT count(*) FROM certificates`, 'pki').trim())).toBe(6);
  });

  it('a host without its client certificate is refused in one line, exit 1', () => {
    const r = runGuideBlock(guide, 'pg-fail-no-client-cert', { cwd: work, env, expectFailure: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pki: error: the PostgreSQL inventory postgres:\/\/pki@127\.0\.0\.1:\d+\/pki\?sslmode=verify-full&sslrootcert=\S+ refused user pki: connection requires a valid client certificate \(check the user, [^\n]*\)\n$/);
    expect(r.stdout).toBe('');
  });
});
