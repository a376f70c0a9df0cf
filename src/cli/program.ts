/**
 * The command line's shape: every command, its flags and help are declared here (cli/main.ts runs it);
 * each action lazily imports its module from `commands/`, so `pki --version` loads no crypto, zod or SQLite.
 * Commands are registered in the order `pki --help` lists them.
 */
import { Command } from 'commander';
import { commandNow } from './clock.js';
import { PkiError } from '../core/errors.js';
import { addDiagnoseCommands } from './program-diagnose.js';
import { addHelpExamples } from './help-examples.js';
import { addUseCommands } from './program-use.js';
import { addServeCommands } from './program-serve.js';
import { addCaCommands } from './program-ca.js';
import { collect, globals, packageVersion } from './program-options.js';

/** Flags shared by every command that makes a key (step CLI's names). */
function addKeyOptions(cmd: Command): Command {
  return cmd
    .option('--kty <type>', 'key type: EC, RSA or OKP (default from pki.json, else EC)')
    .option('--crv <curve>', 'curve: P-256, P-384 (EC) or Ed25519 (OKP)')
    .option('--size <bits>', 'RSA key size: 2048, 3072 or 4096');
}

/** Flags for commands that open or create encrypted CA keys. */
function addPasswordOptions(cmd: Command): Command {
  return cmd.option('--password-file <file>', 'read the CA key passphrase from FILE (one trailing newline is ignored)');
}


/** `pki init --help`: what init writes and the pki.json fields set by hand afterwards (docs/configuration.md). */
const INIT_HELP_AFTER = `
Writes pki.json, ca/ (root and intermediate CA), db/pki.sqlite and crl/ (root_ca.crl, intermediate_ca.crl and
chain.crl.pem, the file for nginx ssl_crl / PostgreSQL ssl_crl_file).

Set by hand in pki.json afterwards (every field: docs/configuration.md):
  "crl": {
    "distributionPoints": ["http://pki.example.com/intermediate_ca.crl"],  stamped as CRL Distribution Points
                                  into every leaf issued afterwards (sign, generate, renew); at most 4 http(s) URLs
    "nextUpdate": "7d",           lifetime of the intermediate's CRL (pki crl, revoke, renew --all, crl --if-due)
    "rootNextUpdate": "1y"        lifetime of the root's CRL (init, pki crl --root)
  },
  "ocsp": { "urls": ["http://ocsp.example.com"] }  stamped as Authority Information Access (OCSP) into every
                                  leaf issued afterwards; pki runs no OCSP responder (db export-index feeds openssl ocsp)
Certificates issued before a change keep what they were issued with.`;

/** `pki generate --help`: what --init does on an empty home and on one that already has a CA. */
const GENERATE_HELP_AFTER = `
With --init, one command from nothing (as mkcert's first run): on a CA home without pki.json, the root and
intermediate CA are created first, as "pki init" would with its defaults (name "pki", root 10y, intermediate
5y), their keys of --kty/--crv/--size and protected by --password-file / PKI_PASSWORD / a prompt (or
--no-password with the global --insecure); the bundle is then issued from them in the same run. On a home
that already has a CA, --init changes nothing about it: the bundle is issued from the existing CA (step and
mkcert do the same); replacing a CA is "pki init --force". Without --init, a home without a CA is refused.`;

export function buildProgram(): Command {
  const program = new Command('pki');
  program
    .description('A certificate authority manager: two-tier CA, service bundles for mutual TLS, CRLs, renewal, OpenSSH certificates.')
    .version(packageVersion(), '-V, --version')
    .option('--dir <dir>', 'the CA home (env PKI_DIR)', undefined)
    .option('--json', 'print exactly one JSON document on stdout')
    .option('-q, --quiet', 'no progress or success messages (data from list, inspect, sign still prints)')
    .option('--debug', 'show stack traces for internal errors')
    // Global, so that `pki init --no-password --insecure` and `pki list --insecure` both reach it.
    .option('--insecure', 'warn instead of refusing a CA home with unsafe modes, owners or links; allows --no-password at init')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addSetupCommands(program);
  addSshCommands(program);
  addLifecycleCommands(program);
  addInventoryCommands(program);
  addCaCommands(program);
  addDiagnoseCommands(program);
  addUseCommands(program);
  addServeCommands(program);
  addHelpExamples(program);
  return program;
}

