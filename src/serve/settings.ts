/**
 * The settings `pki serve` runs with: pki.json's `serve` section (store/serve-config.ts) with the flags laid
 * over it (flags win), defaults filled in, every duration in milliseconds. Recomputed on SIGHUP.
 */
import { PkiError } from '../core/errors.js';
import { parseDuration } from '../core/x509/validity.js';
import type { PkiConfig } from '../store/config.js';
import { DEFAULT_CA_NAME, DEFAULT_ISSUING_CA, type IssuingCaRef } from '../store/issuing-ca.js';
import type { ServeConfig } from '../store/serve-config.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ProvisionerSettings {
  readonly name: string;
  /** Identifier patterns; empty: every identifier is refused (the start-up line says so). */
  readonly allow: readonly string[];
  readonly allowIp: boolean;
  /** Leaf lifetime (duration text) or undefined: the profile's, else pki.json validity.leaf. */
  readonly notAfter: string | undefined;
  readonly profile: string;
  readonly keyTypes: readonly ('P-256' | 'P-384' | 'RSA' | 'Ed25519')[];
  readonly externalAccountRequired: boolean;
  /** EAB kid → file holding the base64url HMAC key. */
  readonly eab: Readonly<Record<string, string>>;
  /** The issuing CA its orders are issued by (`default` or a `pki ca add` name; checked to exist at start and reload). */
  readonly ca: string;
  /** Or the trust domain whose CA issues its orders (issue 14), null for the main hierarchy; never with a `ca` other than `default`. */
  readonly trustDomain: string | null;
}

export interface ServeSettings {
  readonly listen: ListenAddress;
  readonly httpListen: ListenAddress | null;
  /** The external base URL (`https://ca.example:443`, no trailing slash) or null: the listener's own. */
  readonly baseUrl: string | null;
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly provisioners: ReadonlyMap<string, ProvisionerSettings>;
  /** Static validation resolution, first match wins: `*.test` → 127.0.0.1. */
  readonly resolve: readonly { readonly pattern: string; readonly address: string }[];
  /** A DNS server (host:port) for validation and dns-01, or null: the system's. */
  readonly resolver: ListenAddress | null;
  /** Ports the validator connects to for http-01 (80) and tls-alpn-01 (443); other values are for tests. */
  readonly httpPort: number;
  readonly tlsPort: number;
  readonly limits: {
    readonly headerTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly bodyBytes: number;
    readonly ordersPerAccountPerHour: number;
    readonly newAccountsPerAddressPerHour: number;
  };
  readonly ocsp: { readonly delegated: boolean; readonly lifetimeMs: number };
}

/** The flags of `pki serve`, as the command parsed them (undefined: not given). */
export interface ServeFlags {
  readonly listen?: string | undefined;
  readonly httpListen?: string | undefined;
  readonly baseUrl?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly acmeAllow?: readonly string[] | undefined;
  readonly acmeResolve?: readonly string[] | undefined;
  readonly acmeHttpPort?: number | undefined;
  readonly acmeTlsPort?: number | undefined;
}

export const DEFAULT_LISTEN = '127.0.0.1:8443';
export const DEFAULT_PROVISIONER = 'acme';

/** `127.0.0.1:8443`, `[::1]:8443`, `localhost:0`; refused with ERR_USAGE naming the flag. */
export function parseListenAddress(text: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new PkiError('ERR_USAGE', `${what} "${text}" is not ADDRESS:PORT`, { hint: 'e.g. 127.0.0.1:8443 or [::1]:8443 (port 0: any free port)' });
  return { host: m[1] ?? m[2]!, port };
}

function parseResolve(entry: string): { pattern: string; address: string } {
  const at = entry.lastIndexOf('=');
  if (at <= 0 || at === entry.length - 1) throw new PkiError('ERR_USAGE', `--acme-resolve "${entry}" is not PATTERN=IP`, { hint: "e.g. --acme-resolve '*.test=127.0.0.1'" });
  return { pattern: entry.slice(0, at), address: entry.slice(at + 1) };
}

