/**
 * Real ACME clients driven against an ACME directory (pebble or `pki serve`): one function per client, each
 * taking the same AcmeRun and returning the certificate it obtained. The clients are Debian's certbot, lego,
 * dehydrated and caddy (child processes, bounded by a deadline, killed by PID) and acme-client from npm (in
 * process). Everything stays on 127.0.0.1: the ACME server resolves the requested names to 127.0.0.1 and
 * validates on `httpPort` / `tlsPort`, where the client (or a server this harness starts) answers.
 * The exact invocations are the ones docs/serve.md "Clients" shows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import { Agent } from 'node:https';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirePeer } from './peers.js';
import { OutputLog, stopProcess } from './process.js';

export interface AcmeRun {
  readonly directoryUrl: string;
  /** The root the client trusts for the ACME server's HTTPS certificate (PEM file). */
  readonly rootPem: string;
  /** Where the ACME server validates http-01 and tls-alpn-01 (its --acme-http-port / pebble's httpPort). */
  readonly httpPort: number;
  readonly tlsPort: number;
  readonly names: readonly string[];
  /** A fresh folder owned by this client (its config, account, keys and certificates). */
  readonly workDir: string;
  /** A loopback DNS server (`127.0.0.1:PORT`) for clients that resolve (lego --dns.resolvers). */
  readonly dnsResolver?: string;
  /** Hang guard for the whole client run (default 120 s). */
  readonly timeoutMs?: number;
  /** Called with the child once a client process is running (restart tests watch and kill the server meanwhile). */
  readonly onSpawn?: (log: OutputLog) => void;
}

export interface ClientCertificate {
  /** The leaf alone, PEM. */
  readonly leafPem: string;
  /** What the client stored as the chain: leaf first, then the intermediate(s). */
  readonly fullchainPem: string;
  /** The client's own output (for failure messages). */
  readonly log: string;
}

export interface ClientRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly log: string;
}

export const CLIENT_RUN_MS = 120_000;

/** A minimal environment for a client: no variable of the test process leaks (no passphrase, no proxy). */
function clientEnv(run: AcmeRun, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: run.workDir, LANG: 'C.UTF-8', ...extra };
}

/** Runs a client to its exit, bounded by the run's deadline (SIGKILL by PID when it hangs). */
export async function runClient(program: string, args: readonly string[], run: AcmeRun, env: NodeJS.ProcessEnv, cwd = run.workDir): Promise<ClientRun> {
  const child = spawn(program, args as string[], { stdio: ['ignore', 'pipe', 'pipe'], env, cwd });
  const log = new OutputLog(child.stdout, child.stderr);
  run.onSpawn?.(log);
  const timeoutMs = run.timeoutMs ?? CLIENT_RUN_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopProcess(child, 2_000, 'SIGKILL');
  }, timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  await new Promise((r) => setImmediate(r));
  const name = program.split('/').pop();
  if (timedOut) throw new Error(`${name} ${args.join(' ')} did not exit within ${timeoutMs} ms (killed); output:\n${log.tail(40)}`);
  return { ...exit, log: `$ ${name} ${args.join(' ')}\n${log.text}` };
}

