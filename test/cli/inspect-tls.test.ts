/**
 * Issue 11, point 2 and Done-means 2 and 4: `pki inspect --tls` against real servers started here on
 * 127.0.0.1 (openssl s_server, nginx with mTLS, PostgreSQL for --starttls postgres): the chain exactly as
 * configured (fingerprints equal those of the files), the protocol, the client-certificate request with its
 * CA names (TLS 1.2 in the clear, TLS 1.3 decrypted), a stapled OCSP response, the verdict and its exit
 * codes, and one-line errors for refused ports, timeouts, alerts and bad input — never the client key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, pkiAsync, tempDir, type CliResult } from '../helpers/cli.js';
import { expectCliError } from '../helpers/errors.js';
import { freePort } from '../helpers/net.js';
import { peer, requirePeer } from '../helpers/peers.js';
import { startServer, type Server } from '../helpers/process.js';
import { startNginx } from '../helpers/nginx.js';
import { startTlsPostgres } from '../helpers/postgres.js';

interface Bundle {
  readonly dir: string;
  readonly certs: string;
  /** The leaf alone (the first block of svc.crt) and the intermediate, as s_server is given them. */
  readonly leaf: string;
  readonly intermediate: string;
  readonly root: string;
}

/** A CA home with a bundle for svc (SANs svc, localhost, 127.0.0.1, ::1) and the client "client". */
function bundle(): Bundle {
  const dir = initCa();
  const g = pki(['generate', 'svc', 'main', '--dir', dir]);
  expect(g.code, g.stderr).toBe(0);
  const certs = join(dir, 'services/svc/main/certs');
  const leaf = join(tempDir('pki-leaf-'), 'leaf.crt');
  writeFileSync(leaf, /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/.exec(readFileSync(join(certs, 'svc.crt'), 'utf8'))![0]);
  return { dir, certs, leaf, intermediate: join(dir, 'ca/intermediate_ca.crt'), root: join(dir, 'ca/root_ca.crt') };
}

