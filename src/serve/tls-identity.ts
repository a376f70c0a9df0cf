/**
 * The HTTPS listener's certificate: the operator's (`--tls-cert/--tls-key`, read once) or one issued from
 * the CA home at start (operations/serve-identity.ts) and replaced in-process at two thirds of its
 * lifetime, so a long-running server never serves an expired certificate.
 */
import { issueServerIdentity } from '../operations/serve-identity.js';
import { readText } from '../store/ca-home.js';
import type { TlsMaterial } from './server.js';
import type { ServeContext } from './types.js';

export interface TlsIdentity {
  readonly material: TlsMaterial;
  /** Starts the renewal timer (issued identities only); `apply` installs each successor. */
  scheduleRenewal(apply: (material: TlsMaterial) => void): void;
  stop(): void;
}

const LIFETIME = '1d';

export async function createTlsIdentity(context: ServeContext): Promise<TlsIdentity> {
  const { settings } = context;
  const clientCaPem = context.rootPem + context.issuer.certificatePem;
  if (settings.tlsCert && settings.tlsKey) {
    const material = { keyPem: readText(settings.tlsKey), chainPem: readText(settings.tlsCert), clientCaPem };
    return { material, scheduleRenewal: () => {}, stop: () => {} };
  }
  const issue = async () => {
    const id = await issueServerIdentity(context.inventory, context.issuer, context.config, { host: settings.listen.host, lifetime: LIFETIME }, context.now());
    return { id, material: { keyPem: id.keyPem, chainPem: id.chainPem, clientCaPem } };
  };
  let current = await issue();
  let timer: NodeJS.Timeout | null = null;
  return {
    material: current.material,
    scheduleRenewal(apply) {
      const arm = () => {
        const { notBefore, notAfter } = current.id;
        const due = notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3;
        timer = setTimeout(
          async () => {
            try {
              current = await issue();
              apply(current.material);
              context.log.event('renewed the HTTPS listener certificate', { serial: current.id.serial, notAfter: current.id.notAfter.toISOString() });
            } catch (e) {
              context.log.event('could not renew the HTTPS listener certificate; retrying in 60 s', { error: e instanceof Error ? e.message : String(e) });
            }
            arm();
          },
          Math.max(60_000, due - context.now().getTime()),
        );
        timer.unref();
      };
      arm();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}
