/**
 * A real HAProxy on 127.0.0.1 for the tests that prove `pki export --haproxy` against it (export-peers and
 * the HAProxy guide): in the foreground (`-db`), one process, stopped by its PID. The config names the
 * port, so it is written again for each port startServer tries; a taken port HAProxy reports on stderr
 * ("cannot bind socket … Address already in use"), and startServer retries on another one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { requirePeer } from './peers.js';
import { startServer, type Server } from './process.js';

/** Logs to stderr, HTTP mode with bounded timeouts: what every test config starts with. */
export const HAPROXY_PREAMBLE = `global
    log stderr format raw local0 info
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 5s
    timeout server 5s
`;

/**
 * Starts haproxy with the config `config(port)` returns (written to a fresh folder; `cwd` is where
 * relative paths in it resolve), and resolves once the port accepts connections.
 */
export async function startHaproxy(config: (port: number) => string, cwd?: string): Promise<Server> {
  const haproxy = requirePeer('haproxy');
  const work = tempDir('pki-haproxy-');
  const file = join(work, 'haproxy.cfg');
  return startServer({
    program: haproxy,
    args: (port) => {
      writeFileSync(file, config(port));
      return ['-db', '-f', file];
    },
    ...(cwd !== undefined ? { cwd } : {}),
    stopSignal: 'SIGUSR1', // soft stop: finish the connections, then exit
  });
}
