/**
 * Issue 13: bad input at the start of `pki serve` — a busy port, a malformed --listen, --tls-cert without
 * --tls-key, a certificate and key that do not belong together, a wrong passphrase — each gives one
 * `pki: error:` line and exit 1 (2 for usage), and nothing in the CA home changes (no listener certificate
 * recorded, no inventory write).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, pki, snapshotTree, tempDir } from '../helpers/cli.js';

describe('pki serve refuses bad input at start, changing nothing', () => {
  let work: string;
  let dir: string;
  let busy: Server;
  let busyPort: number;
  const env = { PKI_PASSWORD: 'correct horse battery staple' };
  beforeAll(async () => {
    work = tempDir('pki-serve-start-');
    dir = join(work, 'ca');
    expect(pki(['init', '--dir', dir, '--insecure'], { env }).code).toBe(0);
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  }, 60_000);
  afterAll(() => new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve())));

  function refused(args: string[], code: number, options: { env?: NodeJS.ProcessEnv } = { env }): string {
    const before = snapshotTree(dir);
    const r = pki(['serve', '--dir', dir, '--insecure', ...args], options);
    const line = expectOneLineError(r, code);
    expect(line).toMatch(/^pki: error: /);
    expect(snapshotTree(dir)).toBe(before);
    return line;
  }

  it('a busy port: exit 1, naming the address', () => {
    expect(refused(['--listen', `127.0.0.1:${busyPort}`], 1)).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort} \\(--listen\\): the address is in use`));
  });

  it('a busy --http-listen port: exit 1, and the HTTPS listener bound first is let go', () => {
    expect(refused(['--listen', '127.0.0.1:0', '--http-listen', `127.0.0.1:${busyPort}`], 1)).toMatch(/cannot listen on .* \(--http-listen\): the address is in use/);
  });

  it('a malformed --listen: exit 2', () => {
    expect(refused(['--listen', 'localhost'], 2)).toMatch(/--listen "localhost" is not ADDRESS:PORT/);
    expect(refused(['--listen', '127.0.0.1:99999'], 2)).toMatch(/is not ADDRESS:PORT/);
  });

  it('--tls-cert without --tls-key (and the reverse): exit 2', () => {
    expect(refused(['--listen', '127.0.0.1:0', '--tls-cert', join(dir, 'ca', 'root_ca.crt')], 2)).toMatch(/--tls-cert needs --tls-key/);
    expect(refused(['--listen', '127.0.0.1:0', '--tls-key', join(work, 'nothing.key')], 2)).toMatch(/--tls-key needs --tls-cert/);
  });

  it('a --tls-cert and --tls-key that are not a pair: exit 1', () => {
    const key = join(work, 'other.key');
    writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(refused(['--listen', '127.0.0.1:0', '--tls-cert', join(dir, 'ca', 'root_ca.crt'), '--tls-key', key], 1)).toMatch(/cannot serve HTTPS/);
  });

  it('a wrong passphrase: exit 1', () => {
    expect(refused(['--listen', '127.0.0.1:0'], 1, { env: { PKI_PASSWORD: 'wrong' } })).toMatch(/passphrase|password/i);
  });
});
