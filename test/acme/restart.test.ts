/**
 * Issue 13, done-means 4: `pki serve` is killed with SIGKILL in the middle of a certbot order (right after
 * its new-order was answered) and of a lego order (right after its challenge POST was answered, while the
 * server validates), then started again on the same port. Each client's run either completes or fails
 * cleanly (no hang, no serverInternal) and then a re-run completes; the inventory passes
 * `PRAGMA integrity_check` (better-sqlite3), no serial was issued twice, every order the database held
 * before the kill is still there, and no challenge is left `processing` (the interrupted validation ends).
 */
import Database from 'better-sqlite3';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as clients from '../helpers/acme-clients.js';
import { initCa } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startLoopbackDns, type DnsServer } from '../helpers/pebble.js';
import { requirePeer } from '../helpers/peers.js';
import { waitForExit } from '../helpers/process.js';
import { startPkiServe, type PkiServe } from '../helpers/serve.js';
import { acmeServeArgs } from './client-suite.js';


/** Access-log lines (stdout, JSON) after which the kill comes. */
const NEW_ORDER_ANSWERED = /"path":"\/acme\/acme\/new-order"[^\n]*"status":201/;
const CHALLENGE_ANSWERED = /"path":"\/acme\/acme\/challenge\/[^"]+"[^\n]*"status":200/;
const KILL_WAIT_MS = 90_000;
/** Two client runs (each ≤ 120 s) and a restart: a hang guard. */
const RESTART_TEST_MS = 300_000;

