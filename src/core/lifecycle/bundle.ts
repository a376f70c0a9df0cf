/**
 * A service bundle (`pki generate <service> <variant>`): what it contains, and how an existing bundle
 * differs from a request — so that running generate again converges instead of clobbering.
 */
import { PkiError } from '../errors.js';
import { formatKeySpec, type KeySpec } from '../keys/keys.js';
import { parseSans, validateServiceName, type San } from '../x509/names.js';
import type { Validity } from '../x509/validity.js';

export interface BundleRequest {
  readonly service: string;
  readonly variant: string;
  /** All SANs of the service certificate, defaults included. */
  readonly sans: readonly San[];
  readonly clients: readonly string[];
  readonly keySpec: KeySpec;
}

export interface BundleFile {
  readonly role: 'trust-anchor' | 'service-certificate' | 'service-key' | 'client-certificate' | 'client-key';
  readonly name: string;
  /** For client files, the client's name. */
  readonly client?: string;
}

/** The names every service certificate answers to besides its own (local health checks, redis-cli). */
export const DEFAULT_SERVICE_SANS = ['localhost', '127.0.0.1', '::1'] as const;

/** Validates names and builds the request: default SANs first, then --san values, de-duplicated. */
export function buildBundleRequest(input: {
  service: string;
  variant: string;
  extraSans: readonly string[];
  clients: readonly string[];
  keySpec: KeySpec;
}): BundleRequest {
  const service = validateServiceName('service', input.service);
  const variant = validateServiceName('variant', input.variant);
  const clients: string[] = [];
  for (const c of input.clients) {
    validateServiceName('client', c);
    if (c === service || c === 'ca') {
      throw new PkiError('ERR_INVALID_NAME', `client name "${c}" would collide with the ${c === 'ca' ? 'trust anchor' : 'service'} files`, {
        hint: 'choose another --client name',
      });
    }
    if (!clients.includes(c)) clients.push(c);
  }
  return { service, variant, sans: parseSans([service, ...DEFAULT_SERVICE_SANS, ...input.extraSans]), clients, keySpec: input.keySpec };
}

export function bundleFiles(request: BundleRequest): BundleFile[] {
  return [
    { role: 'trust-anchor', name: 'ca.crt' },
    { role: 'service-certificate', name: `${request.service}.crt` },
    { role: 'service-key', name: `${request.service}.key` },
    ...request.clients.flatMap((client): BundleFile[] => [
      { role: 'client-certificate', name: `${client}.crt`, client },
      { role: 'client-key', name: `${client}.key`, client },
    ]),
  ];
}

/** What an existing bundle on disk says about itself. */
export interface ExistingBundle {
  /** Names of the files present in the folder. */
  readonly files: readonly string[];
  readonly serviceSans: readonly San[] | null;
  readonly serviceKeySpec: KeySpec | null;
  /** Clients found: every `<name>.crt` other than ca.crt and the service certificate. */
  readonly clients: readonly string[];
  /** Whether ca.crt is the CA home's current root. */
  readonly sameTrustAnchor: boolean | null;
  /** Whether the service certificate names the CA issuing now as its issuer (null: not known). */
  readonly sameIssuer?: boolean | null;
  /** Validity of each certificate file that could be read (`redis.crt`, `client.crt`, …). */
  readonly validities?: ReadonlyMap<string, Validity>;
}

export type BundleState =
  | { readonly state: 'absent' }
  | { readonly state: 'up-to-date' }
  | { readonly state: 'partial'; readonly missing: string[] }
  | { readonly state: 'different'; readonly differences: string[] }
  /**
   * Converges without re-keying: new clients get a key and certificate, `reissue` (certificate file names)
   * are re-signed over their existing keys with the requested SANs and validity; every other file is kept.
   */
  | { readonly state: 'update'; readonly addClients: string[]; readonly reissue: string[]; readonly changes: string[] };

const sanKey = (s: San) => `${s.type}:${s.value}`;

