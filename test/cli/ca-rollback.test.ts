/**
 * Issue 14, point 5 / "Done means" 4 (last part): `pki ca renew` snapshots the CA home first (ca/, pki.json,
 * a consistent inventory copy under ca/snapshots/<time>/) and `pki ca rollback` restores a byte-identical
 * CA home — every file of ca/ and pki.json with its mode (the snapshot holds no copy of the root key), and the inventory (sqlite3 .dump on SQLite, every
 * row on a PostgreSQL 15 started here) — even after certificates were issued since. Refusals in one line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, tempDir } from '../helpers/cli.js';
import { requirePeer } from '../helpers/peers.js';
import { createDatabase, psql, startPostgres, type TlsPostgres } from '../helpers/postgres.js';

let server: TlsPostgres;
let sqlite3 = '';
beforeAll(async () => {
  sqlite3 = requirePeer('sqlite3');
  server = await startPostgres(); // trust on the socket and 127.0.0.1
});
afterAll(async () => {
  await server?.server.stop();
});

/** ca/ (snapshots left out) and pki.json: path, mode and bytes of each file. */
function caHomeState(dir: string): string[] {
  const files = readdirSync(join(dir, 'ca'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !relative(join(dir, 'ca'), e.parentPath).startsWith('snapshots'))
    .map((e) => join(e.parentPath, e.name));
  return [...files, join(dir, 'pki.json')].map((f) => `${relative(dir, f)} ${(statSync(f).mode & 0o777).toString(8)} ${readFileSync(f).toString('base64')}`).sort();
}
/** pki in `dir` with `env`, expected to succeed: its stdout. */
const okIn =
  (dir: string, env: NodeJS.ProcessEnv = {}) =>
  (args: string[]): string => {
    const r = pki([...args, '--dir', dir], { env });
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
const sqliteDump = (dir: string) => execFileSync(sqlite3, [join(dir, 'db', 'pki.sqlite'), '.dump'], { encoding: 'utf8' });
const pgRows = (database: string) =>
  ['certificates ORDER BY id', 'sequences ORDER BY name'].map((t) => psql(server, `SELECT * FROM ${t}`, database)).join('\n');

describe('pki ca rollback', () => {
  it('SQLite: after ca renew and more issuance, rollback gives back the CA home and the inventory byte for byte', () => {
    const dir = join(tempDir(), 'ca');
    const ok = okIn(dir);
    ok(['init', '--no-password', '--insecure', '--intermediate-not-after', '1y']);
    ok(['generate', 'redis', 'main']);
    const state = caHomeState(dir);
    const dump = sqliteDump(dir);
    const renewed = JSON.parse(ok(['ca', 'renew', '--json'])) as { snapshot: string };
    expect(renewed.snapshot).toMatch(/^\d{8}T\d{6}Z$/);
    expect(statSync(join(dir, 'ca', 'snapshots')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'ca', 'snapshots', renewed.snapshot, 'ca', 'intermediate_ca.key')).mode & 0o777).toBe(0o600);
    // Never a copy of the root key: it goes offline after the ceremony, and a copy would stay behind.
    expect(existsSync(join(dir, 'ca', 'snapshots', renewed.snapshot, 'ca', 'root_ca.key'))).toBe(false);
    expect(readdirSync(join(dir, 'ca', 'snapshots', renewed.snapshot), { recursive: true }).map(String).filter((f) => f.includes('root_ca.key'))).toEqual([]);
    expect(statSync(join(dir, 'ca', 'snapshots', renewed.snapshot, 'inventory.sqlite')).mode & 0o777).toBe(0o600);
    ok(['generate', 'nginx', 'web']);
    expect(caHomeState(dir)).not.toEqual(state);
    expect(sqliteDump(dir)).not.toBe(dump);

    expect(ok(['ca', 'rollback', '--list'])).toContain(renewed.snapshot);
    // nginx/web was issued after the snapshot: refused in one line, nothing changed, unless forced.
    const refused = pki(['ca', 'rollback', '--dir', dir]);
    expect(expectOneLineError(refused)).toMatch(/2 certificates were issued since snapshot .*nginx\/web.*pass --force/);
    expect(sqliteDump(dir)).not.toBe(dump);
    expect(ok(['ca', 'rollback', '--force'])).toMatch(new RegExp(`Restored the CA home from snapshot ${renewed.snapshot}`));
    expect(caHomeState(dir)).toEqual(state);
    expect(sqliteDump(dir)).toBe(dump);
    // The restored CA works: it issues again.
    ok(['generate', 'grafana', 'main']);
  });

  it('PostgreSQL: the inventory rows are restored as well', () => {
    const database = createDatabase(server);
    const env = { HOME: tempDir(), PKI_DATABASE_URL: `postgres://postgres@127.0.0.1:${server.server.port}/${database}`, PGPASSWORD: undefined, PGPASSFILE: undefined };
    const dir = join(tempDir(), 'ca');
    const ok = okIn(dir, env);
    ok(['init', '--no-password', '--insecure', '--intermediate-not-after', '1y']);
    ok(['generate', 'redis', 'main']);
    const state = caHomeState(dir);
    const rows = pgRows(database);
    ok(['ca', 'renew']);
    ok(['generate', 'nginx', 'web']);
    expect(pgRows(database)).not.toBe(rows);
    ok(['ca', 'rollback', '--force']);
    expect(pgRows(database)).toBe(rows);
    expect(caHomeState(dir)).toEqual(state);
  });

  it('refuses in one line: no snapshot yet, an unknown --snapshot', () => {
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir]).code).toBe(0);
    const state = caHomeState(dir);
    const none = pki(['ca', 'rollback', '--dir', dir]);
    expectOneLineError(none, 2);
    expect(none.stderr).toMatch(/no snapshot to roll back to/);
    expect(pki(['ca', 'renew', '--dir', dir]).code).toBe(0);
    const after = caHomeState(dir);
    const unknown = pki(['ca', 'rollback', '--snapshot', '20200101T000000Z', '--dir', dir]);
    expectOneLineError(unknown, 2);
    expect(unknown.stderr).toMatch(/no snapshot "20200101T000000Z"/);
    expect(caHomeState(dir)).toEqual(after);
    expect(after).not.toEqual(state);
  });
});