/** init, generate and inspect: setting a CA home up, issuing bundles, reading any PKI file. */
function addSetupCommands(program: Command): void {
  addPasswordOptions(
    addKeyOptions(
      program
        .command('init')
        .description('create a root CA and an intermediate CA in the CA home')
        .option('--name <name>', 'CA name used in both subjects', 'pki')
        .option('--root-not-after <time>', 'root lifetime: duration (10y) or RFC 3339 time', '10y')
        .option('--intermediate-not-after <time>', 'intermediate lifetime', '5y')
        .option('--permit-dns <domain>', 'name constraint stamped into the intermediate: only this domain and names under it (repeatable)', collect, [])
        .option('--exclude-dns <domain>', 'name constraint: never this domain or names under it (repeatable)', collect, [])
        .option('--permit-ip <cidr>', 'name constraint: only IP addresses in this block, e.g. 10.0.0.0/8 (repeatable)', collect, [])
        .option('--exclude-ip <cidr>', 'name constraint: never IP addresses in this block (repeatable)', collect, [])
        .option('--no-password', 'store the CA keys unencrypted (needs the global --insecure: throw-away CAs, CI)')
        .option('--kms <uri>', "generate both CA keys on a PKCS#11 token, never extractable: 'pkcs11:token=LABEL?module-path=/path/lib.so&pin-source=file:/path/pin' (docs/operations.md)")
        .option('--force', 'replace an existing CA (certificates issued so far stop chaining)')
        .option('--import-ca <cert>', 'adopt an existing self-signed CA (e.g. a flat openssl ca.crt) as the root; a new intermediate is made under it (docs/import.md)')
        .option('--import-key <key>', 'the private key of --import-ca (may be encrypted: opened with --password-file / PKI_PASSWORD / a prompt)')
        .option('--import-index <file>', "with --import-ca: an openssl index.txt (and newcerts/ beside it) whose serials and revocations the inventory takes over")
        .addHelpText('after', INIT_HELP_AFTER),
    ),
  ).action(async (opts, cmd: Command) => {
    const { runInit } = await import('./commands/init.js');
    const g = globals(cmd);
    const given = { name: cmd.getOptionValueSource('name') === 'cli', rootNotAfter: cmd.getOptionValueSource('rootNotAfter') === 'cli' };
    await runInit({ ...opts, insecure: g.insecure, given }, g, commandNow());
  });

  addGenerateCommand(program);

  program
    .command('inspect')
    .description('describe certificates, requests, CRLs, keys, OpenSSH keys/certificates and KRLs (PEM or DER), and PKCS#12 files (with their password)')
    .argument('[file]', 'file to inspect ("-" for standard input)')
    .option('--password-file <file>', 'a PKCS#12 file\'s password (else PKI_P12_PASSWORD, else a prompt on a TTY)')
    .option('--tls <target>', 'connect to HOST:PORT or https://host[:port] and describe what the server presents, with the verify verdict')
    .option('--servername <name>', 'with --tls: the SNI name to send (default: the host)')
    .option('--cert <file>', 'with --tls: present this client certificate')
    .option('--key <file>', 'with --tls: the client certificate\'s key')
    .option('--roots <file>', 'with --tls: trust anchors for the verdict (repeatable; default as pki verify)', collect, [])
    .option('--timeout <duration>', 'with --tls: give up connecting and handshaking after this long', '5s')
    .option('--starttls <protocol>', 'with --tls: upgrade a plain connection first: postgres or smtp')
    .option('--no-verify', 'with --tls: show the chain without a verdict (exit 0 whenever the handshake completes)')
    .addHelpText('after', '\nWith --tls (docs/inspect-tls.md):\n  pki inspect --tls db.internal:5432 --starttls postgres\n  pki inspect --tls https://10.0.0.5:8443 --servername api.internal --cert client.crt --key client.key\nExit 0: handshake done and the verdict valid (or --no-verify); 1: invalid, or the connection or handshake failed.')
    .action(async (file: string | undefined, opts, cmd: Command) => {
      const g = globals(cmd);
      if (opts.tls !== undefined) {
        const { runInspectTls } = await import('./commands/inspect-tls.js');
        await runInspectTls(opts.tls, file, opts, g, commandNow());
        return;
      }
      if (file === undefined) throw new PkiError('ERR_USAGE', 'inspect needs a file, or --tls HOST:PORT', { hint: 'pki inspect FILE, or pki inspect --tls db.internal:5432' });
      const { runInspect } = await import('./commands/inspect.js');
      await runInspect(file, g, commandNow(), { passwordFile: opts.passwordFile });
    });
}

