/**
 * Clients for the `pki serve` shell tests (limits, lifecycle, fuzz): pki.json's `serve` section rewritten
 * in a test's CA home, one HTTPS request with node:https trusting only the CA home's root, and a raw TLS
 * (or TCP) socket that writes bytes when told and collects what comes back, with event-based waits.
 */
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { OutputLog } from './process.js';

/** Edits the CA home's pki.json in place: `edit` changes the parsed object, which is written back as pki writes it. */
export function editPkiJson(dir: string, edit: (config: Record<string, any>) => void): void {
  const path = join(dir, 'pki.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  edit(config);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

/** Replaces pki.json's `serve` section (the rest stays). */
export function writeServeConfig(dir: string, serve: unknown): void {
  editPkiJson(dir, (config) => void (config.serve = serve));
}

export const rootPem = (dir: string) => readFileSync(join(dir, 'ca', 'root_ca.crt'), 'utf8');

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export interface FetchOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly ca?: string;
  readonly agent?: Agent;
  /** A hang guard (ms); default 10 s. */
  readonly timeoutMs?: number;
}

/** One request; rejects on a socket error or after the hang guard. */
export function fetchOnce(url: string, options: FetchOptions = {}): Promise<Answer> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: options.method ?? 'GET', headers: options.headers, ca: options.ca, agent: options.agent, servername: 'localhost' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer from ${u.pathname} within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface RawConnection {
  readonly socket: Socket;
  /** What the server sent so far (latin1). */
  readonly received: OutputLog;
  /** Resolves when the server (or we) closed the connection, with the time it happened. */
  readonly closed: Promise<number>;
  write(bytes: string | Buffer): void;
}

/** A raw connection to the HTTPS (TLS, trusting `ca`) or plain HTTP listener; resolves once it can write. */
export function rawConnect(url: string, ca?: string): Promise<RawConnection> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const onReady = () => {
      const received = new OutputLog();
      socket.on('data', (d: Buffer) => received.append(d.toString('latin1')));
      socket.off('error', reject);
      const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now())));
      socket.on('error', () => {});
      resolve({ socket, received, closed, write: (bytes) => void socket.write(bytes) });
    };
    const socket: Socket =
      u.protocol === 'https:' ? tlsConnect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, onReady) : netConnect({ host: u.hostname, port: Number(u.port) }, onReady);
    socket.once('error', reject);
  });
}

/** Resolves after `ms`: for pacing what a slow client sends, never for waiting on the server. */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
