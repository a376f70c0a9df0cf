/**
 * Issue 13, the validation authority's http-01 (RFC 8555 §8.3) against real node:http servers on
 * 127.0.0.1: the right key authorization is valid; a wrong one, a 404, too many redirects, a redirect off
 * the allowlist or to a port that is not a validation port, an endless body and a server that never answers
 * each fail with their problem type, in bounded time and without reading more than the cap. Names resolve
 * through the static map (`*.test` does not exist in DNS) and IP identifiers are used as is.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { validateChallenge, type ValidationRequest } from '../../src/serve/va/index.js';
import { peer, requirePeer } from '../helpers/peers.js';
import { closeServer, listenLoopback, vaSettings } from '../helpers/va.js';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
const PATH = `/.well-known/acme-challenge/${TOKEN}`;
const http01 = (value: string, keyAuthorization = KEY_AUTH): ValidationRequest => ({ type: 'http-01', identifier: { type: /^[\d.]+$|:/.test(value) ? 'ip' : 'dns', value }, token: TOKEN, keyAuthorization });

interface Seen {
  host: string | undefined;
  url: string | undefined;
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map(closeServer));
  servers = [];
});

/** A node:http server on 127.0.0.1 answering with `handler`; every request it sees is recorded. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    handler(req, res);
  });
  servers.push(server);
  return { port: await listenLoopback(server), seen };
}

const answer = (body: string, status = 200) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);

function setup(port: number, extra: { allow?: string[]; tlsPort?: number } = {}) {
  return vaSettings({ acmeAllow: extra.allow ?? ['*.test', '127.0.0.0/8'], acmeResolve: ['*.test=127.0.0.1'], acmeHttpPort: port, acmeTlsPort: extra.tlsPort });
}

describe('http-01', () => {
  it('is valid when the key authorization is served (trailing newline ignored), asked with Host: the identifier on the validation port', async () => {
    const { port, seen } = await serve(answer(`${KEY_AUTH}\r\n`));
    const { settings, provisioner } = setup(port);
    expect(await validateChallenge(settings, provisioner, http01('www.test'))).toEqual({ valid: true });
    expect(seen).toEqual([{ host: 'www.test', url: PATH }]);
  });

  it('uses an IP identifier as is, with Host: the address (RFC 8738)', async () => {
    const { port, seen } = await serve(answer(KEY_AUTH));
    const { settings, provisioner } = setup(port);
    expect(await validateChallenge(settings, provisioner, http01('127.0.0.1'))).toEqual({ valid: true });
    expect(seen).toEqual([{ host: '127.0.0.1', url: PATH }]);
  });

  it('a wrong key authorization is incorrectResponse naming what was served', async () => {
    const { port } = await serve(answer(`${TOKEN}.wrong-thumbprint`));
    const { settings, provisioner } = setup(port);
    const r = await validateChallenge(settings, provisioner, http01('www.test'));
    expect(r.valid).toBe(false);
    if (r.valid) return;
    expect(r.problem.type).toBe('urn:ietf:params:acme:error:incorrectResponse');
    expect(r.problem.detail).toContain(`"${TOKEN}.wrong-thumbprint"`);
    expect(r.problem.detail).toContain(`"${KEY_AUTH}"`);
  });

  it('a 404 is unauthorized naming the status', async () => {
    const { port } = await serve(answer('no such token', 404));
    const { settings, provisioner } = setup(port);
    const r = await validateChallenge(settings, provisioner, http01('www.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
    expect(!r.valid && r.problem.detail).toMatch(/HTTP 404 "no such token"/);
  });

  it('follows 10 redirects (relative and absolute, to other allowed names), not 11', async () => {
    const hops = (n: number) => (req: IncomingMessage, res: ServerResponse) => {
      const m = /^\/hop\/(\d+)$/.exec(req.url ?? '');
      const at = m ? Number(m[1]) : 0;
      if (at >= n) return res.end(KEY_AUTH);
      const next = at % 2 === 0 ? `/hop/${at + 1}` : `http://h${at}.test:${req.socket.localPort}/hop/${at + 1}`;
      res.writeHead(at % 3 === 0 ? 302 : 307, { Location: next }).end();
    };
    const ten = await serve(hops(10));
    const okay = setup(ten.port);
    expect(await validateChallenge(okay.settings, okay.provisioner, http01('www.test'))).toEqual({ valid: true });
    expect(ten.seen).toHaveLength(11);
    expect(ten.seen.map((s) => s.host)).toContain(`h1.test:${ten.port}`);

    const eleven = await serve(hops(11));
    const tooMany = setup(eleven.port);
    const r = await validateChallenge(tooMany.settings, tooMany.provisioner, http01('www.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:connection' } });
    expect(!r.valid && r.problem.detail).toMatch(/more than 10 redirects/);
    expect(eleven.seen).toHaveLength(11);
  });

  it('refuses a redirect to a host outside the allowlist without fetching it', async () => {
    const { port, seen } = await serve((req, res) => {
      if (req.url === PATH) res.writeHead(301, { Location: `http://evil.example:${req.socket.localPort}/steal` }).end();
      else res.end(KEY_AUTH);
    });
    const { settings, provisioner } = vaSettings({ acmeAllow: ['*.test'], acmeResolve: ['*.test=127.0.0.1', 'evil.example=127.0.0.1'], acmeHttpPort: port });
    const r = await validateChallenge(settings, provisioner, http01('www.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
    expect(!r.valid && r.problem.detail).toMatch(/evil\.example is outside provisioner "acme"'s allowlist/);
    expect(seen.map((s) => s.url)).toEqual([PATH]);
  });

  it('refuses a redirect to a port that is neither 80/443 nor a validation port, and to another scheme', async () => {
    const other = await serve(answer(KEY_AUTH));
    const { port, seen } = await serve((req, res) => {
      if (req.url === PATH) res.writeHead(302, { Location: `http://b.test:${other.port}${PATH}` }).end();
      else res.writeHead(302, { Location: 'ftp://b.test/x' }).end();
    });
    const { settings, provisioner } = setup(port);
    const r = await validateChallenge(settings, provisioner, http01('www.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:connection' } });
    expect(!r.valid && r.problem.detail).toContain(`port ${other.port} is not 80 or 443`);
    expect(other.seen).toEqual([]);
    // The same redirect is followed once that port is the configured tls-alpn-01 port (a validation port).
    const allowed = setup(port, { tlsPort: other.port });
    expect(await validateChallenge(allowed.settings, allowed.provisioner, http01('www.test'))).toEqual({ valid: true });
    expect(other.seen).toEqual([{ host: `b.test:${other.port}`, url: PATH }]);
    seen.length = 0;
    const ftp = await validateChallenge(settings, provisioner, { ...http01('www.test'), token: 'x' });
    expect(ftp).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringMatching(/ftp:\/\/b\.test\/x refused: only http and https/) } });
  });

  it('follows a redirect to https on a validation port without verifying its certificate (SNI the name)', async () => {
    requirePeer('openssl');
    const dir = mkdtempSync(join(tmpdir(), 'pki-va-https-'));
    try {
      peer('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=self-signed', '-addext', 'subjectAltName=DNS:other.name']);
      const sni: string[] = [];
      const tls = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (req, res) => (sni.push(`${(req.socket as { servername?: string }).servername} ${req.headers.host} ${req.url}`), res.end(KEY_AUTH)));
      servers.push(tls);
      const tlsPort = await listenLoopback(tls);
      const { port } = await serve((_req, res) => res.writeHead(308, { Location: `https://secure.test:${tlsPort}/moved` }).end());
      const { settings, provisioner } = setup(port, { tlsPort });
      expect(await validateChallenge(settings, provisioner, http01('www.test'))).toEqual({ valid: true });
      expect(sni).toEqual([`secure.test secure.test:${tlsPort} /moved`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a redirect to an IP address when the provisioner allows no IP identifiers', async () => {
    const { port, seen } = await serve((req, res) => (req.url === PATH ? res.writeHead(302, { Location: `http://127.0.0.1:${port}/ip` }).end() : res.end(KEY_AUTH)));
    const { settings, provisioner } = setup(port, { allow: ['*.test'] });
    const r = await validateChallenge(settings, provisioner, http01('www.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:unauthorized', detail: expect.stringContaining('127.0.0.1 is outside provisioner "acme"\'s allowlist') } });
    expect(seen).toHaveLength(1);
  });

  it('reads at most the cap of an endless body, then hangs up (incorrectResponse, not a timeout)', async () => {
    let written = 0;
    let closed!: () => void;
    const hungUp = new Promise<void>((resolve) => (closed = resolve));
    const GIB = 1024 ** 3;
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(GIB) });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (written < GIB && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', closed);
      pump();
    });
    const { settings, provisioner } = setup(port);
    const started = Date.now();
    const r = await validateChallenge(settings, provisioner, http01('www.test'));
    const elapsed = Date.now() - started;
    await hungUp;
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:incorrectResponse' } });
    expect(!r.valid && r.problem.detail).toMatch(/more than 8192 bytes \(reading stopped there\), starting "A{64}…"/);
    expect(!r.valid && r.problem.detail.length).toBeLessThan(400);
    // What the server got out before the hang-up is bounded by socket buffers, far below the gibibyte.
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('gives up on a server that accepts but never answers: connection, within the deadline', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((s) => sockets.add(s));
    const port = await listenLoopback(silent);
    try {
      const { settings, provisioner } = setup(port);
      for (const [limits, cap] of [[{ timeoutMs: 1_000 }, 1_000], [{}, 10_000]] as const) {
        const started = Date.now();
        const r = await validateChallenge(settings, provisioner, http01('www.test'), limits);
        const elapsed = Date.now() - started;
        expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining(`no complete answer within ${cap} ms`) } });
        expect(elapsed).toBeGreaterThanOrEqual(cap - 50);
        expect(elapsed).toBeLessThan(cap + 2_000);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await closeServer(silent);
    }
  }, 30_000);

  it('refuses an identifier outside the allowlist before connecting, and a wildcard (dns-01 only)', async () => {
    const { port, seen } = await serve(answer(KEY_AUTH));
    const { settings, provisioner } = setup(port, { allow: ['*.test'] });
    expect(await validateChallenge(settings, provisioner, http01('a.b.test'))).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:rejectedIdentifier' } });
    expect(await validateChallenge(settings, provisioner, http01('127.0.0.1'))).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:rejectedIdentifier' } });
    expect(await validateChallenge(settings, provisioner, http01('*.test'))).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:malformed' } });
    expect(seen).toEqual([]);
  });
});

describe('resolution for validation', () => {
  it('a name the static map covers never reaches DNS; one it does not is asked of the resolver (dns problem for a .test name)', async () => {
    const { port, seen } = await serve(answer(KEY_AUTH));
    const { settings, provisioner } = vaSettings({ acmeAllow: ['.test'], acmeResolve: ['*.mapped.test=127.0.0.1'], acmeHttpPort: port });
    expect(await validateChallenge(settings, provisioner, http01('a.mapped.test'))).toEqual({ valid: true });
    const r = await validateChallenge(settings, provisioner, http01('a.unmapped.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:dns', detail: expect.stringMatching(/could not resolve a\.unmapped\.test \(via the system resolver\)/) } });
    expect(seen).toHaveLength(1);
  });
});
