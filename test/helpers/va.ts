/**
 * Helpers for the validation authority tests (test/serve/va-*.test.ts): settings built the way `pki serve`
 * builds them (resolveServeSettings), and node servers on 127.0.0.1 port 0 closed after the test.
 */
import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { resolveServeSettings, type ProvisionerSettings, type ServeFlags, type ServeSettings } from '../../src/serve/settings.js';
import type { ServeConfig } from '../../src/store/serve-config.js';
import { freePort, waitForPort } from './net.js';
import { requirePeer } from './peers.js';
import { startServer } from './process.js';

export function vaSettings(flags: ServeFlags, config?: ServeConfig): { settings: ServeSettings; provisioner: ProvisionerSettings } {
  const settings = resolveServeSettings(config, flags);
  return { settings, provisioner: settings.provisioners.get('acme')! };
}

/** Listens on 127.0.0.1, port 0; resolves with the port. */
export async function listenLoopback(server: HttpServer | NetServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Closes the server and every connection it still holds. */
export async function closeServer(server: HttpServer | NetServer | undefined): Promise<void> {
  if (!server?.listening) return;
  const done = once(server, 'close');
  if ('closeAllConnections' in server) server.closeAllConnections();
  server.close();
  await done;
}

export interface ChallTestSrv {
  readonly dnsPort: number;
  readonly tlsAlpnPort: number;
  readonly managementPort: number;
  /** POST to the management API (`/set-txt`, `/clear-txt`, `/add-tlsalpn01`, …); throws unless 200. */
  manage(path: string, body: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Debian's pebble-challtestsrv on 127.0.0.1 as the dns-01 (mock DNS: TXT via /set-txt, A 127.0.0.1 and
 * AAAA ::1 for every other name) and tls-alpn-01 (/add-tlsalpn01) peer; http-01 and https-01 disabled.
 */
export async function startChallTestSrv(): Promise<ChallTestSrv> {
  const program = requirePeer('pebble-challtestsrv');
  const [dnsPort, tlsAlpnPort] = [await freePort(), await freePort()];
  const server = await startServer({
    program,
    args: (port) => ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', `127.0.0.1:${tlsAlpnPort}`, '-management', `127.0.0.1:${port}`],
    ready: (port) => new RegExp(`Starting management server on 127\\.0\\.0\\.1:${port}`),
  });
  await waitForPort(tlsAlpnPort);
  const manage = async (path: string, body: Record<string, string>) => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) throw new Error(`pebble-challtestsrv ${path}: HTTP ${response.status} ${await response.text()}`);
  };
  return { dnsPort, tlsAlpnPort, managementPort: server.port, manage, stop: () => server.stop() };
}
