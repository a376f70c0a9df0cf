/**
 * Helpers for the validation authority tests (test/serve/va-*.test.ts): settings built the way `pki serve`
 * builds them (resolveServeSettings), and node servers on 127.0.0.1 port 0 closed after the test.
 */
import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { resolveServeSettings, type ProvisionerSettings, type ServeFlags, type ServeSettings } from '../../src/serve/settings.js';
import type { ServeConfig } from '../../src/store/serve-config.js';

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