describe('pki serve killed with SIGKILL mid-order, started again on the same port', () => {
  let dir: string;
  let server: PkiServe;
  let dns: DnsServer;
  let httpPort: number;
  let tlsPort: number;
  let listen: string;
  const obtained: { client: string; serial: string; leafPem: string }[] = [];
  const ordersBeforeKills: string[] = [];
  /** How each client's interrupted run ended (printed at the end, for the report). */
  const outcomes: string[] = [];

  const db = () => new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true, fileMustExist: true });
  /** The ACME orders table, whatever the store named it (a table with "order" in its name and an id column). */
  const orderIds = (): string[] => {
    const d = db();
    try {
      const tables = d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%order%'").all() as { name: string }[];
      const table = tables.find((t) => (d.prepare(`PRAGMA table_info("${t.name}")`).all() as { name: string }[]).some((c) => c.name === 'id'));
      if (!table) throw new Error(`no ACME orders table in the inventory (tables: ${tables.map((t) => t.name).join(', ') || 'none'})`);
      return (d.prepare(`SELECT id FROM "${table.name}"`).all() as { id: unknown }[]).map((r) => String(r.id));
    } finally {
      d.close();
    }
  };

  /**
   * Challenges still `processing` once the restarted server has had `deadlineMs` to take them up again (a
   * validation the kill interrupted must end valid or invalid, not hang): polled, as nothing announces it.
   */
  const challengesLeftProcessing = async (deadlineMs = 30_000): Promise<string[]> => {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const d = db();
      const left = (d.prepare("SELECT id FROM acme_challenges WHERE status = 'processing'").all() as { id: string }[]).map((r) => r.id);
      d.close();
      if (left.length === 0 || Date.now() > deadline) return left;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    for (const p of ['certbot', 'lego', 'openssl', 'pebble-challtestsrv']) requirePeer(p);
    dir = initCa();
    [httpPort, tlsPort] = [await freePort(), await freePort()];
    dns = await startLoopbackDns();
    server = await startPkiServe(dir, { args: acmeServeArgs(httpPort, tlsPort) });
    listen = new URL(server.httpsUrl).host;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await dns?.stop();
  });

  /** Waits for `line` in the access log, records the orders the database holds, SIGKILLs, starts again on the same address. */
  async function killAndRestartAfter(line: RegExp, clientEnded: AbortSignal, logOffset: number): Promise<void> {
    // Only lines written after this client started count (the log already holds the previous client's).
    const fresh = { test: (text: string) => line.test(text.slice(logOffset)), toString: () => String(line) } as RegExp;
    await server.stdout.waitFor(fresh, KILL_WAIT_MS, clientEnded);
    ordersBeforeKills.push(...orderIds());
    server.child.kill('SIGKILL');
    expect((await waitForExit(server.child)).signal).toBe('SIGKILL');
    server = await startPkiServe(dir, { args: [...acmeServeArgs(httpPort, tlsPort), '--listen', listen] });
    expect(new URL(server.httpsUrl).host).toBe(listen);
  }

  const runFor = (client: string, names: string[]): clients.AcmeRun => ({
    directoryUrl: server.directoryUrl,
    rootPem: join(dir, 'ca', 'root_ca.crt'),
    httpPort,
    tlsPort,
    names,
    workDir: mkdtempSync(join(tmpdir(), `pki-restart-${client}-`)),
    dnsResolver: dns.address,
    timeoutMs: 120_000,
  });

  /**
   * The client's first run (during which the server is killed) either completes or fails cleanly — a
   * connection refused while the server was down or an ACME problem, never serverInternal — and then a
   * re-run with the same account completes.
   */
  async function survive(client: string, attempt: () => Promise<clients.ClientCertificate>, line: RegExp): Promise<clients.ClientCertificate> {
    const ended = new AbortController();
    const logOffset = server.stdout.text.length;
    const first = attempt().then((cert) => ({ cert, error: null }), (error: Error) => ({ cert: null, error }));
    void first.then((o) => ended.abort(`${client} ended before the kill: ${o.error?.message ?? 'it completed'}`));
    await killAndRestartAfter(line, ended.signal, logOffset);
    const outcome = await first;
    const why = outcome.error?.message.split('\n').slice(1).filter((l) => /error|refused|fail|problem|urn:ietf|^\s*\[[a-z0-9.-]+\] /i.test(l)).slice(-2).join(' / ');
    outcomes.push(`${client}: first run ${outcome.cert ? 'completed' : `failed (${why || 'see log'}), re-run completed`}`);
    if (outcome.cert) return outcome.cert;
    expect(outcome.error!.message).not.toMatch(/serverInternal|did not exit within/);
    return attempt();
  }

  it('certbot certonly: killed right after its new-order was answered; its run or a re-run gets a verified certificate', async () => {
    const r = runFor('certbot', ['r1.test']);
    const cert = await survive('certbot', () => clients.certbotCertonly(r), NEW_ORDER_ANSWERED);
    const facts = clients.inspectIssued(cert.leafPem, join(dir, 'ca', 'root_ca.crt'), join(dir, 'ca', 'intermediate_ca.crt'));
    expect(facts.verify).toBe('stdin: OK');
    expect(facts.sans).toEqual(['DNS:r1.test']);
    obtained.push({ client: 'certbot', serial: facts.serial, leafPem: cert.leafPem });
  }, RESTART_TEST_MS);

  it('lego run: killed right after its challenge POST was answered (during validation); its run or a re-run gets a verified certificate', async () => {
    const r = runFor('lego', ['r2.test']);
    const cert = await survive('lego', () => clients.legoRun(r), CHALLENGE_ANSWERED);
    const facts = clients.inspectIssued(cert.leafPem, join(dir, 'ca', 'root_ca.crt'), join(dir, 'ca', 'intermediate_ca.crt'));
    expect(facts.verify).toBe('stdin: OK');
    expect(facts.sans).toEqual(['DNS:r2.test']);
    obtained.push({ client: 'lego', serial: facts.serial, leafPem: cert.leafPem });
  }, RESTART_TEST_MS);

  it('the inventory passes integrity_check, holds each obtained certificate once under its own serial, lost no order and left no challenge processing', async () => {
    expect(obtained.map((o) => o.client)).toEqual(['certbot', 'lego']);
    const d = db();
    try {
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
      for (const o of obtained) {
        const fingerprint = new X509Certificate(o.leafPem).fingerprint256.replace(/:/g, '');
        const rows = d.prepare("SELECT serial FROM certificates WHERE kind = 'x509' AND fingerprint_sha256 = ?").all(fingerprint) as { serial: string }[];
        expect(rows.map((row) => row.serial.toUpperCase().replace(/^0+/, ''))).toEqual([o.serial.replace(/^0+/, '')]);
      }
      const serials = (d.prepare("SELECT serial FROM certificates WHERE kind = 'x509'").all() as { serial: string }[]).map((row) => row.serial.toUpperCase());
      expect(new Set(serials).size).toBe(serials.length);
    } finally {
      d.close();
    }
    expect(ordersBeforeKills.length).toBeGreaterThanOrEqual(2);
    expect(await challengesLeftProcessing()).toEqual([]);
    const now = new Set(orderIds());
    expect(ordersBeforeKills.filter((id) => !now.has(id))).toEqual([]);
    process.stdout.write(`restart outcomes:\n  ${outcomes.join('\n  ')}\n`);
  });
});
