/**
 * docs/operations.md "Moving an inventory", run as written (issue 14): a CA made on SQLite moves to a
 * PostgreSQL 15 started here (role `pki`, database `pki_moved`, trust on 127.0.0.1) and back. Only this
 * section's blocks (`mv-…`) are run here; test/cli/db-migrate.test.ts proves the round trip in depth.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guideWorkdir, loadGuide, runGuideBlock } from '../helpers/guides.js';
import { psql, startPostgres, type TlsPostgres } from '../helpers/postgres.js';

describe('docs/operations.md: moving an inventory from SQLite to PostgreSQL and back', () => {
  const guide = loadGuide('../operations.md');
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  let pg: TlsPostgres | undefined;
  const run = (name: string) => runGuideBlock(guide, name, { cwd: work, env });

  beforeAll(async () => {
    pg = await startPostgres({ hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', ''].join('\n') });
    psql(pg, 'CREATE ROLE pki LOGIN');
    psql(pg, 'CREATE DATABASE pki_moved OWNER pki');
    work = guideWorkdir('operations-migrate');
    env = { HOME: work, DB_HOST: '127.0.0.1', PGPORT: String(pg.server.port), PGPASSWORD: undefined, PGPASSFILE: undefined, PKI_DATABASE_URL: undefined };
  });
  afterAll(async () => {
    await pg?.server.stop();
  });

  it('moves the inventory to PostgreSQL: counts printed, pki.json switched, the SQLite file kept aside', () => {
    run('mv-sqlite-home');
    const r = run('mv-to-postgres');
    expect(r.stdout).toMatch(/counts and checksums match/);
    expect(r.stdout).toMatch(/certificates\s+4 rows/);
    expect(psql(pg!, 'SELECT profile FROM certificates ORDER BY profile', 'pki_moved').trim().split('\n')).toEqual(['client', 'intermediate', 'peer', 'root']);
    const config = JSON.parse(readFileSync(join(work, 'moving-ca', 'pki.json'), 'utf8')) as { inventory?: { url: string } };
    expect(config.inventory?.url).toBe(`postgres://pki@127.0.0.1:${pg!.server.port}/pki_moved`);
    expect(readdirSync(join(work, 'moving-ca', 'db')).filter((f) => /^pki\.sqlite\.migrated-\d{8}T\d{6}Z$/.test(f))).toHaveLength(1);
    expect(existsSync(join(work, 'moving-ca', 'db', 'pki.sqlite'))).toBe(false);
  });

  it('and back: a new db/pki.sqlite, inventory.url removed', () => {
    const r = run('mv-back');
    expect(r.stdout).toMatch(/counts and checksums match/);
    expect(existsSync(join(work, 'moving-ca', 'db', 'pki.sqlite'))).toBe(true);
    expect(JSON.parse(readFileSync(join(work, 'moving-ca', 'pki.json'), 'utf8'))).not.toHaveProperty('inventory');
  });
});
