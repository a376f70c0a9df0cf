/**
 * Where the validator may connect (docs/serve.md "Validation"): a name is resolved through the static map
 * (`settings.resolve`, first matching pattern wins) and only when none matches through the configured DNS
 * server (`settings.resolver`), else the system's resolver; an IP identifier is used as is. Every host the
 * validator is sent to (the identifier, each redirect target) must be admitted by the provisioner's
 * allowlist first. Failures are `AcmeProblemError`s (dns, rejectedIdentifier).
 */
import { lookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isIdentifierAllowed, matchesIdentifierPattern } from '../../core/acme/identifier-pattern.js';
import type { AcmeIdentifier } from '../../store/inventory/acme.js';
import { AcmeProblemError } from '../acme/problem.js';
import type { ListenAddress, ProvisionerSettings, ServeSettings } from '../settings.js';

/** A DNS query's own bound (the whole validation has its own deadline too). */
export const DNS_TIMEOUT_MS = 3_000;

/** `host` as an identifier: an IP address (brackets dropped) or a DNS name (lower case, no trailing dot). */
export function identifierOfHost(host: string): AcmeIdentifier {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) ? { type: 'ip', value: bare } : { type: 'dns', value: bare.toLowerCase().replace(/\.$/, '') };
}

/** Whether the provisioner's allowlist admits `identifier` (IP identifiers also need allowIp). */
export function provisionerAdmits(provisioner: ProvisionerSettings, identifier: AcmeIdentifier): boolean {
  if (identifier.type === 'ip' && !provisioner.allowIp) return false;
  return isIdentifierAllowed(identifier, provisioner.allow);
}

/** A Resolver that asks only `server` (host:port), each query bounded. */
export function dnsServerResolver(server: ListenAddress): Resolver {
  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 2 });
  resolver.setServers([isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  return resolver;
}

/** Rejects with a dns problem when `signal` aborts first (a Resolver query cannot take a signal). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => void, what: string): Promise<T> {
  if (signal.aborted) onAbort();
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(new AcmeProblemError('dns', `${what}: no answer before the validation deadline`));
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => (signal.removeEventListener('abort', abort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', abort), reject(e)),
    );
  });
}

function dnsProblem(name: string, error: unknown, via: string): AcmeProblemError {
  const code = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
  return new AcmeProblemError('dns', `could not resolve ${name} (via ${via}): ${code}`);
}

async function resolveWithServer(name: string, server: ListenAddress, signal: AbortSignal): Promise<string[]> {
  const resolver = dnsServerResolver(server);
  const via = `${server.host}:${server.port}`;
  const query = Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const [v4, v6] = await untilAborted(query, signal, () => resolver.cancel(), `resolving ${name} via ${via}`);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length > 0) return addresses;
  throw dnsProblem(name, v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : new Error('no A or AAAA record'), via);
}

/**
 * The addresses to try for `host` (IPv4 first), with where they came from. Throws dns when the name does
 * not resolve. Admission by the allowlist is the caller's, before this.
 */
export async function resolveHost(settings: ServeSettings, host: string, signal: AbortSignal): Promise<{ addresses: string[]; via: string }> {
  const id = identifierOfHost(host);
  if (id.type === 'ip') return { addresses: [id.value], via: 'the identifier' };
  const entry = settings.resolve.find((e) => matchesIdentifierPattern(id, e.pattern));
  if (entry) {
    // The map must give an address: a name here would be looked up by the system, outside this order.
    if (!isIP(entry.address)) throw new AcmeProblemError('dns', `--acme-resolve ${entry.pattern}=${entry.address} maps ${id.value} to something that is not an IP address`);
    return { addresses: [entry.address], via: `--acme-resolve ${entry.pattern}` };
  }
  if (settings.resolver) return { addresses: await resolveWithServer(id.value, settings.resolver, signal), via: `${settings.resolver.host}:${settings.resolver.port}` };
  try {
    const found = await untilAborted(lookup(id.value, { all: true, verbatim: false }), signal, () => undefined, `resolving ${id.value}`);
    return { addresses: found.map((a) => a.address), via: 'the system resolver' };
  } catch (error) {
    if (error instanceof AcmeProblemError) throw error;
    throw dnsProblem(id.value, error, 'the system resolver');
  }
}