/** `pki generate`: its own function, as its flags are many. */
function addGenerateCommand(program: Command): void {
  addPasswordOptions(
    addKeyOptions(
      program
        .command('generate')
        .description('issue a service bundle: trust anchor, server certificate and key, client certificates and keys; on an existing bundle, add new clients and apply changed SANs or --not-after without new keys')
        .argument('<service>', 'service name, e.g. redis')
        .argument('<variant>', 'variant name, e.g. main')
        .option('--san <name>', 'extra subject alternative name (repeatable)', collect, [])
        .option('--profile <name>', 'profile of the server certificate: server, client, peer or one from pki.json "profiles" (default: peer); clients get "client"')
        .option('--client <name>', 'client certificate to issue (repeatable; default: one named "client")', collect, [])
        .option('--no-client', 'issue no client certificates')
        .option('--not-after <time>', 'lifetime: duration (90d) or RFC 3339 time')
        .option('--not-before <time>', 'start of validity (default: now minus 1 minute)')
        .option('--out <dir>', 'parent folder of <service>/<variant>/certs (default: <dir>/services)')
        .option('--key-mode <mode>', 'permission bits for the private keys', '0600')
        .option('--group <group>', 'group that owns the private keys (with --key-mode 0640)')
        .option('--force', 're-issue the whole bundle with new keys (clients not listed are dropped)')
        .option('--init', 'on a CA home without a CA, create the root and intermediate first (as pki init with its defaults; --kty/--crv/--size and the passphrase flags apply to the CA keys too); an existing CA is used as it is')
        .option('--ca <name>', 'issue from this issuing CA (made by pki ca add; default: the default intermediate)')
        .option('--trust-domain <name>', "issue from the trust domain's own root and intermediate (domains/<name>/, created on first use): the bundle's ca.crt admits only that domain's clients")
        .option('--no-password', 'with --init or a new --trust-domain: store the new CA keys unencrypted (needs the global --insecure: throw-away CAs, CI)')
        .addHelpText('after', GENERATE_HELP_AFTER),
    ),
  ).action(async (service: string, variant: string, opts, cmd: Command) => {
    const { runGenerate } = await import('./commands/generate.js');
    await runGenerate(service, variant, opts, globals(cmd), commandNow());
  });
}

/** ssh init, sign, revoke, krl: the OpenSSH CAs. */
function addSshCommands(program: Command): void {
  const ssh = program.command('ssh').description('OpenSSH certificates: user and host CAs, signing, KRL revocation');
  addPasswordOptions(
    ssh
      .command('init')
      .description('create the SSH user CA and host CA under <dir>/ssh/ (Ed25519 unless --kty says otherwise)')
      .option('--kty <type>', 'key type: OKP (Ed25519, default), EC or RSA')
      .option('--crv <curve>', 'curve: Ed25519 (OKP) or P-256, P-384, P-521 (EC)')
      .option('--size <bits>', 'RSA key size, at least 3072')
      .option('--no-password', 'store the SSH CA keys unencrypted (needs the global --insecure: throw-away CAs, CI)')
      .option('--kms <uri>', 'generate both SSH CA keys on a PKCS#11 token (ECDSA P-256 unless --kty says otherwise): pkcs11:token=LABEL?module-path=…&pin-source=file:…')
      .option('--force', 'replace existing SSH CAs (certificates issued so far stop being trusted)'),
  ).action(async (opts, cmd: Command) => {
    const { runSshInit } = await import('./commands/ssh-init.js');
    const g = globals(cmd);
    await runSshInit({ ...opts, insecure: g.insecure }, g, commandNow());
  });

  addPasswordOptions(
    ssh
      .command('sign')
      .description('issue an OpenSSH certificate for a public key, written as <key>-cert.pub next to it')
      .argument('<public-key-file>', 'the OpenSSH public key (.pub) to certify')
      .option('--user', 'a user certificate (sshd checks it against TrustedUserCAKeys)')
      .option('--host', 'a host certificate (clients check it against @cert-authority)')
      .option('--principal <name>', 'account (user) or host name (host) the certificate is valid for (repeatable)', collect, [])
      .option('--any-principal', 'issue without principals: valid for every account or host name the CA is trusted for')
      .option('--key-id <id>', 'key id shown in sshd logs (default <principal>@<time>)')
      .option('--not-after <time>', 'end of validity: duration or RFC 3339 time (user 16h, host 7d)')
      .option('--not-before <time>', 'start of validity (default 5 minutes ago, for clock skew)')
      .option('--no-pty', 'user certificates: do not permit a terminal')
      .option('--no-port-forwarding', 'user certificates: do not permit port forwarding')
      .option('--no-agent-forwarding', 'user certificates: do not permit agent forwarding')
      .option('--no-x11-forwarding', 'user certificates: do not permit X11 forwarding')
      .option('--no-user-rc', 'user certificates: do not run ~/.ssh/rc')
      .option('--force-command <command>', 'user certificates: the only command the certificate may run')
      .option('--source-address <cidrs>', 'user certificates: CIDR list the certificate is accepted from (repeatable)', collect, [])
      .option('--out <file>', 'where to write the certificate (default <key>-cert.pub)')
      .option('--force', 'replace an existing certificate file'),
  ).action(async (file: string, opts, cmd: Command) => {
    const { runSshSign } = await import('./commands/ssh-sign.js');
    await runSshSign(file, opts, globals(cmd), commandNow());
  });

  ssh
    .command('revoke')
    .description('revoke SSH certificates and rewrite the KRL (<dir>/ssh/revoked_keys)')
    .argument('<target>', 'a -cert.pub file, a serial (decimal as ssh-keygen -L and pki list print it, or 0x… hex) or a key id')
    .option('--reason <reason>', 'revocation reason recorded in the inventory (RFC 5280 names, e.g. keyCompromise)')
    .action(async (target: string, opts, cmd: Command) => {
      const { runSshRevoke } = await import('./commands/ssh-revoke.js');
      await runSshRevoke(target, opts, globals(cmd), commandNow());
    });

  ssh
    .command('krl')
    .description('rewrite <dir>/ssh/revoked_keys, the KRL for sshd RevokedKeys, from the inventory')
    .action(async (_opts, cmd: Command) => {
      const { runSshKrl } = await import('./commands/ssh-krl.js');
      await runSshKrl(globals(cmd), commandNow());
    });
}

