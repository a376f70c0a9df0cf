/**
 * Issue 13, done-means 1, the reference run: the ACME client harness against Debian's pebble (Let's
 * Encrypt's test server) on 127.0.0.1, with pebble-challtestsrv as its DNS server answering 127.0.0.1 for
 * every name. If a client fails here, the harness is wrong, not pki serve.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { httpsGet, startPebble, type Pebble } from '../helpers/pebble.js';
import { requirePeer } from '../helpers/peers.js';
import { clientSuite, PEERS } from './client-suite.js';

describe('ACME clients against pebble (reference)', () => {
  let pebble: Pebble;
  beforeAll(async () => {
    for (const p of [...PEERS, 'pebble']) requirePeer(p);
    pebble = await startPebble();
  }, 60_000);
  afterAll(async () => pebble?.stop());

  clientSuite(
    () => ({
      directoryUrl: pebble.directoryUrl,
      tlsRootPath: pebble.tlsRootPath,
      issuingRootPath: pebble.issuingRootPath,
      intermediatePath: pebble.intermediatePath,
      httpPort: pebble.httpPort,
      tlsPort: pebble.tlsPort,
      dnsResolver: pebble.dns.address,
    }),
    {
      afterRevoke: async (serial) => {
        const status = JSON.parse(await httpsGet(`${pebble.managementUrl}/cert-status-by-serial/${serial.toLowerCase().replace(/^0+/, '')}`, pebble.tlsRootPath)) as { Status: string };
        expect(status.Status).toBe('Revoked');
      },
    },
  );
});
