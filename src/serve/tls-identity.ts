/**
 * The HTTPS listener's certificate: the operator's (`--tls-cert/--tls-key`, read once and checked to
 * belong together) or one issued from the CA home at start (operations/serve-identity.ts) and replaced
 * in-process at two thirds of its lifetime, so a long-running server never serves an expired certificate.
 * A failed renewal is logged and retried (every `retryMs`) while the current certificate is still valid.
 */
import { createSecureContext } from 'node:tls';
import { PkiError } from '../core/errors.js';
import { parseDuration } from '../core/x509/validity.js';
import { issueServerIdentity, type ServerIdentity } from '../operations/serve-identity.js';
import { readText } from '../store/ca-home.js';
import type { TlsMaterial } from './server.js';
import type { ServeContext } from './types.js';

export interface TlsIdentity {
  readonly material: TlsMaterial;
  /** The serial of the issued certificate now served (null for the operator's). */
  readonly serial: string | null;
  /** Starts the renewal timer (issued identities only); `apply` installs each successor. */
  scheduleRenewal(apply: (material: TlsMaterial) => void): void;
  stop(): void;
}

export interface TlsIdentityOptions {
  /** Lifetime of an issued listener certificate (default 1d); short ones are for tests. */
  readonly lifetime?: string;
  /** Delay before a failed renewal is tried again (default 60 s). */
  readonly retryMs?: number;
}

function operatorIdentity(certPath: string, keyPath: string, clientCaPem: string): TlsIdentity {
  const material = { keyPem: readText(keyPath), chainPem: readText(certPath), clientCaPem };
  try {
    createSecureContext({ key: material.keyPem, cert: material.chainPem });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new PkiError(/mismatch/i.test(why) ? 'ERR_KEY_MISMATCH' : 'ERR_MALFORMED_PEM', `--tls-cert ${certPath} and --tls-key ${keyPath} cannot serve HTTPS: ${why}`, {
      hint: 'give the PEM certificate chain (leaf first) and its unencrypted PEM private key',
    });
  }
  return { material, serial: null, scheduleRenewal: () => {}, stop: () => {} };
}

/** When to renew: two thirds of the way from issuance to notAfter (notBefore is backdated for clock skew, so it is not the start). */
export function renewalDue(issuedAt: Date, notAfter: Date): Date {
  return new Date(issuedAt.getTime() + ((notAfter.getTime() - issuedAt.getTime()) * 2) / 3);
}

export async function createTlsIdentity(context: ServeContext, options: TlsIdentityOptions = {}): Promise<TlsIdentity> {
  const { settings } = context;
  // Client certificates (/1.0/renew) of every CA the server holds: each root (a trust domain's is its own) and intermediate.
  const cas = [...context.issuingCas.values()];
  const clientCaPem = [...new Set([context.rootPem, ...cas.map((ca) => ca.rootPem)])].join('') + cas.map((ca) => ca.issuer.certificatePem).join('');
  if (settings.tlsCert && settings.tlsKey) return operatorIdentity(settings.tlsCert, settings.tlsKey, clientCaPem);
  const lifetime = options.lifetime ?? '1d';
  parseDuration(lifetime);
  const retryMs = options.retryMs ?? 60_000;
  const issue = async () => {
    const issuedAt = context.now();
    const started = process.hrtime.bigint();
    const id: ServerIdentity = await issueServerIdentity(context.inventory, context.issuer, context.config, { host: settings.listen.host, lifetime }, issuedAt);
    context.metrics.observeIssuance('listener', Number(process.hrtime.bigint() - started) / 1e9);
    context.metrics.setGauge('pki_serve_listener_certificate_not_after_timestamp_seconds', "notAfter of the HTTPS listener's certificate, Unix time.", id.notAfter.getTime() / 1000);
    return { id, due: renewalDue(issuedAt, id.notAfter), material: { keyPem: id.keyPem, chainPem: id.chainPem, clientCaPem } };
  };
  let current = await issue();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const identity: TlsIdentity = {
    get material() {
      return current.material;
    },
    get serial() {
      return current.id.serial;
    },
    scheduleRenewal(apply) {
      const arm = (delayMs: number) => {
        if (stopped) return;
        timer = setTimeout(async () => {
          try {
            current = await issue();
            apply(current.material);
            context.log.event('renewed the HTTPS listener certificate', { serial: current.id.serial, notAfter: current.id.notAfter.toISOString() });
            arm(current.due.getTime() - context.now().getTime());
          } catch (e) {
            context.log.event(`could not renew the HTTPS listener certificate; retrying in ${Math.round(retryMs / 1000)} s`, { error: e instanceof Error ? e.message : String(e) });
            arm(retryMs);
          }
        }, Math.max(0, delayMs));
        timer.unref();
      };
      arm(current.due.getTime() - context.now().getTime());
    },
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
  return identity;
}
