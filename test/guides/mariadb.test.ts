/**
 * docs/guides/mariadb.md, run as written (issue 12, point 5 and Done-means 3): the guide's blocks make the
 * CA and the bundle; MariaDB 10.11 is started with the guide's 60-tls.cnf block as its only option file
 * (`${PKI_DIR}` filled with the test's CA home), on 127.0.0.1 and a free port passed as $PORT, as the
 * mysql user. A REQUIRE X509 and a REQUIRE SUBJECT account log in with --ssl-verify-server-cert; without a
 * client certificate, with another CA's, with a host name not in the SANs (and with the wrong subject, and
 * without TLS) the client fails, each with its own error.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki } from '../helpers/cli.js';
import { expectEveryBlockRun, guideFile, guideWorkdir, loadGuide, runGuideBlock, type BlockResult } from '../helpers/guides.js';
import { startMariaDb, type MariaDb } from '../helpers/mariadb.js';
import { peer, runPeer } from '../helpers/peers.js';

describe('docs/guides/mariadb.md against MariaDB (REQUIRE X509, REQUIRE SUBJECT, --ssl-verify-server-cert)', () => {
  const guide = loadGuide('mariadb.md');
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  let db: MariaDb | undefined;
  const run = (name: string) => runGuideBlock(guide, name, { cwd: work, env });
  const fail = (name: string): BlockResult => runGuideBlock(guide, name, { cwd: work, env, expectFailure: true });

  /** A failing block run again with the client pinned to TLS 1.2 (~/.my.cnf), where a refused client certificate is always an alert. */
  const failPinnedToTls12 = (name: string): BlockResult => {
    const home = join(work, 'tls12-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.my.cnf'), '[client]\ntls-version=TLSv1.2\n');
    return runGuideBlock(guide, name, { cwd: work, env: { ...env, HOME: home }, expectFailure: true });
  };

  beforeAll(() => {
    work = guideWorkdir('mariadb');
    chmodSync(work, 0o755); // as /srv is: the mysql user must reach the bundle below it
    env = { PKI_DIR: join(work, 'pki'), PORT: undefined };
  });

  afterAll(async () => {
    await db?.server.stop();
  });

  it('makes the CA and the bundle: root:mysql 0640 keys; the subject and issuer strings the accounts name', () => {
    run('ca');
    run('bundle');
    const key = statSync(join(work, 'pki/services/mariadb/main/certs/mariadb.key'));
    expect({ mode: key.mode & 0o777, uid: key.uid, gid: key.gid }).toEqual({ mode: 0o640, uid: 0, gid: Number(peer('id', ['-g', 'mysql']).trim()) });
    expect(run('subject').stdout).toBe('subject=/CN=reporting\nissuer=/CN=pki Intermediate CA\n');
    expect(guide.blocks.get('users')!.script).toContain("REQUIRE SUBJECT '/CN=reporting' AND ISSUER '/CN=pki Intermediate CA'");
  });

  it("MariaDB starts with the guide's 60-tls.cnf; the accounts are created; both log in with their certificates", async () => {
    const cnf = guideFile(guide, '60-tls.cnf', { PKI_DIR: env.PKI_DIR! });
    expect(cnf).toMatch(/^\[mariadbd\]$/m);
    expect(cnf).toMatch(/^require_secure_transport = ON$/m);
    const cnfFile = join(work, '60-tls.cnf');
    writeFileSync(cnfFile, cnf);
    db = await startMariaDb({ defaultsFile: cnfFile, prefix: 'pki-guide-mariadb-' });
    const tls = db.sql("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('have_ssl', 'ssl_crl')");
    expect(tls.stdout).toMatch(/^have_ssl\tYES$/m);
    expect(tls.stdout).toContain(`ssl_crl\t${join(env.PKI_DIR!, 'crl/chain.crl.pem')}`);
    env = { ...env, PORT: String(db.server.port), HOME: db.clientHome }; // ~/.my.cnf: the socket, as `sudo mariadb` finds it
    run('users');
    expect(db.sql("SELECT user, ssl_type, x509_subject, x509_issuer FROM mysql.user WHERE user IN ('app', 'reporting') ORDER BY user").stdout).toBe(
      'User\tssl_type\tx509_subject\tx509_issuer\napp\tX509\t\t\nreporting\tSPECIFIED\t/CN=reporting\t/CN=pki Intermediate CA\n',
    );
    run('client-files');
    const r = run('connect');
    expect(r.stdout).toBe('1\n1\nCURRENT_USER()\nreporting@%\n');
  });

  it('refuses a login without a client certificate (REQUIRE X509): ERROR 1045 Access denied', () => {
    const r = fail('fail-no-client-cert');
    expect(r.stderr).toMatch(/^ERROR 1045 \(28000\): Access denied for user 'app'@'127\.0\.0\.1' \(using password: NO\)$/m);
    expect(r.stdout).toBe('');
  });

  it("refuses app's certificate for the REQUIRE SUBJECT '/CN=reporting' account: ERROR 1045 Access denied", () => {
    const r = fail('fail-wrong-subject');
    expect(r.stderr).toMatch(/^ERROR 1045 \(28000\): Access denied for user 'reporting'@'127\.0\.0\.1'/m);
    expect(r.stdout).toBe('');
  });

  it('refuses a client certificate from another CA (same CN): the server ends the handshake, "tlsv1 alert unknown ca"', async () => {
    run('other-ca');
    // TLS 1.3: the server judges the client certificate after the client's Finished, so the client may be
    // sending its login already when the alert comes, and sees the connection reset instead (either message).
    const r = fail('fail-other-ca');
    expect(r.stderr).toMatch(/^ERROR (2026 \(HY000\): TLS\/SSL error: tlsv1 alert unknown ca|2013 \(HY000\): Lost connection to server at 'sending authentication information', system error: 104)$/m);
    expect(r.stdout).toBe('');
    // Pinned to TLS 1.2 (the client's option file), the verdict arrives inside the handshake: always the alert.
    expect(failPinnedToTls12('fail-other-ca').stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: tlsv1 alert unknown ca$/m);
    expect(db!.server.child.exitCode, 'mariadbd is still running').toBeNull();
    await db!.server.log.waitFor(/Aborted connection \d+ to db: 'unconnected' user: 'unauthenticated' host: '127\.0\.0\.1'/);
  });

  it('refuses a server name the certificate does not carry (127.1): "Validation of SSL server certificate failed"', () => {
    const r = fail('fail-wrong-name');
    expect(r.stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: Validation of SSL server certificate failed$/m);
    expect(r.stdout).toBe('');
  });

  it('as the guide says, require_secure_transport refuses TCP without TLS even for an account with no password and no REQUIRE', () => {
    expect(db!.sql("CREATE USER 'open'@'%'").status).toBe(0);
    const login = (tls: readonly string[]) => runPeer('mariadb', [...tls, '-h', '127.0.0.1', '-P', env.PORT!, '-u', 'open', '-e', 'SELECT CURRENT_USER()'], { env: { PATH: process.env.PATH, HOME: db!.clientHome } });
    const plain = login(['--skip-ssl']);
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/^ERROR 1045 \(28000\): Access denied for user 'open'@'127\.0\.0\.1' \(using password: NO\)$/m);
    const tls = login(['--ssl', `--ssl-ca=${join(work, 'client/ca.crt')}`]);
    expect(tls.stderr).toBe('');
    expect(tls.stdout).toBe('CURRENT_USER()\nopen@%\n');
  });

  it('refuses app once revoked and FLUSH SSL: "certificate revoked" (ssl_crl crl/chain.crl.pem)', () => {
    run('revoke');
    const r = fail('fail-revoked');
    expect(r.stderr).toMatch(/^ERROR (2026 \(HY000\): TLS\/SSL error: sslv3 alert certificate revoked|2013 \(HY000\): Lost connection to server at 'sending authentication information', system error: 104)$/m);
    expect(failPinnedToTls12('fail-revoked').stderr).toMatch(/^ERROR 2026 \(HY000\): TLS\/SSL error: sslv3 alert certificate revoked$/m);
  });

  it('as the guide warns, a bundle without --key-mode 0640 --group mysql stops mariadbd at startup', async () => {
    const g = pki(['generate', 'mariadb', 'nogroup', '--client', 'app', '--dir', env.PKI_DIR!, '--password-file', join(work, 'ca.pass')]);
    expect(g.code, g.stderr).toBe(0);
    const cnfFile = join(work, '60-tls-nogroup.cnf');
    writeFileSync(cnfFile, guideFile(guide, '60-tls.cnf', { PKI_DIR: env.PKI_DIR! }).replaceAll('/mariadb/main/', '/mariadb/nogroup/'));
    await expect(startMariaDb({ defaultsFile: cnfFile, prefix: 'pki-guide-mariadb-nogroup-' })).rejects.toThrow(
      /SSL error: Unable to get private key from '.*\/mariadb\/nogroup\/certs\/mariadb\.key'/,
    );
  });

  it('ran every runnable block of the guide', () => {
    expectEveryBlockRun(guide);
  });
});
