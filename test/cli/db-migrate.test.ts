/**
 * Issue 14, "Done means" 2: `pki db migrate` SQLite → PostgreSQL → SQLite gives back an identical logical
 * dump (sqlite3 .dump of the database before and after, and PRAGMA user_version), with a real PostgreSQL 15
 * started here. The inventory holds X.509 records (issued, revoked, CRL Numbers), SSH records and the ACME
 * tables (rows with rowids out of sequence, which order the ACME passes). After the move the home works on
 * PostgreSQL (issuance continues the id sequence); each refusal is one line, with the home unchanged.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
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

const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${server.server.port}/${database}`;
const env = (): NodeJS.ProcessEnv => ({ HOME: tempDir(), PGPASSWORD: undefined, PGPASSFILE: undefined, PKI_DATABASE_URL: undefined });
const sql = (db: string, statements: string) => execFileSync(sqlite3, [db], { input: statements, encoding: 'utf8' });
/**
 * The logical dump: PRAGMA user_version, the schema statements of `sqlite3 .dump` in order, its INSERT
 * statements sorted (row order in a table is not data: SQLite's own order of a table without an integer
 * key is its hidden rowid, which only the ACME tables use, and rowids() compares those), and the rowids.
 */
const dump = (db: string) => {
  const lines = sql(db, '.dump').split('\n');
  const inserts = lines.filter((l) => l.startsWith('INSERT INTO ')).sort();
  return [sql(db, 'PRAGMA user_version;'), ...lines.filter((l) => !l.startsWith('INSERT INTO ')), ...inserts, rowids(db)].join('\n');
};
const rowids = (db: string) =>
  ['acme_accounts', 'acme_orders', 'acme_authorizations', 'acme_challenges'].map((t) => sql(db, `SELECT '${t}', rowid, id FROM ${t} ORDER BY rowid;`)).join('');
/** Every file of the home but the database: what a refused migration must leave as it was. */
const snapshot = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('pki.sqlite'))
    .map((e) => `${join(e.parentPath, e.name)}:${readFileSync(join(e.parentPath, e.name), 'base64')}`)
    .sort();

