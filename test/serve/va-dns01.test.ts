/**
 * Issue 13, the validation authority's dns-01 (RFC 8555 §8.4) against Debian's pebble-challtestsrv as the
 * DNS server (`serve.acme.resolver`): the right TXT value is valid (a wildcard looks at its base name), a
 * wrong or missing one fails naming what was found, an unreachable resolver fails in bounded time; and the
 * configured resolver is what http-01 resolves names through when the static map does not cover them.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateChallenge, type ValidationRequest } from '../../src/serve/va/index.js';
import { closeServer, listenLoopback, startChallTestSrv, vaSettings, type ChallTestSrv } from '../helpers/va.js';

const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
/** Computed here, independently of src/core/acme/challenge.ts. */
const TXT = createHash('sha256').update(KEY_AUTH).digest('base64url');
const dns01 = (value: string, keyAuthorization = KEY_AUTH): ValidationRequest => ({ type: 'dns-01', identifier: { type: 'dns', value }, token: TOKEN, keyAuthorization });

describe('dns-01 against pebble-challtestsrv', () => {
  let cts: ChallTestSrv;
  beforeAll(async () => {
    cts = await startChallTestSrv();
  }, 60_000);
  afterAll(async () => cts?.stop());

  const setup = () => vaSettings({ acmeAllow: ['.test'] }, { acme: { resolver: `127.0.0.1:${cts.dnsPort}` } });

  it('the right TXT value at _acme-challenge.<name> is valid (among other records)', async () => {
    await cts.manage('/set-txt', { host: '_acme-challenge.right.test.', value: TXT });
    await cts.manage('/set-txt', { host: '_acme-challenge.right.test.', value: 'some-other-record' });
    const { settings, provisioner } = setup();
    expect(await validateChallenge(settings, provisioner, dns01('right.test'))).toEqual({ valid: true });
  });

  it('a wildcard identifier is proven at its base name', async () => {
    await cts.manage('/set-txt', { host: '_acme-challenge.wild.test.', value: TXT });
    const { settings, provisioner } = setup();
    expect(await validateChallenge(settings, provisioner, dns01('*.wild.test'))).toEqual({ valid: true });
  });

  it('a wrong value is incorrectResponse naming the record found and the one expected', async () => {
    const wrong = createHash('sha256').update(`${TOKEN}.another-account`).digest('base64url');
    await cts.manage('/set-txt', { host: '_acme-challenge.wrong.test.', value: wrong });
    const { settings, provisioner } = setup();
    const r = await validateChallenge(settings, provisioner, dns01('wrong.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:incorrectResponse' } });
    expect(!r.valid && r.problem.detail).toContain(`TXT _acme-challenge.wrong.test (via 127.0.0.1:${cts.dnsPort}) has 1 TXT record(s): "${wrong}"; expected "${TXT}"`);
  });

  it('no record at all is a dns problem naming the name and the answer', async () => {
    const { settings, provisioner } = setup();
    const r = await validateChallenge(settings, provisioner, dns01('missing.test'));
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:dns' } });
    expect(!r.valid && r.problem.detail).toMatch(/TXT _acme-challenge\.missing\.test \(via 127\.0\.0\.1:\d+\): ENODATA/);
  });

  it('http-01 resolves a name the static map does not cover through the configured resolver', async () => {
    const seen: string[] = [];
    const web: Server = createServer((req, res) => (seen.push(req.headers.host ?? ''), res.end(KEY_AUTH)));
    const port = await listenLoopback(web);
    try {
      const { settings, provisioner } = vaSettings({ acmeAllow: ['.example'], acmeHttpPort: port }, { acme: { resolver: `127.0.0.1:${cts.dnsPort}` } });
      // challtestsrv answers A 127.0.0.1 for every name: www.viadns.example exists only there.
      expect(await validateChallenge(settings, provisioner, { ...dns01('www.viadns.example'), type: 'http-01' })).toEqual({ valid: true });
      expect(seen).toEqual(['www.viadns.example']);
    } finally {
      await closeServer(web);
    }
  });
});

describe('a resolver that never answers', () => {
  let silent: Socket;
  let queries = 0;
  beforeAll(async () => {
    silent = createSocket('udp4');
    silent.on('message', () => queries++);
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
  });
  afterAll(() => silent?.close());

  it('is never asked about a name the static map covers (http-01), and asked about one it does not', async () => {
    const web: Server = createServer((_req, res) => res.end(KEY_AUTH));
    const port = await listenLoopback(web);
    try {
      const { settings, provisioner } = vaSettings({ acmeAllow: ['.test'], acmeResolve: ['*.mapped.test=127.0.0.1', 'bad.test=localhost'], acmeHttpPort: port }, { acme: { resolver: `127.0.0.1:${silent.address().port}` } });
      const before = queries;
      expect(await validateChallenge(settings, provisioner, { ...dns01('a.mapped.test'), type: 'http-01' })).toEqual({ valid: true });
      expect(queries).toBe(before);
      const bad = await validateChallenge(settings, provisioner, { ...dns01('bad.test'), type: 'http-01' });
      expect(bad).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:dns', detail: expect.stringContaining('not an IP address') } });
      expect(queries).toBe(before);
      const r = await validateChallenge(settings, provisioner, { ...dns01('a.unmapped.test'), type: 'http-01' }, { timeoutMs: 1_000 });
      expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:dns' } });
      expect(queries).toBeGreaterThan(before);
    } finally {
      await closeServer(web);
    }
  });

  it('is a dns problem within the validation deadline', async () => {
    const { settings, provisioner } = vaSettings({ acmeAllow: ['.test'] }, { acme: { resolver: `127.0.0.1:${silent.address().port}` } });
    const started = Date.now();
    const r = await validateChallenge(settings, provisioner, dns01('slow.test'), { timeoutMs: 1_500 });
    const elapsed = Date.now() - started;
    expect(r).toMatchObject({ valid: false, problem: { type: 'urn:ietf:params:acme:error:dns', detail: expect.stringContaining('no answer before the validation deadline') } });
    expect(elapsed).toBeGreaterThanOrEqual(1_450);
    expect(elapsed).toBeLessThan(3_500);
  });
});