function expectSuccess(r: ClientRun, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${r.log.split('\n').slice(-60).join('\n')}`);
}

/** Splits a PEM chain file into its certificates. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((c) => (c.endsWith('\n') ? c : `${c}\n`)) ?? [];
}

function fromChainFile(path: string, log: string): ClientCertificate {
  const fullchainPem = readFileSync(path, 'utf8');
  const certs = pemCertificates(fullchainPem);
  if (certs.length === 0) throw new Error(`${path} holds no certificate:\n${log}`);
  return { leafPem: certs[0]!, fullchainPem, log };
}

// ---------------------------------------------------------------- certbot

function certbotArgs(run: AcmeRun): string[] {
  return ['--config-dir', join(run.workDir, 'config'), '--work-dir', join(run.workDir, 'work'), '--logs-dir', join(run.workDir, 'logs'), '--non-interactive'];
}

/** `certbot certonly --standalone` on 127.0.0.1:httpPort; REQUESTS_CA_BUNDLE trusts the server. */
export async function certbotCertonly(run: AcmeRun): Promise<ClientCertificate> {
  const args = [
    'certonly', '--standalone', '--preferred-challenges', 'http', '--http-01-port', String(run.httpPort), '--http-01-address', '127.0.0.1',
    '--server', run.directoryUrl, '--agree-tos', '--register-unsafely-without-email', ...certbotArgs(run), ...run.names.flatMap((n) => ['-d', n]),
  ];
  const r = await runClient(requirePeer('certbot'), args, run, clientEnv(run, { REQUESTS_CA_BUNDLE: run.rootPem }));
  expectSuccess(r, 'certbot certonly');
  return fromChainFile(join(run.workDir, 'config', 'live', run.names[0]!, 'fullchain.pem'), r.log);
}

/** `certbot renew --force-renewal` with the same folders (the renewal configuration certonly wrote). */
export async function certbotRenew(run: AcmeRun): Promise<ClientCertificate> {
  const args = ['renew', '--force-renewal', '--no-random-sleep-on-renew', ...certbotArgs(run)];
  const r = await runClient(requirePeer('certbot'), args, run, clientEnv(run, { REQUESTS_CA_BUNDLE: run.rootPem }));
  expectSuccess(r, 'certbot renew');
  return fromChainFile(join(run.workDir, 'config', 'live', run.names[0]!, 'fullchain.pem'), r.log);
}

// ---------------------------------------------------------------- lego

function legoArgs(run: AcmeRun): string[] {
  return [
    '--server', run.directoryUrl, '--accept-tos', '--email', 'x@y.test', '--path', run.workDir, '--http', '--http.port', `127.0.0.1:${run.httpPort}`,
    ...(run.dnsResolver ? ['--dns.resolvers', run.dnsResolver] : []), ...run.names.flatMap((n) => ['--domains', n]),
  ];
}

const legoEnv = (run: AcmeRun) => clientEnv(run, { LEGO_CA_CERTIFICATES: run.rootPem });
const legoChain = (run: AcmeRun) => join(run.workDir, 'certificates', `${run.names[0]!}.crt`);

/** `lego run`: registers, solves http-01 on 127.0.0.1:httpPort, stores certificates/<name>.crt (leaf + issuer). */
export async function legoRun(run: AcmeRun): Promise<ClientCertificate> {
  const r = await runClient(requirePeer('lego'), [...legoArgs(run), 'run'], run, legoEnv(run));
  expectSuccess(r, 'lego run');
  return fromChainFile(legoChain(run), r.log);
}

/** `lego renew --days 99999`: always due (pebble's certificates last five years). */
export async function legoRenew(run: AcmeRun): Promise<ClientCertificate> {
  const r = await runClient(requirePeer('lego'), [...legoArgs(run), 'renew', '--days', '99999', '--no-random-sleep'], run, legoEnv(run));
  expectSuccess(r, 'lego renew');
  return fromChainFile(legoChain(run), r.log);
}

/** `lego revoke` of the stored certificate (signed with the account key). */
export async function legoRevoke(run: AcmeRun): Promise<ClientRun> {
  const r = await runClient(requirePeer('lego'), [...legoArgs(run), 'revoke'], run, legoEnv(run));
  expectSuccess(r, 'lego revoke');
  return r;
}

// ---------------------------------------------------------------- dehydrated

/** Serves `<root>/<token>` files at /.well-known/acme-challenge/<token> on 127.0.0.1:port (dehydrated's WELLKNOWN). */
export async function serveWellKnown(root: string, port: number): Promise<HttpServer> {
  const server = createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    const file = m ? join(root, m[1]!) : null;
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

const closeServer = (server: HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());

/** dehydrated with a config file (CA, http-01, WELLKNOWN served on httpPort, CURL_OPTS --cacert): register, then -c. */
export async function dehydrated(run: AcmeRun): Promise<ClientCertificate> {
  const wellKnown = join(run.workDir, 'well-known');
  mkdirSync(wellKnown, { recursive: true });
  const config = join(run.workDir, 'config');
  writeFileSync(
    config,
    [`CA="${run.directoryUrl}"`, 'CHALLENGETYPE="http-01"', `BASEDIR="${run.workDir}"`, `WELLKNOWN="${wellKnown}"`, `CURL_OPTS="--cacert ${run.rootPem}"`, 'KEY_ALGO=prime256v1', 'KEYSIZE=2048', ''].join('\n'),
  );
  const program = requirePeer('dehydrated');
  const server = await serveWellKnown(wellKnown, run.httpPort);
  try {
    const register = await runClient(program, ['--config', config, '--register', '--accept-terms'], run, clientEnv(run));
    expectSuccess(register, 'dehydrated --register');
    const r = await runClient(program, ['--config', config, '-c', ...run.names.flatMap((n) => ['-d', n])], run, clientEnv(run));
    expectSuccess(r, 'dehydrated -c');
    return fromChainFile(join(run.workDir, 'certs', run.names[0]!, 'fullchain.pem'), `${register.log}\n${r.log}`);
  } finally {
    await closeServer(server);
  }
}

// ---------------------------------------------------------------- caddy

function findFile(dir: string, name: string): string | null {
  if (!existsSync(dir)) return null;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    } else if (entry === name) return path;
  }
  return null;
}

/** Polls for a file until `deadline` (caddy writes its certificate whenever its ACME run ends: no event to wait on). */
async function waitForFile(find: () => string | null, deadlineMs: number, why: () => string): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const found = find();
    if (found && statSync(found).size > 0) return found;
    if (Date.now() > deadline) throw new Error(`${why()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CaddyCertificate extends ClientCertificate {
  /** What https://<name>:tlsPort/ answered through caddy's reverse proxy (the backend's body). */
  readonly proxied: string;
}

/**
 * caddy run with a Caddyfile (acme_ca, acme_ca_root, http_port / https_port on the validation ports, file
 * storage, admin off) and a reverse-proxy site for names[0]; resolves once the certificate is in storage and
 * the site answers over TLS with it; caddy is stopped by PID.
 */
export async function caddy(run: AcmeRun, fetchThroughCaddy: (name: string, port: number, leafPem: string) => Promise<string>): Promise<CaddyCertificate> {
  const backend = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('backend says hello\n'));
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  const backendPort = (backend.address() as { port: number }).port;
  const storage = join(run.workDir, 'storage');
  const caddyfile = join(run.workDir, 'Caddyfile');
  writeFileSync(
    caddyfile,
    [
      '{',
      `  acme_ca ${run.directoryUrl}`,
      `  acme_ca_root ${run.rootPem}`,
      `  http_port ${run.httpPort}`,
      `  https_port ${run.tlsPort}`,
      `  storage file_system ${storage}`,
      '  default_bind 127.0.0.1',
      '  skip_install_trust',
      '  admin off',
      '}',
      `${run.names.join(', ')} {`,
      `  reverse_proxy 127.0.0.1:${backendPort}`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(requirePeer('caddy'), ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: clientEnv(run, { XDG_DATA_HOME: join(run.workDir, 'data'), XDG_CONFIG_HOME: join(run.workDir, 'xdg-config') }),
    cwd: run.workDir,
  });
  const log = new OutputLog(child.stdout, child.stderr);
  run.onSpawn?.(log);
  try {
    const name = run.names[0]!;
    const certPath = await waitForFile(
      () => (child.exitCode !== null ? null : findFile(join(storage, 'certificates'), `${name}.crt`)),
      run.timeoutMs ?? CLIENT_RUN_MS,
      () => `caddy stored no certificate for ${name} within ${run.timeoutMs ?? CLIENT_RUN_MS} ms (exit ${child.exitCode}); log:\n${log.tail(40)}`,
    );
    const got = fromChainFile(certPath, '');
    const proxied = await fetchThroughCaddy(name, run.tlsPort, got.leafPem);
    return { ...got, log: log.text, proxied };
  } finally {
    await stopProcess(child);
    await closeServer(backend);
  }
}

// ---------------------------------------------------------------- acme-client (npm, in process)

/** acme-client's auto(): an ES384 account key, a P-256 certificate key, http-01 answered by a node:http server on httpPort. */
export async function acmeClient(run: AcmeRun): Promise<ClientCertificate & { accountUrl: string }> {
  const acme = (await import('acme-client')).default;
  acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(run.rootPem) });
  const tokens = new Map<string, string>();
  const server = createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    const answer = m ? tokens.get(m[1]!) : undefined;
    if (answer === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(run.httpPort, '127.0.0.1', () => resolve());
  });
  try {
    const client = new acme.Client({ directoryUrl: run.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey('P-384') });
    const [, csr] = await acme.crypto.createCsr({ commonName: run.names[0], altNames: [...run.names] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`acme-client did not finish within ${run.timeoutMs ?? CLIENT_RUN_MS} ms`)), run.timeoutMs ?? CLIENT_RUN_MS).unref());
    const chain = await Promise.race([
      client.auto({
        csr,
        email: 'x@y.test',
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => void tokens.set(challenge.token, keyAuthorization),
        challengeRemoveFn: async (_authz, challenge) => void tokens.delete(challenge.token),
      }),
      deadline,
    ]);
    const certs = pemCertificates(chain);
    return { leafPem: certs[0]!, fullchainPem: chain, log: '', accountUrl: client.getAccountUrl() };
  } finally {
    await closeServer(server);
  }
}