/** A CA home on SQLite with X.509, SSH and ACME rows. */
function populatedHome(): string {
  const dir = join(tempDir(), 'ca');
  const e = env();
  const ok = (args: string[]) => {
    const r = pki([...args, '--dir', dir], { env: e });
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  ok(['init', '--no-password', '--insecure']);
  ok(['generate', 'redis', 'main']);
  ok(['generate', 'nginx', 'web']);
  const peer = (JSON.parse(ok(['list', '--json'])) as { serial: string; profile: string; certificatePath: string | null }[]).find((r) => r.profile === 'peer')!;
  ok(['revoke', peer.serial, '--reason', 'keyCompromise']);
  ok(['crl']);
  ok(['ssh', 'init', '--no-password', '--insecure']);
  const db = join(dir, 'db', 'pki.sqlite');
  sql(
    db,
    `PRAGMA foreign_keys = ON;
INSERT INTO acme_accounts (rowid, id, provisioner, status, jwk, thumbprint, contact, created_at, created_from, eab_kid)
  VALUES (7, 'acct1', 'acme', 'valid', '{"kty":"EC"}', 'tp1', '["mailto:a@example.test"]', '2026-12-01T00:00:00.000Z', '127.0.0.1', NULL),
         (3, 'acct2', 'acme', 'deactivated', '{"kty":"RSA"}', 'tp2', '[]', '2026-12-01T00:00:01.000Z', '::1', 'kid-é');
INSERT INTO acme_orders (rowid, id, account_id, provisioner, status, expires, identifiers, not_before, not_after, error, certificate_serial, replaces, created_at)
  VALUES (12, 'ord1', 'acct1', 'acme', 'valid', '2026-12-08T00:00:00.000Z', '[{"type":"dns","value":"a.test"}]', NULL, NULL, NULL, '${peer.serial}', NULL, '2026-12-01T00:00:02.000Z'),
         (4, 'ord2', 'acct1', 'acme', 'pending', '2026-12-08T00:00:00.000Z', '[{"type":"ip","value":"127.0.0.1"}]', NULL, NULL, '{"type":"urn:ietf:params:acme:error:malformed"}', NULL, 'x.y', '2026-12-01T00:00:03.000Z');
INSERT INTO acme_authorizations (rowid, id, order_id, position, account_id, identifier_type, identifier_value, status, expires, wildcard)
  VALUES (20, 'az1', 'ord1', 0, 'acct1', 'dns', 'a.test', 'valid', '2026-12-08T00:00:00.000Z', 0),
         (2, 'az2', 'ord2', 0, 'acct1', 'ip', '127.0.0.1', 'pending', '2026-12-08T00:00:00.000Z', 1);
INSERT INTO acme_challenges (rowid, id, authorization_id, position, type, token, status, validated, error)
  VALUES (30, 'ch1', 'az1', 0, 'http-01', 'tok1', 'valid', '2026-12-01T00:00:04.000Z', NULL),
         (1, 'ch2', 'az2', 1, 'tls-alpn-01', 'tok2', 'processing', NULL, NULL);
INSERT INTO acme_nonces (nonce, expires_at) VALUES ('n-b', '2026-12-01T01:00:00.000Z'), ('n-A', '2026-12-01T01:00:00.000Z');`,
  );
  return dir;
}

describe('pki db migrate', () => {
  it('SQLite → PostgreSQL → SQLite: an identical logical dump, pki.json switched each way, the old file kept', () => {
    const dir = populatedHome();
    const db = join(dir, 'db', 'pki.sqlite');
    const before = dump(db);
    expect(before).toMatch(/INSERT INTO acme_challenges/);
    expect(before).toMatch(/'ssh-user'|ssh-host|ssh/);
    const configBefore = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')) as Record<string, unknown>;
    const database = createDatabase(server);

    const up = pki(['db', 'migrate', '--to', urlOf(database), '--dir', dir, '--json'], { env: env() });
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout) as { tables: { table: string; rows: number; sha256: string }[]; keptAs: string };
    const counts = Object.fromEntries(result.tables.map((t) => [t.table, t.rows]));
    expect(counts).toMatchObject({ acme_accounts: 2, acme_orders: 2, acme_authorizations: 2, acme_challenges: 2, acme_nonces: 2 });
    expect(counts.certificates).toBeGreaterThanOrEqual(6);
    // The rows are in PostgreSQL, counted by PostgreSQL itself; the rowids as they were.
    expect(Number(psql(server, 'SELECT count(*) FROM certificates', database).trim())).toBe(counts.certificates);
    expect(psql(server, 'SELECT id, rowid FROM acme_challenges ORDER BY rowid', database).trim()).toBe('ch2|1\nch1|30');
    expect(JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8'))).toEqual({ ...configBefore, inventory: { url: urlOf(database) } });
    expect(existsSync(db)).toBe(false);
    expect(result.keptAs).toMatch(/pki\.sqlite\.migrated-\d{8}T\d{6}Z$/);
    expect(dump(result.keptAs)).toBe(before);
    const listed = pki(['list', '--all', '--json', '--dir', dir], { env: env() });
    expect(listed.code, listed.stderr).toBe(0);
    const x509 = Number(psql(server, `SELECT count(*) FROM certificates WHERE kind = 'x509'`, database).trim());
    expect(x509).toBeGreaterThanOrEqual(6);
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(x509);

    const down = pki(['db', 'migrate', '--to', 'sqlite', '--dir', dir], { env: env() });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/counts and checksums match/);
    expect(dump(db)).toBe(before);
    expect(JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8'))).toEqual(configBefore);
    // The home is on SQLite again and issues there.
    const more = pki(['generate', 'grafana', 'main', '--dir', dir], { env: env() });
    expect(more.code, more.stderr).toBe(0);
    expect(Number(sql(db, 'SELECT count(*) FROM certificates;').trim())).toBeGreaterThan(counts.certificates!);
  });

  it('after the move the home issues on PostgreSQL, ids continuing after the copied ones', () => {
    const dir = populatedHome();
    const database = createDatabase(server);
    expect(pki(['db', 'migrate', '--to', urlOf(database), '--dir', dir], { env: env() }).code).toBe(0);
    const maxBefore = Number(psql(server, 'SELECT max(id) FROM certificates', database).trim());
    const r = pki(['generate', 'grafana', 'main', '--dir', dir], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(psql(server, `SELECT min(id) FROM certificates WHERE certificate_path LIKE 'services/grafana/%'`, database).trim())).toBeGreaterThan(maxBefore);
    expect(existsSync(join(dir, 'db', 'pki.sqlite'))).toBe(false);
    // Back to SQLite while a db/pki.sqlite is there: refused, nothing written, pki.json still on PostgreSQL.
    writeFileSync(join(dir, 'db', 'pki.sqlite'), 'older', { mode: 0o600 });
    const files = snapshot(dir);
    const refused = pki(['db', 'migrate', '--to', 'sqlite', '--dir', dir], { env: env() });
    expectOneLineError(refused, 1);
    expect(refused.stderr).toMatch(/pki\.sqlite exists/);
    expect(snapshot(dir)).toEqual(files);
    expect(readFileSync(join(dir, 'db', 'pki.sqlite'), 'utf8')).toBe('older');
    expect(readdirSync(join(dir, 'db')).filter((f) => f.includes('.migrating-') || f.includes('.replaced-'))).toEqual([]);
  });

  it('refuses, in one line and with the home unchanged: a bad --to, the backend it is on, a database that holds records, one that does not answer', async () => {
    const dir = populatedHome();
    const db = join(dir, 'db', 'pki.sqlite');
    const files = snapshot(dir);
    const before = dump(db);
    const held = createDatabase(server);
    // A database another CA uses: first migrate a second home into it.
    expect(pki(['db', 'migrate', '--to', urlOf(held), '--dir', populatedHome()], { env: env() }).code).toBe(0);
    const port = await freePort();
    const cases: [string[], number, RegExp][] = [
      [['--to', 'mysql://root@127.0.0.1/pki'], 2, /--to must be "sqlite" or a postgres:\/\/ URL/],
      [['--to', 'sqlite'], 2, /is SQLite already/],
      [['--to', `postgres://postgres:pw@127.0.0.1:${server.server.port}/x`], 1, /carries a password/],
      [['--to', urlOf(held)], 1, /already holds records \(\d+ in certificates/],
      [['--to', `postgres://postgres@127.0.0.1:${port}/pki?connect_timeout=2`], 1, /./],
    ];
    for (const [args, code, message] of cases) {
      const r = pki(['db', 'migrate', ...args, '--dir', dir], { env: env() });
      expect(expectOneLineError(r, code), args.join(' ')).toMatch(message);
      expect(snapshot(dir)).toEqual(files);
      expect(dump(db)).toBe(before);
    }
    expect(readdirSync(join(dir, 'db')).filter((f) => f.startsWith('pki.sqlite.'))).toEqual([]);
    // --force replaces what the database holds: afterwards it holds this home's rows and only those.
    const forced = pki(['db', 'migrate', '--to', urlOf(held), '--force', '--dir', dir], { env: env() });
    expect(forced.code, forced.stderr).toBe(0);
    const ours = Number(sql(readdirSync(join(dir, 'db')).map((f) => join(dir, 'db', f)).find((f) => f.includes('.migrated-'))!, 'SELECT count(*) FROM certificates;').trim());
    expect(Number(psql(server, 'SELECT count(*) FROM certificates', held).trim())).toBe(ours);
    expect(psql(server, 'SELECT count(DISTINCT issuer) FROM certificates WHERE profile = $$peer$$', held).trim()).toBe('1');
  });
});