/** renew, sign, revoke, crl: a certificate's life after it is issued (and CSRs from elsewhere). */
function addLifecycleCommands(program: Command): void {
  addPasswordOptions(
    program
      .command('renew')
      .description('re-issue certificates that are due: same subject, SANs and profile, new serial and validity, in place')
      .argument('[cert-file]', 'certificate to renew (a bundle file such as certs/redis.crt, or a file from pki sign --out)')
      .argument('[key-file]', 'its private key (default: the .key beside a bundle certificate)')
      .option('--all', 'renew every due certificate in the inventory, at the paths it records (for cron)')
      .option('--ca <name>', 'only certificates this issuing CA issued (default, or a pki ca add name); a certificate is always renewed by the CA that issued it')
      .option('--trust-domain <name>', "only certificates of this trust domain (renewed by the domain's intermediate, as always)")
      .option('--rekey', 'make a new key of the same type (bundle layout only: cert and key switch together)')
      .option('--profile <name>', 'switch to this named profile (default: the one the certificate was issued with)')
      .option('--force', 'renew even when not due')
      .option('--threshold <fraction>', 'due once this fraction of the lifetime has passed (default: two thirds)')
      .option('--expires-in <duration>', 'due when the certificate expires within this duration, e.g. 30d')
      .option('--not-after <time>', 'new lifetime: duration (90d) or RFC 3339 time (default: as long as the old one)')
      .option('--exec <command>', 'run this command through sh -c once after at least one renewal or a re-published CRL (with --daemon: after each renewal), e.g. "systemctl reload redis"')

      .option('--san <name>', 'add this subject alternative name to the renewed certificate (repeatable; renews even when not due)', collect, [])
      .option('--prune', 'with --all: stop tracking certificates whose recorded file is gone (marked superseded; reported as missing otherwise)')
      .option('--daemon', 'keep running: renew each watched certificate at its threshold (with jitter), retry with backoff, stop on SIGTERM')
      .option('--ca-url <url>', 'with --daemon: renew against pki serve over mutual TLS (POST /1.0/renew) instead of with the local CA key')
      .option('--roots <file>', 'with --ca-url: the root certificate(s) the server is verified against'),
  ).action(async (certFile: string | undefined, keyFile: string | undefined, opts, cmd: Command) => {
    const { runRenew } = await import('./commands/renew.js');
    await runRenew(certFile, keyFile, opts, globals(cmd), commandNow());
  });

  addPasswordOptions(
    program
      .command('sign')
      .description('sign certification requests (PEM or DER) with the intermediate CA; one request prints the chain to stdout')
      .argument('<csr-file...>', 'request files made by openssl req, certtool or pki')
      .option('--profile <profile>', 'server, client, peer (EKU serverAuth, clientAuth or both) or a profile from pki.json "profiles"', 'server')
      .option('--not-after <time>', 'lifetime: duration (90d) or RFC 3339 time (default pki.json validity.leaf)')
      .option('--not-before <time>', 'start of validity (default: now minus 1 minute)')
      .option('--san <name>', 'extra subject alternative name (repeatable)', collect, [])
      .option('--out <file>', 'write leaf + intermediate chain to FILE (one request)')
      .option('--out-dir <dir>', 'write <name>.crt per request into DIR (several requests)')
      .option('--ca <name>', 'sign with this issuing CA (made by pki ca add; default: the default intermediate)')
      .option('--trust-domain <name>', "sign with the trust domain's intermediate (domains/<name>/; made by pki generate --trust-domain)")
      .option('--force', 'replace existing output files'),
  ).action(async (files: string[], opts, cmd: Command) => {
    const { runSign } = await import('./commands/sign.js');
    await runSign(files, opts, globals(cmd), commandNow());
  });

  addPasswordOptions(
    program
      .command('revoke')
      .description('revoke a certificate by serial or file, and re-publish the CRL at once')
      .argument('<serial-or-file>', 'serial as pki list / openssl x509 -serial print it (colons, 0x, any case), or the certificate file')
      .option('--reason <reason>', 'RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn', 'unspecified'),
  ).action(async (target: string, opts, cmd: Command) => {
    const { runRevoke } = await import('./commands/revoke.js');
    await runRevoke(target, opts, globals(cmd), commandNow());
  });

  addPasswordOptions(
    program
      .command('crl')
      .description('publish <dir>/crl/intermediate_ca.crl from the inventory, with the next CRL Number, and crl/chain.crl.pem (root + intermediate CRL, for nginx ssl_crl / PostgreSQL ssl_crl_file)')
      .option('--next-update <duration>', 'CRL lifetime (default pki.json crl.nextUpdate, else 7d; with --root crl.rootNextUpdate, else 1y)')
      .option('--der', 'also write intermediate_ca.crl.der')
      .option('--if-due', 'publish only when the current CRL is within a third of its lifetime of nextUpdate (for cron; "not due" exits 0)')
      .option('--root', "re-sign the root's CRL crl/root_ca.crl (revoked intermediates) with the root key, brought back for this step")
      .option('--ca <name>', "this issuing CA's CRL instead (crl/<name>.crl, made by pki ca add)")
      .option('--trust-domain <name>', "the trust domain's CRLs instead (domains/<name>/crl/)"),
  ).action(async (opts, cmd: Command) => {
    const { runCrl } = await import('./commands/crl.js');
    await runCrl(opts, globals(cmd), commandNow());
  });
}