// ---------------------------------------------------------------- checks

export interface IssuedFacts {
  /** openssl verify's output line (`stdin: OK`). */
  readonly verify: string;
  /** The subjectAltName entries, sorted (`DNS:a.test`). */
  readonly sans: string[];
  /** Serial, upper-case hex without separators (openssl x509 -serial). */
  readonly serial: string;
}

/** `openssl verify -CAfile root -untrusted intermediate` on the leaf, and its SANs and serial (openssl x509). */
export function inspectIssued(leafPem: string, rootPath: string, intermediatePath: string): IssuedFacts {
  const openssl = requirePeer('openssl');
  const run = (args: string[]) => {
    const r = spawnSync(openssl, args, { input: leafPem, encoding: 'utf8', timeout: 10_000 });
    return `${r.stdout}${r.stderr}`.trim();
  };
  const verify = run(['verify', '-CAfile', rootPath, '-untrusted', intermediatePath]);
  const sanText = run(['x509', '-noout', '-ext', 'subjectAltName']);
  const sans = sanText.split('\n').slice(1).join(',').split(',').map((s) => s.trim().replace(/^IP Address:/, 'IP:')).filter(Boolean).sort();
  const serial = run(['x509', '-noout', '-serial']).replace(/^serial=/, '').toUpperCase();
  return { verify, sans, serial };
}