export function resolveServeSettings(config: ServeConfig | undefined, flags: ServeFlags): ServeSettings {
  const c = config ?? {};
  const allow = flags.acmeAllow?.length ? flags.acmeAllow : (c.acme?.allow ?? []);
  const provisioners = new Map<string, ProvisionerSettings>();
  const configured = { ...(c.provisioners ?? {}) };
  const names = [DEFAULT_PROVISIONER, ...Object.keys(configured).filter((n) => n !== DEFAULT_PROVISIONER)];
  for (const name of names) {
    const p = configured[name] ?? {};
    const list = name === DEFAULT_PROVISIONER ? [...allow, ...(p.allow ?? [])] : (p.allow ?? []);
    provisioners.set(name, {
      name,
      allow: list,
      allowIp: p.allowIp ?? list.some((a) => a.includes('/')),
      notAfter: p.notAfter,
      profile: p.profile ?? 'server',
      keyTypes: p.keyTypes ?? ['P-256', 'P-384', 'RSA', 'Ed25519'],
      externalAccountRequired: p.externalAccountRequired ?? false,
      eab: p.eab ?? {},
      ca: p.ca ?? DEFAULT_CA_NAME,
      trustDomain: p.trustDomain ?? null,
    });
  }
  const resolveEntries = flags.acmeResolve?.length ? flags.acmeResolve.map(parseResolve) : Object.entries(c.acme?.resolve ?? {}).map(([pattern, address]) => ({ pattern, address }));
  const httpListen = flags.httpListen ?? c.httpListen;
  const tlsCert = flags.tlsCert ?? c.tlsCert ?? null;
  const tlsKey = flags.tlsKey ?? c.tlsKey ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) {
    throw new PkiError('ERR_USAGE', tlsCert === null ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key', {
      hint: 'give both (or serve.tlsCert and serve.tlsKey in pki.json), or neither to have the listener certificate issued from the CA home',
    });
  }
  return {
    listen: parseListenAddress(flags.listen ?? c.listen ?? DEFAULT_LISTEN, '--listen'),
    httpListen: httpListen === undefined ? null : parseListenAddress(httpListen, '--http-listen'),
    baseUrl: (flags.baseUrl ?? c.baseUrl)?.replace(/\/+$/, '') ?? null,
    tlsCert,
    tlsKey,
    provisioners,
    resolve: resolveEntries,
    resolver: c.acme?.resolver ? parseListenAddress(c.acme.resolver, 'serve.acme.resolver') : null,
    httpPort: flags.acmeHttpPort ?? c.acme?.httpPort ?? 80,
    tlsPort: flags.acmeTlsPort ?? c.acme?.tlsPort ?? 443,
    limits: {
      headerTimeoutMs: parseDuration(c.limits?.headerTimeout ?? '10s'),
      requestTimeoutMs: parseDuration(c.limits?.requestTimeout ?? '30s'),
      bodyBytes: c.limits?.bodyBytes ?? 64 * 1024,
      ordersPerAccountPerHour: c.limits?.rateLimits?.ordersPerAccountPerHour ?? 300,
      newAccountsPerAddressPerHour: c.limits?.rateLimits?.newAccountsPerAddressPerHour ?? 50,
    },
    ocsp: { delegated: c.ocsp?.delegated ?? true, lifetimeMs: parseDuration(c.ocsp?.lifetime ?? '1d') },
  };
}

/** Where `pki serve` publishes one issuing CA's files (serve/publication.ts), relative to the base URL. */
export interface PublishedPaths {
  readonly crl: string;
  readonly intermediatePem: string;
  readonly intermediateCrt: string;
  /** A trust domain's own root (the main root is /roots.pem); null for the main hierarchy's CAs. */
  readonly rootPem: string | null;
  readonly rootCrt: string | null;
}

/**
 * The default intermediate's at `/crl/intermediate_ca.crl`, `/intermediate.{pem,crt}`; a `pki ca add` CA's at
 * `/crl/NAME.crl`, `/ca/NAME/intermediate.{pem,crt}`; a trust domain's under `/domains/NAME/` as its folder
 * holds them (`crl/intermediate_ca.crl`, `intermediate.{pem,crt}`, `root.{pem,crt}`). The same rewrite
 * CaHome#readConfig applies to pki.json's URLs (store/issuing-ca-policy.ts), so a CA home published by a
 * static web server and `pki serve` answer at the same paths.
 */
export function publishedPaths(ref: IssuingCaRef): PublishedPaths {
  if (ref.trustDomain) {
    const base = `/domains/${ref.trustDomain}`;
    return { crl: `${base}/crl/intermediate_ca.crl`, intermediatePem: `${base}/intermediate.pem`, intermediateCrt: `${base}/intermediate.crt`, rootPem: `${base}/root.pem`, rootCrt: `${base}/root.crt` };
  }
  if (ref.name) return { crl: `/crl/${ref.name}.crl`, intermediatePem: `/ca/${ref.name}/intermediate.pem`, intermediateCrt: `/ca/${ref.name}/intermediate.crt`, rootPem: null, rootCrt: null };
  return { crl: '/crl/intermediate_ca.crl', intermediatePem: '/intermediate.pem', intermediateCrt: '/intermediate.crt', rootPem: null, rootCrt: null };
}

/**
 * pki.json as the server issues with: with a base URL configured, every certificate it issues (ACME, the
 * listener's own, /1.0/renew) points at this server — the CRL distribution point and caIssuers of the CA
 * that issues it (publishedPaths), OCSP `<base>/ocsp` — unless pki.json (as that CA reads it) names its own
 * (`crl.distributionPoints`, `ocsp.urls`, `aia.caIssuers`; each kept whole when non-empty). Without a base
 * URL, pki.json as it is.
 */
export function effectiveConfig(config: PkiConfig, baseUrl: string | null, ref: IssuingCaRef = DEFAULT_ISSUING_CA): PkiConfig {
  if (baseUrl === null) return config;
  const paths = publishedPaths(ref);
  return {
    ...config,
    crl: config.crl?.distributionPoints.length ? config.crl : { nextUpdate: '7d', ...config.crl, distributionPoints: [`${baseUrl}${paths.crl}`] },
    ocsp: config.ocsp?.urls.length ? config.ocsp : { urls: [`${baseUrl}/ocsp`] },
    aia: config.aia?.caIssuers.length ? config.aia : { caIssuers: [`${baseUrl}${paths.intermediateCrt}`] },
  };
}