/** list and db: reading and repairing the inventory. */
function addInventoryCommands(program: Command): void {
  program
    .command('list')
    .description('the inventory: valid certificates by default, expired and soon-expiring ones highlighted')
    .option('--expiring <duration>', 'only certificates expiring within DURATION (e.g. 30d)')
    .option('--revoked', 'only revoked certificates')
    .option('--all', 'every certificate: valid, expired, revoked and superseded')
    .action(async (opts, cmd: Command) => {
      const { runList } = await import('./commands/list.js');
      await runList(opts, globals(cmd), commandNow());
    });

  const db = program.command('db').description('the inventory database: rebuild it from disk, export it for OpenSSL tools');
  db.command('rebuild')
    .description('recreate missing inventory records from the certificates on disk and the current CRL')
    .action(async (_opts, cmd: Command) => {
      const { runDbRebuild } = await import('./commands/db.js');
      await runDbRebuild(globals(cmd), commandNow());
    });
  db.command('migrate')
    .description('copy the inventory to another backend, losslessly, checked by counts and checksums: --to postgres://… or --to sqlite')
    .requiredOption('--to <target>', 'postgres://user@host:port/db?sslmode=verify-full (password from PGPASSWORD, ~/.pgpass or PKI_DATABASE_PASSWORD_FILE), or sqlite')
    .option('--force', 'replace a target that already holds records')
    .action(async (opts, cmd: Command) => {
      const { runDbMigrate } = await import('./commands/db-migrate.js');
      await runDbMigrate(opts, globals(cmd), commandNow());
    });
  db.command('export-index')
    .description('write an OpenSSL-compatible index.txt (for openssl ca / openssl ocsp -index)')
    .option('--out <file>', 'write to FILE (plus FILE.attr) instead of standard output')
    .option('--force', 'replace FILE and FILE.attr when they exist')
    .action(async (opts, cmd: Command) => {
      const { runDbExportIndex } = await import('./commands/db.js');
      await runDbExportIndex(opts, globals(cmd), commandNow());
    });
}