/** SHA-256 fingerprint as pki prints it (upper-case hex, no colons), computed by openssl from the file. */
const fingerprint = (file: string) => peer('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).trim().replace(/^.*=/, '').replace(/:/g, '');

/**
 * `openssl s_server` on a fresh port. -quiet: without it s_server ends the session (and exits) on the EOF of
 * its empty stdin; with it, it prints nothing once it listens, so the port accepting is its readiness.
 */
function sServer(args: readonly string[]): Promise<Server> {
  return startServer({ program: requirePeer('openssl'), args: (p) => ['s_server', '-accept', `127.0.0.1:${p}`, '-quiet', ...args] });
}

const serve = (b: Bundle, extra: readonly string[] = []) => sServer(['-cert', b.leaf, '-key', join(b.certs, 'svc.key'), '-cert_chain', b.intermediate, ...extra]);

interface TlsJson {
  target: { host: string; port: number; servername: string | null; starttls: string | null };
  protocol: string;
  cipher: { name: string; openssl: string };
  alpn: string | null;
  certificates: { subject: string; fingerprintSha256: string }[];
  clientCertificateRequest: { requested: boolean; authorities: string[] };
  clientCertificate: string | null;
  ocsp: { responseStatus: string; certStatus: string | null; serial: string | null; nextUpdate: string | null } | null;
  verification: { name: string; roots: string[]; result: { valid: boolean; error: { code: string; message: string } | null } } | null;
}

function inspectJson(args: readonly string[], b: Bundle): { r: CliResult; out: TlsJson } {
  const r = pki(['inspect', '--json', '--dir', b.dir, ...args]);
  let out: TlsJson;
  try {
    out = JSON.parse(r.stdout) as TlsJson;
  } catch {
    throw new Error(`no JSON on stdout (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { r, out };
}

/** Private key material of a PEM key file: its base64 lines, none of which may ever be printed. */
const keyLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));

describe('openssl s_server: the chain as given, the protocol, the verdict', () => {
  let b: Bundle;
  const servers: Server[] = [];
  let tls13: Server;
  let tls12: Server;

  beforeAll(async () => {
    b = bundle();
    tls13 = await serve(b, ['-tls1_3']);
    servers.push(tls13);
    tls12 = await serve(b, ['-tls1_2']);
    servers.push(tls12);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it.each([
    ['TLSv1.3', () => tls13, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/],
    ['TLSv1.2', () => tls12, /^TLS_ECDHE_ECDSA_WITH_/],
  ])('%s: leaf then intermediate, fingerprints equal to the files; no client certificate asked; no ALPN', (protocol, server, cipher) => {
    const { r, out } = inspectJson(['--tls', `127.0.0.1:${server().port}`, '--no-verify'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(out.protocol).toBe(protocol);
    expect(out.cipher.name).toMatch(cipher);
    expect(out.certificates.map((c) => c.fingerprintSha256)).toEqual([fingerprint(b.leaf), fingerprint(b.intermediate)]);
    expect(out.certificates.map((c) => c.subject)).toEqual(['CN=svc', 'CN=pki Intermediate CA']);
    expect(out.clientCertificateRequest).toEqual({ requested: false, authorities: [] });
    expect(out.alpn).toBeNull();
    expect(out.target).toEqual({ host: '127.0.0.1', port: server().port, servername: null, starttls: null });
    expect(out.verification).toBeNull();
  });

  it('text: each certificate as pki inspect describes it, then the protocol and the verdict line', () => {
    const r = pki(['inspect', '--tls', `127.0.0.1:${tls13.port}`, '--dir', b.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Protocol {14}TLSv1\.3/);
    expect(r.stdout).toMatch(/Client certificate {4}not requested/);
    expect(r.stdout).toContain(`SHA-256 fingerprint   ${fingerprint(b.leaf)}`);
    expect(r.stdout).toContain(pki(['inspect', b.intermediate]).stdout.trim().split('\n').slice(0, 3).join('\n'));
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^OK: CN=svc — chain svc ← pki Intermediate CA ← pki Root CA \(valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
  });

  it('the verdict against the CA home root (the default roots) is valid for 127.0.0.1: exit 0', () => {
    const { r, out } = inspectJson(['--tls', `127.0.0.1:${tls12.port}`], b);
    expect(r.code, r.stderr).toBe(0);
    expect(out.verification).toMatchObject({ name: '127.0.0.1', roots: [b.root], result: { valid: true, error: null } });
  });

  it('--servername is the SNI and the name the verdict is for: a name outside the SANs is invalid, exit 1', () => {
    const { r, out } = inspectJson(['--tls', `127.0.0.1:${tls13.port}`, '--servername', 'db.internal'], b);
    expect(r.code).toBe(1);
    expect(out.target.servername).toBe('db.internal');
    expect(out.verification?.result.error?.code).toBe('ERR_HOSTNAME_MISMATCH');
    const text = pki(['inspect', '--tls', `127.0.0.1:${tls13.port}`, '--servername', 'db.internal', '--dir', b.dir]);
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^invalid: CN=svc: .*db\.internal/);
  });

  it('SNI: the host name of the target by default, none for an IP literal, --servername when given (s_server -servername picks -cert2)', async () => {
    const other = bundle();
    const sni = await serve(b, ['-servername', 'localhost', '-cert2', other.leaf, '-key2', join(other.certs, 'svc.key')]);
    try {
      const leafFor = (target: string, extra: string[] = []) => {
        const { r, out } = inspectJson(['--tls', target, '--no-verify', ...extra], b);
        expect(r.code, r.stderr).toBe(0);
        return { servername: out.target.servername, leaf: out.certificates[0]!.fingerprintSha256 };
      };
      expect(leafFor(`localhost:${sni.port}`)).toEqual({ servername: 'localhost', leaf: fingerprint(other.leaf) });
      expect(leafFor(`127.0.0.1:${sni.port}`)).toEqual({ servername: null, leaf: fingerprint(b.leaf) });
      expect(leafFor(`127.0.0.1:${sni.port}`, ['--servername', 'localhost'])).toEqual({ servername: 'localhost', leaf: fingerprint(other.leaf) });
    } finally {
      await sni.stop();
    }
  });

  it('https:// offers ALPN h2 and http/1.1: the server picks one', async () => {
    const alpn = await serve(b, ['-alpn', 'http/1.1']);
    try {
      const { r, out } = inspectJson(['--tls', `https://127.0.0.1:${alpn.port}/`, '--no-verify'], b);
      expect(r.code, r.stderr).toBe(0);
      expect(out.alpn).toBe('http/1.1');
      expect(inspectJson(['--tls', `127.0.0.1:${alpn.port}`, '--no-verify'], b).out.alpn).toBeNull();
    } finally {
      await alpn.stop();
    }
  });
});