function setDiff(label: string, want: readonly string[], have: readonly string[]): string[] {
  const add = want.filter((w) => !have.includes(w));
  const remove = have.filter((h) => !want.includes(h));
  const out: string[] = [];
  if (add.length) out.push(`${label} to add: ${add.join(', ')}`);
  if (remove.length) out.push(`${label} not requested: ${remove.join(', ')}`);
  return out;
}

/** Within a second: certificates carry whole seconds. */
const SAME_INSTANT_MS = 1000;

/**
 * Whether a certificate already has the validity a request asks for: the same end (an RFC 3339
 * --not-after) or the same lifetime (a duration, whose end moves with the clock), so re-running the same
 * command converges.
 */
export function sameValidity(have: Validity, want: Validity): boolean {
  const lifetime = (v: Validity) => v.notAfter.getTime() - v.notBefore.getTime();
  return Math.abs(have.notAfter.getTime() - want.notAfter.getTime()) <= SAME_INSTANT_MS || Math.abs(lifetime(have) - lifetime(want)) <= SAME_INSTANT_MS;
}

/**
 * Compares a request with what is on disk. `requestedValidity` is given when the command named one
 * (--not-after): certificates with another validity are then re-issued.
 *
 * What needs a new key is a difference (another key type or trust anchor, a client on disk the request
 * does not list) and takes --force; what does not is an update: new clients, changed SANs, a changed
 * validity (issue 9).
 */
export function compareBundle(request: BundleRequest, existing: ExistingBundle, requestedValidity?: Validity): BundleState {
  const expected = bundleFiles(request).map((f) => f.name);
  const present = expected.filter((n) => existing.files.includes(n));
  if (present.length === 0 && existing.clients.length === 0) return { state: 'absent' };
  const differences: string[] = [];
  if (existing.sameTrustAnchor === false) differences.push('ca.crt is not the current root CA (the bundle was issued by another CA)');
  else if (existing.sameIssuer === false) differences.push('its certificates were issued by another issuing CA than the one asked for (--ca)');
  if (existing.serviceKeySpec && formatKeySpec(existing.serviceKeySpec) !== formatKeySpec(request.keySpec)) {
    differences.push(`key type is ${formatKeySpec(existing.serviceKeySpec)}, requested ${formatKeySpec(request.keySpec)}`);
  }
  const dropped = existing.clients.filter((c) => !request.clients.includes(c));
  // Dropping a client removes files: only --force does that. The whole client diff is named, so the fix is clear.
  if (dropped.length) differences.push(...setDiff('clients', request.clients, existing.clients));
  if (differences.length) return { state: 'different', differences };

  const newClients = request.clients.filter((c) => !existing.clients.includes(c) && !existing.files.includes(`${c}.key`));
  const newFiles = new Set(newClients.flatMap((c) => [`${c}.crt`, `${c}.key`]));
  const missing = expected.filter((n) => !existing.files.includes(n) && !newFiles.has(n));
  if (missing.length) return { state: 'partial', missing };

  const changes: string[] = [];
  const reissue = new Set<string>();
  const serviceCert = `${request.service}.crt`;
  if (existing.serviceSans) {
    const sanChanges = setDiff('SANs', request.sans.map(sanKey), existing.serviceSans.map(sanKey)).map((d) => d.replace(/(dns|ip|email|uri):/g, ''));
    if (sanChanges.length) {
      changes.push(...sanChanges);
      reissue.add(serviceCert);
    }
  }
  if (requestedValidity && existing.validities) {
    const stale = [serviceCert, ...existing.clients.map((c) => `${c}.crt`)].filter((n) => {
      const have = existing.validities!.get(n);
      return have !== undefined && !sameValidity(have, requestedValidity);
    });
    if (stale.length) changes.push(`validity changes for ${stale.join(', ')}`);
    for (const n of stale) reissue.add(n);
  }
  if (newClients.length) changes.unshift(`clients to add: ${newClients.join(', ')}`);
  if (changes.length) return { state: 'update', addClients: newClients, reissue: [...reissue], changes };
  return { state: 'up-to-date' };
}
