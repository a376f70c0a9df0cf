/**
 * `pki serve` assembled: pki.json and the flags resolved into settings, the inventory opened once, the
 * issuing CAs loaded once (issuing-cas.ts; the passphrase asked at start only), each role's routes
 * mounted, the listeners started. The CLI command (cli/commands/serve.ts) owns signals and output; this returns what it needs.
 */
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import { openInventory } from '../store/inventory/index.js';
import { DEFAULT_CA_NAME } from '../store/issuing-ca.js';
import { acmeRoutes } from './acme/routes.js';
import { healthRoutes } from './health.js';
import { createMetrics } from './metrics.js';
import { startOcsp, type RunningOcsp } from './ocsp/routes.js';
import { publicationRoutes } from './publication.js';
import { renewRoutes } from './renew-api.js';
import { startListeners, type Listeners } from './server.js';
import { DEFAULT_PROVISIONER, resolveServeSettings, type ServeFlags } from './settings.js';
import { loadIssuingCas, reloadedCaConfigs } from './issuing-cas.js';
import { createTlsIdentity } from './tls-identity.js';
import type { ServeContext, ServeLogger, ServeRequest } from './types.js';

export interface StartServeOptions {
  readonly flags: ServeFlags;
  readonly passphrase: PassphraseSource;
  readonly now: () => Date;
  readonly log: ServeLogger;
  /** Lifetime of the issued listener certificate (default 1d; renewed at two thirds). Internal: short ones are for tests. */
  readonly listenerLifetime?: string;
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
  /**
   * SIGHUP: pki.json read again and applied whole (policy, limits, base URL stamping), or — when it does
   * not parse or validate — refused with the error thrown and the previous configuration kept. The
   * listen addresses, the TLS certificate files and the inventory stay as they were at start.
   */
  reload(): void;
  /** SIGTERM: stop accepting, finish in-flight requests, close the inventory. */
  close(): Promise<void>;
}

function startWarnings(context: ServeContext, caWarnings: readonly string[]): string[] {
  const out: string[] = [...caWarnings];
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
  let listeners: Listeners | null = null;
  try {
    const loaded = await loadIssuingCas(home, settings, { passphrase: options.passphrase, now: options.now(), inventory });
    const defaultCa = loaded.cas.get(DEFAULT_CA_NAME)!;
    const subscribers: ((serial: string) => void)[] = [];
    const context: ServeContext = {
      home,
      config: defaultCa.config,
      settings,
      inventory,
      issuer: defaultCa.issuer,
      issuingCas: loaded.cas,
      rootPem: home.readRootCertificatePem(),
      now: options.now,
      log: options.log,
      metrics: createMetrics(options.now()),
      revocations: { notify: (serial) => subscribers.forEach((fn) => fn(serial)), subscribe: (fn) => void subscribers.push(fn) },
    };
    // OCSP's routes are mounted before its signer exists: the ports are bound first, so a busy port is refused with nothing issued.
    let ocsp: RunningOcsp | null = null;
    const ocspRoutes = (['/ocsp', '/ocsp/'] as const).map((path) => ({
      path,
      methods: ['GET', 'POST'],
      endpoint: 'ocsp',
      handler: async (request: ServeRequest) => (ocsp ? ocsp.routes.find((r) => r.path === path)!.handler(request) : { status: 503, headers: { 'Retry-After': '1' } }),
    }));
    const routes = [...healthRoutes(context), ...publicationRoutes(context), ...ocspRoutes, ...acmeRoutes(context), ...renewRoutes(context)];
    // Bound before the certificate is issued: a busy port is refused with nothing recorded.
    const bound = (listeners = await startListeners(context, routes));
    const identity = await createTlsIdentity(context, options.listenerLifetime ? { lifetime: options.listenerLifetime } : {});
    bound.setTlsMaterial(identity.material);
    identity.scheduleRenewal((m) => bound.setTlsMaterial(m));
    const running = await startOcsp(context);
    ocsp = running;
    const base = settings.baseUrl ?? bound.httpsUrl;
    const directoryUrl = `${base}/acme/${DEFAULT_PROVISIONER}/directory`;
    const ocspUrl = `${settings.baseUrl ?? bound.httpUrl ?? bound.httpsUrl}/ocsp`;
    return {
      context,
      httpsUrl: bound.httpsUrl,
      httpUrl: bound.httpUrl,
      directoryUrl,
      ocspUrl,
      startLine: `pki serve: listening on ${bound.httpsUrl}${bound.httpUrl ? ` and ${bound.httpUrl}` : ''} (acme: ${directoryUrl}, ocsp: ${ocspUrl})`,
      warnings: startWarnings(context, loaded.warnings),
      reload() {
        const next = home.readConfig();
        const nextSettings = { ...resolveServeSettings(next.serve, options.flags), listen: settings.listen, httpListen: settings.httpListen, tlsCert: settings.tlsCert, tlsKey: settings.tlsKey };
        const caConfigs = reloadedCaConfigs(context, nextSettings);
        for (const ca of context.issuingCas.values()) ca.config = caConfigs.get(ca.key)!;
        context.config = caConfigs.get(DEFAULT_CA_NAME)!;
        context.settings = nextSettings;
        bound.applyLimits();
      },
      async close() {
        identity.stop();
        running.stop();
        await bound.close();
        inventory.close();
      },
    };
  } catch (e) {
    await listeners?.close(0);
    inventory.close();
    throw e;
  }
}