describe('a server whose certificate comes from another CA', () => {
  let ours: Bundle;
  let theirs: Bundle;
  let server: Server;

  beforeAll(async () => {
    ours = bundle();
    theirs = bundle();
    server = await serve(theirs, ['-tls1_3']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is invalid, signed by an unknown authority: one verdict line on stdout, exit 1', () => {
    const r = pki(['inspect', '--tls', `127.0.0.1:${server.port}`, '--dir', ours.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^invalid: CN=.*: .*unknown authority/);
    const { out } = inspectJson(['--tls', `127.0.0.1:${server.port}`], ours);
    expect(out.verification?.result).toMatchObject({ valid: false, error: { code: 'ERR_UNKNOWN_AUTHORITY' } });
  });

  it('a server that sends no intermediate: unknown authority, and the hint says to fix the server or --roots', async () => {
    const leafOnly = await sServer(['-cert', ours.leaf, '-key', join(ours.certs, 'svc.key')]);
    try {
      const r = pki(['inspect', '--tls', `127.0.0.1:${leafOnly.port}`, '--dir', ours.dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Certificates {10}1 presented/);
      expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^invalid: CN=svc: .*unknown authority.* \(the server's chain does not reach the trust anchors; if it lacks an intermediate, add that to the server's certificate file .*give --roots/);
    } finally {
      await leafOnly.stop();
    }
  });

  it('--roots with their root makes it valid; --no-verify shows the chain and exits 0', () => {
    expect(pki(['inspect', '--tls', `127.0.0.1:${server.port}`, '--roots', theirs.root, '--dir', ours.dir]).code).toBe(0);
    const { r, out } = inspectJson(['--tls', `127.0.0.1:${server.port}`, '--no-verify'], ours);
    expect(r.code, r.stderr).toBe(0);
    expect(out.certificates.map((c) => c.fingerprintSha256)).toEqual([fingerprint(theirs.leaf), fingerprint(theirs.intermediate)]);
  });
});

describe('client certificates: openssl s_server -Verify (required) and the CA names it sends', () => {
  let b: Bundle;
  let other: Bundle;
  const servers: Record<string, Server> = {};

  beforeAll(async () => {
    b = bundle();
    other = bundle();
    for (const v of ['-tls1_3', '-tls1_2']) servers[v] = await serve(b, [v, '-Verify', '1', '-verify_return_error', '-CAfile', join(b.certs, 'ca.crt')]);
  });
  afterAll(async () => {
    for (const s of Object.values(servers)) await s.stop();
  });

  it.each([['-tls1_3', 'certificate required'], ['-tls1_2', 'handshake failure']])('%s without --cert: one line naming the alert, exit 1', (v, alert) => {
    const r = pki(['inspect', '--json', '--tls', `127.0.0.1:${servers[v]!.port}`, '--no-verify', '--dir', b.dir]);
    const line = expectCliError(r, 'ERR_TLS_HANDSHAKE');
    expect(line).toContain(`alert "${alert}"`);
  });

  it.each(['-tls1_3', '-tls1_2'])('%s with --cert/--key: the handshake completes; the request and its CA names are shown; the key is never printed', (v) => {
    const key = join(b.certs, 'client.key');
    const args = ['--tls', `127.0.0.1:${servers[v]!.port}`, '--cert', join(b.certs, 'client.crt'), '--key', key];
    const { r, out } = inspectJson([...args, '--no-verify'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(out.clientCertificateRequest).toEqual({ requested: true, authorities: ['CN=pki Root CA'] });
    expect(out.clientCertificate).toBe('CN=client');
    const text = pki(['inspect', ...args, '--dir', b.dir]);
    for (const line of keyLines(key)) expect(r.stdout + r.stderr + text.stdout + text.stderr).not.toContain(line);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^OK: CN=svc — /);
  });

  it('TLS 1.3: a client certificate from another CA is refused after the handshake ("unknown ca"): pki waits for that alert', () => {
    const r = pki(['inspect', '--json', '--tls', `127.0.0.1:${servers['-tls1_3']!.port}`, '--cert', join(other.certs, 'client.crt'), '--key', join(other.certs, 'client.key'), '--dir', b.dir]);
    expect(expectCliError(r, 'ERR_TLS_HANDSHAKE')).toMatch(/alert "(unknown ca|bad certificate|decrypt error)"/);
  });
});

/** nginx with ssl_verify_client on and the bundle's ca.crt as ssl_client_certificate, speaking only `protocols`. */
async function startMtlsNginx(b: Bundle, protocols: string): Promise<{ server: Server; accessLog: string }> {
  const { server, accessLog } = await startNginx({
    prefix: 'pki-nginx-tls-',
    accessLog: true,
    server: `    ssl_protocols ${protocols};
    ssl_certificate ${join(b.certs, 'svc.crt')};
    ssl_certificate_key ${join(b.certs, 'svc.key')};
    ssl_client_certificate ${join(b.certs, 'ca.crt')};
    ssl_verify_client on;
    location / { return 200 "hello $ssl_client_s_dn\\n"; }`,
  });
  return { server, accessLog };
}

describe('nginx with mTLS (ssl_verify_client on)', () => {
  let b: Bundle;
  const servers: Record<string, Server> = {};
  const accessLogs: Record<string, string> = {};

  beforeAll(async () => {
    b = bundle();
    for (const p of ['TLSv1.3', 'TLSv1.2']) {
      const started = await startMtlsNginx(b, p);
      servers[p] = started.server;
      accessLogs[p] = started.accessLog;
    }
  });
  afterAll(async () => {
    for (const s of Object.values(servers)) await s.stop();
  });

  it.each(['TLSv1.3', 'TLSv1.2'])('%s: the client-certificate request with the CA names of ssl_client_certificate; the chain of ssl_certificate', (protocol) => {
    const { r, out } = inspectJson(['--tls', `127.0.0.1:${servers[protocol]!.port}`, '--no-verify'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(out.protocol).toBe(protocol);
    expect(out.clientCertificateRequest).toEqual({ requested: true, authorities: ['CN=pki Root CA'] });
    expect(out.clientCertificate).toBeNull();
    expect(out.certificates.map((c) => c.fingerprintSha256)).toEqual([fingerprint(b.leaf), fingerprint(b.intermediate)]);
    const text = pki(['inspect', '--tls', `127.0.0.1:${servers[protocol]!.port}`, '--no-verify', '--dir', b.dir]);
    expect(text.stdout).toMatch(/Client certificate {4}requested, CA names: CN=pki Root CA; none presented/);
    // Nothing is sent after the handshake: nginx logs a request (a 400 for any stray byte) only when one came.
    expect(readFileSync(accessLogs[protocol]!, 'utf8')).toBe('');
  });

  it.each(['TLSv1.3', 'TLSv1.2'])('%s with --cert/--key of the bundle client: the handshake completes and the verdict is valid', (protocol) => {
    const args = ['--tls', `127.0.0.1:${servers[protocol]!.port}`, '--cert', join(b.certs, 'client.crt'), '--key', join(b.certs, 'client.key')];
    const { r, out } = inspectJson([...args, '--no-verify'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(out.clientCertificate).toBe('CN=client');
    const verified = inspectJson(args, b);
    expect(verified.r.code, verified.r.stderr).toBe(0);
    expect(verified.out.verification?.result.valid).toBe(true);
  });
});

describe('PostgreSQL: --starttls postgres (SSLRequest, then TLS)', () => {
  let b: Bundle;
  let server: Server | undefined;

  beforeAll(async () => {
    b = bundle();
    ({ server } = await startTlsPostgres({ prefix: 'pki-postgres-tls-', files: { 'server.crt': join(b.certs, 'svc.crt'), 'server.key': join(b.certs, 'svc.key') } }));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('shows the chain of ssl_cert_file and the verdict for 127.0.0.1', () => {
    const args = ['--tls', `127.0.0.1:${server!.port}`, '--starttls', 'postgres'];
    const { r, out } = inspectJson([...args, '--no-verify'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(out.target.starttls).toBe('postgres');
    expect(out.protocol).toBe('TLSv1.3');
    expect(out.certificates.map((c) => c.fingerprintSha256)).toEqual([fingerprint(b.leaf), fingerprint(b.intermediate)]);
    const verified = inspectJson(args, b);
    expect(verified.r.code, verified.r.stderr).toBe(0);
    expect(verified.out.verification).toMatchObject({ name: '127.0.0.1', result: { valid: true } });
  });

  it('without --starttls the server does not answer in TLS: one line, exit 1', () => {
    const r = pki(['inspect', '--json', '--tls', `127.0.0.1:${server!.port}`, '--no-verify', '--dir', b.dir]);
    expectCliError(r, 'ERR_TLS_HANDSHAKE');
  });

  it('--starttls postgres against a TLS server (not PostgreSQL) says so', async () => {
    const tls = await serve(b);
    try {
      const r = pki(['inspect', '--json', '--tls', `127.0.0.1:${tls.port}`, '--starttls', 'postgres', '--no-verify', '--timeout', '10s', '--dir', b.dir]);
      expect(expectCliError(r, 'ERR_STARTTLS')).toMatch(/not a PostgreSQL server|closed the connection/);
    } finally {
      await tls.stop();
    }
  });
});

describe('a stapled OCSP response (openssl s_server -status_file)', () => {
  let b: Bundle;

  beforeAll(() => {
    b = bundle();
  });

  /** An OCSP response about the leaf from `openssl ocsp` acting as the intermediate's responder, status V or R. */
  function ocspResponse(status: 'V' | 'R'): string {
    const work = tempDir('pki-ocsp-');
    const serial = peer('openssl', ['x509', '-in', b.leaf, '-noout', '-serial']).trim().replace(/^serial=/, '');
    const revoked = status === 'R' ? '260101000000Z' : '';
    writeFileSync(join(work, 'index.txt'), `${status}\t301231235959Z\t${revoked}\t${serial}\tunknown\t/CN=svc\n`);
    const out = join(work, 'resp.der');
    const key = join(b.dir, 'ca/intermediate_ca.key');
    peer('openssl', ['ocsp', '-index', join(work, 'index.txt'), '-CA', b.intermediate, '-rsigner', b.intermediate, '-rkey', key, '-issuer', b.intermediate, '-cert', b.leaf, '-respout', out, '-ndays', '1']);
    return out;
  }

  it.each([['V', 'good'], ['R', 'revoked']] as const)('index status %s: shown as %s for the leaf serial', async (status, shown) => {
    const server = await serve(b, ['-status_file', ocspResponse(status)]);
    try {
      const { r, out } = inspectJson(['--tls', `127.0.0.1:${server.port}`, '--no-verify'], b);
      expect(r.code, r.stderr).toBe(0);
      const serial = peer('openssl', ['x509', '-in', b.leaf, '-noout', '-serial']).trim().replace(/^serial=/, '');
      expect(out.ocsp).toMatchObject({ responseStatus: 'successful', certStatus: shown, serial });
      expect(Date.parse(out.ocsp!.nextUpdate!) - Date.now()).toBeGreaterThan(23 * 3600_000);
    } finally {
      await server.stop();
    }
  });

  it('none stapled: null', async () => {
    const server = await serve(b);
    try {
      expect(inspectJson(['--tls', `127.0.0.1:${server.port}`, '--no-verify'], b).out.ocsp).toBeNull();
    } finally {
      await server.stop();
    }
  });
});

describe('connection failures: one line, exit 1', () => {
  let b: Bundle;
  beforeAll(() => {
    b = bundle();
  });

  it('a port nothing listens on: ERR_CONNECT, connection refused', async () => {
    const port = await freePort();
    const r = pki(['inspect', '--json', '--tls', `127.0.0.1:${port}`, '--dir', b.dir]);
    expect(expectCliError(r, 'ERR_CONNECT')).toContain(`cannot connect to 127.0.0.1:${port}: connection refused`);
  });

  it('a server that accepts but never answers (s_server stopped with SIGSTOP): ERR_TIMEOUT after --timeout', async () => {
    const server = await serve(b);
    server.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const r = await pkiAsync(['inspect', '--json', '--tls', `127.0.0.1:${server.port}`, '--timeout', '1s', '--dir', b.dir]);
      const elapsed = Date.now() - started;
      expect(expectCliError(r, 'ERR_TIMEOUT')).toMatch(/no TLS handshake with 127\.0\.0\.1:\d+ within 1s/);
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(elapsed).toBeLessThan(20_000);
    } finally {
      server.child.kill('SIGCONT');
      await server.stop();
    }
  });

  it('a host name that does not resolve: ERR_CONNECT', () => {
    const r = pki(['inspect', '--json', '--tls', 'no-such-host.invalid:443', '--no-verify', '--dir', b.dir]);
    expect(expectCliError(r, 'ERR_CONNECT')).toMatch(/no-such-host\.invalid:443: .*resolve/);
  });
});

describe('bad input: refused before connecting, one line', () => {
  let b: Bundle;
  let port = 0;
  beforeAll(async () => {
    b = bundle();
    port = await freePort(); // nothing listens: a check made after connecting would say ERR_CONNECT instead
  });

  it.each([
    ['a target without a port', ['--tls', 'db.internal'], 'ERR_INVALID_OPTION', 1],
    ['an http:// target', ['--tls', 'http://127.0.0.1:80'], 'ERR_INVALID_OPTION', 1],
    ['a bad --timeout', ['--tls', '127.0.0.1:PORT', '--timeout', 'soon'], 'ERR_INVALID_DURATION', 1],
    ['an unknown --starttls', ['--tls', '127.0.0.1:PORT', '--starttls', 'imap'], 'ERR_INVALID_OPTION', 1],
    ['--cert without --key', ['--tls', '127.0.0.1:PORT', '--cert', 'CERTS/client.crt'], 'ERR_USAGE', 2],
    ['--key without --cert', ['--tls', '127.0.0.1:PORT', '--key', 'CERTS/client.key'], 'ERR_USAGE', 2],
    ['a file and --tls', ['CERTS/svc.crt', '--tls', '127.0.0.1:PORT'], 'ERR_USAGE', 2],
    ['a key given as --cert', ['--tls', '127.0.0.1:PORT', '--cert', 'CERTS/client.key', '--key', 'CERTS/client.key'], 'ERR_UNKNOWN_OBJECT', 1],
    ['a key that is not the certificate\'s', ['--tls', '127.0.0.1:PORT', '--cert', 'CERTS/client.crt', '--key', 'CERTS/svc.key'], 'ERR_KEY_MISMATCH', 1],
    ['a --roots file that is garbage', ['--tls', '127.0.0.1:PORT', '--roots', 'CERTS/../../../../pki.json'], 'ERR_MALFORMED_CERTIFICATE', 1],
  ])('%s', (_what, args, code, exit) => {
    const resolved = args.map((a) => a.replace('PORT', String(port)).replace('CERTS', b.certs));
    const r = pki(['inspect', '--json', ...resolved, '--dir', b.dir]);
    const line = expectCliError(r, code, exit);
    for (const file of ['client.key', 'svc.key']) for (const l of keyLines(join(b.certs, file))) expect(r.stdout + line).not.toContain(l);
  });

  it('an encrypted client key is refused, naming the file, never printing it', () => {
    const encrypted = join(tempDir('pki-enc-'), 'client.key');
    peer('openssl', ['pkcs8', '-topk8', '-in', join(b.certs, 'client.key'), '-out', encrypted, '-passout', 'pass:secret-pass', '-v2', 'aes-256-cbc']);
    const r = pki(['inspect', '--json', '--tls', `127.0.0.1:${port}`, '--cert', join(b.certs, 'client.crt'), '--key', encrypted, '--dir', b.dir]);
    expect(expectCliError(r, 'ERR_PASSWORD_REQUIRED')).toContain(encrypted);
    for (const l of [...keyLines(encrypted), ...keyLines(join(b.certs, 'client.key'))]) expect(r.stdout + r.stderr).not.toContain(l);
  });
});
