/**
 * A real nginx on 127.0.0.1 for the tests that prove pki's files against it: one process
 * (master_process off), in the foreground, so the test's child is the server and is stopped by its PID.
 * The config names the port, so it is written again for each port startServer tries; nginx logs nothing
 * on stdout/stderr once it listens (its log is error.log), so the port accepting is its readiness, and a
 * taken port it reports on stderr ("bind() … failed (98: Address already in use)"): startServer retries.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { requirePeer } from './peers.js';
import { startServer, type Server } from './process.js';

export interface NginxOptions {
  /** The lines inside `server { … }` after `listen 127.0.0.1:PORT ssl;` (ssl_certificate, location …). */
  readonly server: string;
  /** Log requests to `<work>/access.log` (off otherwise). */
  readonly accessLog?: boolean;
  readonly prefix?: string;
}

export interface Nginx {
  readonly server: Server;
  readonly work: string;
  readonly accessLog: string;
  readonly errorLog: string;
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const nginx = requirePeer('nginx');
  const work = tempDir(options.prefix ?? 'pki-nginx-');
  const conf = join(work, 'nginx.conf');
  const errorLog = join(work, 'error.log');
  const accessLog = join(work, 'access.log');
  const writeConf = (port: number) =>
    writeFileSync(
      conf,
      `daemon off;
master_process off;
pid ${work}/nginx.pid;
error_log ${errorLog} info;
events { worker_connections 64; }
http {
  access_log ${options.accessLog ? accessLog : 'off'};
  client_body_temp_path ${work}/body;
  proxy_temp_path ${work}/proxy;
  fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi;
  scgi_temp_path ${work}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
${options.server}
  }
}
`,
    );
  const server = await startServer({
    program: nginx,
    args: (p) => {
      writeConf(p);
      return ['-p', work, '-c', conf];
    },
    stopSignal: 'SIGQUIT', // graceful shutdown
  }).catch((e: Error) => {
    let log = '';
    try {
      log = readFileSync(errorLog, 'utf8');
    } catch {
      log = '(no error.log)';
    }
    throw new Error(`${e.message}\nnginx error.log:\n${log}`);
  });
  return { server, work, accessLog, errorLog };
}
