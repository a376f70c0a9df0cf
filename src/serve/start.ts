/**
 * `pki serve` assembled: pki.json and the flags resolved into settings, the inventory opened once, the
 * intermediate loaded once (the passphrase asked at start only), each role's routes mounted, the listeners
 * started. The CLI command (cli/commands/serve.ts) owns signals and output; this returns what it needs.
 */
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import { openInventory } from '../store/inventory/index.js';
import { acmeRoutes } from './acme/routes.js';
import { healthRoutes } from './health.js';
import { createMetrics } from './metrics.js';
import { startOcsp } from './ocsp/routes.js';
import { publicationRoutes } from './publication.js';
import { renewRoutes } from './renew-api.js';
import { startListeners } from './server.js';
import { DEFAULT_PROVISIONER, resolveServeSettings, type ServeFlags } from './settings.js';
import { createTlsIdentity } from './tls-identity.js';
import type { ServeContext, ServeLogger } from './types.js';

export interface StartServeOptions {
  readonly flags: ServeFlags;
  readonly passphrase: PassphraseSource;
  readonly now: () => Date;
  readonly log: ServeLogger;
}

export interface RunningServe {
  readonly context: ServeContext;
  readonly httpsUrl: string;
  readonly httpUrl: string | null;
  readonly directoryUrl: string;
  readonly ocspUrl: string;
  /** `pki serve: listening on https://… (acme: …/acme/acme/directory, ocsp: …/ocsp)`. */
  readonly startLine: string;
  /** What the operator should know at start (no ACME identifier allowed, test-only validation ports). */
  readonly warnings: readonly string[];
  /** SIGHUP: pki.json read again; listeners and the inventory stay. */
  reload(): void;
  /** SIGTERM: stop accepting, finish in-flight requests, close the inventory. */
  close(): Promise<void>;
}

function startWarnings(context: ServeContext): string[] {
  const out: string[] = [];
  for (const p of context.settings.provisioners.values()) {
    if (p.allow.length === 0) out.push(`ACME provisioner "${p.name}" allows no identifier and refuses every order (give --acme-allow PATTERN or serve.acme.allow in pki.json)`);
  }
  if (context.settings.httpPort !== 80) out.push(`http-01 validation connects to port ${context.settings.httpPort} instead of 80 (--acme-http-port: for tests only)`);
  if (context.settings.tlsPort !== 443) out.push(`tls-alpn-01 validation connects to port ${context.settings.tlsPort} instead of 443 (--acme-tls-port: for tests only)`);
  return out;
}

export async function startServe(home: CaHome, options: StartServeOptions): Promise<RunningServe> {
  const config = home.readConfig();
  const settings = resolveServeSettings(config.serve, options.flags);
  const inventory = await openInventory(home);
  try {
    const issuer = await home.loadIssuer(options.passphrase, options.now(), inventory);
    const subscribers: ((serial: string) => void)[] = [];
    const context: ServeContext = {
      home,
      config,
      settings,
      inventory,
      issuer,
      rootPem: home.readRootCertificatePem(),
      now: options.now,
      log: options.log,
      metrics: createMetrics(),
      revocations: { notify: (serial) => subscribers.forEach((fn) => fn(serial)), subscribe: (fn) => void subscribers.push(fn) },
    };
    const identity = await createTlsIdentity(context);
    const ocsp = await startOcsp(context);
    const routes = [...healthRoutes(context), ...publicationRoutes(context), ...ocsp.routes, ...acmeRoutes(context), ...renewRoutes(context)];
    const listeners = await startListeners(context, routes, identity.material);
    identity.scheduleRenewal((m) => listeners.setTlsMaterial(m));
    const base = settings.baseUrl ?? listeners.httpsUrl;
    const directoryUrl = `${base}/acme/${DEFAULT_PROVISIONER}/directory`;
    const ocspUrl = `${settings.baseUrl ?? listeners.httpUrl ?? listeners.httpsUrl}/ocsp`;
    return {
      context,
      httpsUrl: listeners.httpsUrl,
      httpUrl: listeners.httpUrl,
      directoryUrl,
      ocspUrl,
      startLine: `pki serve: listening on ${listeners.httpsUrl}${listeners.httpUrl ? ` and ${listeners.httpUrl}` : ''} (acme: ${directoryUrl}, ocsp: ${ocspUrl})`,
      warnings: startWarnings(context),
      reload() {
        context.config = home.readConfig();
        context.settings = { ...resolveServeSettings(context.config.serve, options.flags), listen: settings.listen, httpListen: settings.httpListen };
      },
      async close() {
        identity.stop();
        ocsp.stop();
        await listeners.close();
        inventory.close();
      },
    };
  } catch (e) {
    inventory.close();
    throw e;
  }
}
