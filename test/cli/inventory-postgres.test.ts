/**
 * Issue 14, point 1: the CLI on a PostgreSQL inventory (PKI_DATABASE_URL or pki.json inventory.url), a
 * real PostgreSQL 15 started here. init, generate, revoke, crl, list, check all against PostgreSQL (no
 * db/pki.sqlite made); the password from PGPASSWORD, PKI_DATABASE_PASSWORD_FILE or a .pgpass file and
 * never in the URL; an unreachable database, a missing database and a refused login each one line and
 * exit 1; TLS with sslmode=verify-full to a server whose certificate pki issued, authenticated by a client
 * certificate pki issued (CN = the database user, pg_hba `hostssl … cert`), as docs/operations.md
 * "A shared PostgreSQL inventory" describes it; parallel issuers from two CA home copies sharing the
 * database (scripts/concurrency.mjs).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, pkiAsync, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { createDatabase, psql, startPostgres, startTlsPostgres, type TlsPostgres } from '../helpers/postgres.js';


let server: TlsPostgres;
beforeAll(async () => {
  server = await startPostgres({
    hba: ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all pwuser 127.0.0.1/32 scram-sha-256', ''].join('\n'),
    settings: () => ['password_encryption=scram-sha-256'],
  });
  psql(server, `CREATE ROLE pwuser LOGIN PASSWORD 'correct horse'`);
});
afterAll(async () => {
  await server?.server.stop();
});

const urlOf = (database: string, user = 'postgres', s = server) => `postgres://${user}@127.0.0.1:${s.server.port}/${database}`;
/** No password source but what a test gives: HOME without .pgpass, no PGPASSWORD. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: tempDir(), PGPASSWORD: undefined, PGPASSFILE: undefined, PKI_DATABASE_PASSWORD_FILE: undefined, ...extra };
}

describe('the CLI on a PostgreSQL inventory', () => {
  it('init, generate, revoke, crl, list, check: every record in PostgreSQL, none in SQLite', () => {
    const database = createDatabase(server);
    const env = cleanEnv({ PKI_DATABASE_URL: urlOf(database) });
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir], { env }).code).toBe(0);
    expect(pki(['generate', 'redis', 'main', '--dir', dir], { env }).code).toBe(0);
    const listed = pki(['list', '--dir', dir, '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const records = JSON.parse(listed.stdout) as { serial: string; profile: string; status: string; certificatePath: string | null }[];
    expect(records.map((r) => r.profile).sort()).toEqual(['client', 'intermediate', 'peer', 'root']);
    const peer = records.find((r) => r.profile === 'peer')!;
    expect(peer.certificatePath).toBe(join(dir, 'services/redis/main/certs/redis.crt'));
    // In PostgreSQL, paths inside the home stored relative to it.
    expect(psql(server, `SELECT certificate_path FROM certificates WHERE serial = '${peer.serial}'`, database).trim()).toBe('services/redis/main/certs/redis.crt');
    expect(existsSync(join(dir, 'db', 'pki.sqlite'))).toBe(false);

    const revoked = pki(['revoke', peer.serial, '--reason', 'keyCompromise', '--dir', dir, '--json'], { env });
    expect(revoked.code, revoked.stderr).toBe(0);
    const first = BigInt((JSON.parse(revoked.stdout) as { crl: { crlNumber: string } }).crl.crlNumber);
    const crl = pki(['crl', '--dir', dir, '--json'], { env });
    expect(crl.code, crl.stderr).toBe(0);
    expect(BigInt((JSON.parse(crl.stdout) as { crlNumber: string }).crlNumber)).toBe(first + 1n);
    const text = execFileSync('openssl', ['crl', '-in', join(dir, 'crl', 'intermediate_ca.crl'), '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(new RegExp(`Serial Number: 0*${peer.serial.replace(/^0+/, '')}\\b`));
    expect(psql(server, `SELECT status, revocation_reason FROM certificates WHERE serial = '${peer.serial}'`, database).trim()).toBe('revoked|keyCompromise');
    expect(psql(server, `SELECT value FROM sequences WHERE name = 'crl'`, database).trim()).toBe(String(first + 1n));
    const check = pki(['check', '--dir', dir], { env });
    expect(check.stdout).toMatch(/checked/);

    // pki.json's inventory.url instead of the variable: the same inventory.
    const config = JSON.parse(execFileSync('cat', [join(dir, 'pki.json')], { encoding: 'utf8' })) as Record<string, unknown>;
    writeFileSync(join(dir, 'pki.json'), JSON.stringify({ ...config, inventory: { url: urlOf(database) } }, null, 2));
    const again = pki(['list', '--all', '--dir', dir, '--json'], { env: cleanEnv() });
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as unknown[]).length).toBe(4);
    expect(existsSync(join(dir, 'db', 'pki.sqlite'))).toBe(false);
  });

  it('refuses a URL carrying a password, in the variable or in pki.json, before touching anything', () => {
    const dir = join(tempDir(), 'ca');
    const r = pki(['init', '--no-password', '--insecure', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: `postgres://pwuser:secret@127.0.0.1:${server.server.port}/x` }) });
    expectOneLineError(r, 1);
    expect(r.stderr).toMatch(/PKI_DATABASE_URL: the URL carries a password/);
    expect(r.stderr).not.toContain('secret');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('an unreachable database (a closed port), a missing database: exit 1, one line naming the URL', async () => {
    const dir = join(tempDir(), 'ca');
    const database = createDatabase(server);
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: urlOf(database) }) }).code).toBe(0);
    const closed = await freePort();
    const down = pki(['list', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/${database}` }) });
    expectOneLineError(down, 1);
    expect(down.stderr).toContain(`cannot reach the PostgreSQL inventory postgres://postgres@127.0.0.1:${closed}/${database}: connect ECONNREFUSED`);
    const gone = pki(['generate', 'redis', 'main', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: urlOf('no_such_db') }) });
    expectOneLineError(gone, 1);
    expect(gone.stderr).toMatch(/database "no_such_db" does not exist \(create it first: createdb -O postgres no_such_db\)/);
    expect(existsSync(join(dir, 'services'))).toBe(false); // refused before the bundle was written
    // init reaches the database before it writes anything.
    const fresh = join(tempDir(), 'ca');
    const initDown = pki(['init', '--no-password', '--insecure', '--dir', fresh], { env: cleanEnv({ PKI_DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/${database}` }) });
    expectOneLineError(initDown, 1);
    expect(existsSync(fresh)).toBe(false);
  });

  it('a second init on a database that holds a CA\'s certificates is refused before anything is written', () => {
    const database = createDatabase(server);
    const env = cleanEnv({ PKI_DATABASE_URL: urlOf(database) });
    expect(pki(['init', '--no-password', '--insecure', '--dir', join(tempDir(), 'ca')], { env }).code).toBe(0);
    const second = join(tempDir(), 'ca');
    const r = pki(['init', '--no-password', '--insecure', '--dir', second], { env });
    expectOneLineError(r, 1);
    expect(r.stderr).toContain('already holds 2 X.509 certificates of a CA; a new CA needs an inventory of its own');
    expect(existsSync(second)).toBe(false);
  });

  it('the password: PGPASSWORD, PKI_DATABASE_PASSWORD_FILE (0600), a .pgpass line; none or a wrong one is one line', () => {
    const database = createDatabase(server, 'pwuser');
    const url = urlOf(database, 'pwuser');
    const dir = join(tempDir(), 'ca');
    const none = pki(['init', '--no-password', '--insecure', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url }) });
    expectOneLineError(none, 1);
    expect(none.stderr).toMatch(/asks a password for user pwuser and none was found \(give it in PGPASSWORD, a ~\/\.pgpass line/);
    const wrong = pki(['init', '--no-password', '--insecure', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url, PGPASSWORD: 'battery staple' }) });
    expectOneLineError(wrong, 1);
    expect(wrong.stderr).toMatch(/refused user pwuser: password authentication failed for user "pwuser"/);
    expect(wrong.stderr).not.toContain('battery');

    expect(pki(['init', '--no-password', '--insecure', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url, PGPASSWORD: 'correct horse' }) }).code).toBe(0);
    const passwordFile = join(tempDir(), 'db.pass');
    writeFileSync(passwordFile, 'correct horse\n', { mode: 0o644 });
    const open = pki(['list', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url, PKI_DATABASE_PASSWORD_FILE: passwordFile }) });
    expectOneLineError(open, 1);
    expect(open.stderr).toContain(`PKI_DATABASE_PASSWORD_FILE ${passwordFile} has mode 0644: a password file must be readable by its owner only (chmod 600 ${passwordFile})`);
    chmodSync(passwordFile, 0o600);
    expect(pki(['list', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url, PKI_DATABASE_PASSWORD_FILE: passwordFile }) }).code).toBe(0);
    const pgpass = join(tempDir(), 'pgpass');
    writeFileSync(pgpass, `# comment\n127.0.0.1:${server.server.port}:other:pwuser:nope\n127.0.0.1:*:${database}:pwuser:correct horse\n`, { mode: 0o600 });
    const viaPgpass = pki(['list', '--dir', dir, '--json'], { env: cleanEnv({ PKI_DATABASE_URL: url, PGPASSFILE: pgpass }) });
    expect(viaPgpass.code, viaPgpass.stderr).toBe(0);
    expect((JSON.parse(viaPgpass.stdout) as unknown[]).length).toBe(2);
  });
});

describe('TLS to the database: sslmode=verify-full, server and client certificates issued by pki', () => {
  let tlsServer: TlsPostgres | undefined;
  afterAll(async () => {
    await tlsServer?.server.stop();
  });

  it('connects with the client certificate (CN = the database user); without it, or trusting another CA, one line', async () => {
    // The CA that issues the database's certificates: a home of its own (docs/operations.md shows the same with one home).
    const dbCa = join(tempDir(), 'db-ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dbCa]).code).toBe(0);
    expect(pki(['generate', 'postgres', 'main', '--client', 'pki', '--dir', dbCa]).code).toBe(0);
    const certs = join(dbCa, 'services/postgres/main/certs');
    tlsServer = await startTlsPostgres({
      files: { 'server.crt': join(certs, 'postgres.crt'), 'server.key': join(certs, 'postgres.key'), 'root.crt': join(certs, 'ca.crt') },
      settings: (work) => [`ssl_ca_file=${join(work, 'root.crt')}`, 'log_connections=on'],
      hba: 'local all all trust\nhostssl all all 127.0.0.1/32 cert clientcert=verify-full\n',
      prefix: 'pki-inventory-tls-',
    });
    psql(tlsServer, 'CREATE ROLE pki LOGIN');
    const database = createDatabase(tlsServer, 'pki');
    const tls = `sslmode=verify-full&sslrootcert=${join(certs, 'ca.crt')}`;
    const url = `postgres://pki@127.0.0.1:${tlsServer.server.port}/${database}?${tls}&sslcert=${join(certs, 'pki.crt')}&sslkey=${join(certs, 'pki.key')}`;
    const dir = join(tempDir(), 'ca');
    const init = pki(['init', '--no-password', '--insecure', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url }) });
    expect(init.code, init.stderr).toBe(0);
    expect(pki(['generate', 'web', 'main', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: url }) }).code).toBe(0);
    expect(psql(tlsServer, `SELECT count(*) FROM certificates`, database).trim()).toBe('4');
    await tlsServer.server.log.waitFor(new RegExp(`connection authorized: user=pki database=${database} application_name=pki SSL enabled`));

    const noCert = pki(['list', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: `postgres://pki@127.0.0.1:${tlsServer.server.port}/${database}?${tls}` }) });
    expectOneLineError(noCert, 1);
    expect(noCert.stderr).toMatch(/connection requires a valid client certificate/);
    const otherCa = pki(['list', '--dir', dir], {
      env: cleanEnv({ PKI_DATABASE_URL: url.replace(`sslrootcert=${join(certs, 'ca.crt')}`, `sslrootcert=${join(dir, 'ca', 'root_ca.crt')}`) }),
    });
    expectOneLineError(otherCa, 1);
    expect(otherCa.stderr).toMatch(/TLS: .*(self-signed|unable to verify|certificate)/i);
    const plain = pki(['list', '--dir', dir], { env: cleanEnv({ PKI_DATABASE_URL: `postgres://pki@127.0.0.1:${tlsServer.server.port}/${database}` }) });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "pki".*no encryption/);
  });
});

describe('the database stopped in the middle of a run', () => {
  let own: TlsPostgres | undefined;
  afterAll(async () => {
    await own?.server.stop();
  });

  it('commands in flight end with one error line each, and no bundle is half recorded', async () => {
    own = await startPostgres({ prefix: 'pki-postgres-stop-' });
    const database = createDatabase(own);
    const env = cleanEnv({ PKI_DATABASE_URL: urlOf(database, 'postgres', own) });
    const dir = join(tempDir(), 'ca');
    expect(pki(['init', '--no-password', '--insecure', '--dir', dir], { env }).code).toBe(0);
    const services = Array.from({ length: 8 }, (_, i) => `svc${i}`);
    const runs: Promise<{ code: number; stderr: string }>[] = [];
    for (const service of services) {
      runs.push(pkiAsync(['generate', service, 'main', '--dir', dir], { env }));
      await new Promise((r) => setTimeout(r, 120));
    }
    await own.server.stop(); // fast shutdown: connections in use are ended by the server
    const results = await Promise.all(runs);
    for (const r of results) {
      if (r.code === 0) continue;
      expectOneLineError(r, 1);
      expect(r.stderr).toMatch(/PostgreSQL inventory postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+/);
    }
    await own.restart();
    // Each bundle's two certificates (the service's and its client's) were recorded together or not at all.
    const counts = psql(own, `SELECT subject, count(*) FROM certificates WHERE profile IN ('peer', 'client') GROUP BY 1`, database);
    const recorded = new Map(counts.trim().split('\n').filter(Boolean).map((l) => l.split('|') as [string, string]));
    const peers = [...recorded.keys()].filter((s) => s !== 'CN=client');
    expect(Number(recorded.get('CN=client') ?? 0)).toBe(peers.length);
    for (const [i, service] of services.entries()) {
      if (results[i]!.code === 0) expect(recorded.get(`CN=${service}`), service).toBe('1');
    }
  }, 120_000);
});

describe('parallel issuers on one PostgreSQL inventory', () => {
  it('4 issuers × 6 commands from two CA home copies, with revokes and CRL publications: nothing lost or doubled, CRL Numbers strictly increasing', () => {
    const database = createDatabase(server);
    const script = resolve(import.meta.dirname, '../../scripts/concurrency.mjs');
    let out: string;
    try {
      out = execFileSync(process.execPath, [script, '--n', '4', '--m', '6', '--homes', '2', '--json'], {
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, PKI_DATABASE_URL: urlOf(database) },
      });
    } catch (e) {
      out = (e as { stdout: string }).stdout;
    }
    const figures = JSON.parse(out) as Record<string, unknown>;
    expect(figures).toMatchObject({
      backend: 'postgres',
      homes: 2,
      certificatesExpected: 36,
      inventoryRows: 36,
      lostRows: 0,
      extraRows: 0,
      duplicateRows: 0,
      duplicateSerials: 0,
      rowsNotMatchingFile: 0,
      integrityCheck: 'ok',
      duplicateCrlNumbers: 0,
      publisherCrlNumbersNotIncreasing: 0,
      publishedCrlNumberIsHighest: true,
      revokedMissingFromCrl: 0,
      failedCommands: 0,
      busyErrors: 0,
      ok: true,
    });
    expect(figures.crlPublications as number).toBeGreaterThan(1);
    expect(Number(psql(server, `SELECT count(*) FROM certificates WHERE profile NOT IN ('root', 'intermediate')`, database).trim())).toBe(36);
  }, 320_000);
});
