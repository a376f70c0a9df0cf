/**
 * pki.json's `serve` section (issue 13, docs/serve.md): what `pki serve` listens on, its ACME provisioners
 * and their policy, limits, and the OCSP responder. Every field can also be given as a flag of `pki serve`;
 * flags win (serve/settings.ts merges them). Validated with the rest of pki.json (store/config.ts).
 */
import * as z from 'zod/mini';
import { parseDuration } from '../core/x509/validity.js';
import { DEFAULT_CA_NAME, isCaName } from './issuing-ca.js';

export interface ProvisionerConfig {
  /** Identifier patterns (docs/serve.md "Patterns"): `*.test`, `.internal`, `db.internal`, `10.0.0.0/8`. None: every identifier is refused. */
  readonly allow?: string[];
  /** Whether IP identifiers (RFC 8738) may be ordered; default true when a CIDR is allowed. */
  readonly allowIp?: boolean;
  /** Leaf lifetime (default: the profile's, else pki.json validity.leaf). */
  readonly notAfter?: string;
  /** A built-in or pki.json profile (default `server`). */
  readonly profile?: string;
  /** Certificate key types accepted in a CSR: "P-256", "P-384", "RSA" (≥ 2048), "Ed25519"; default all four. */
  readonly keyTypes?: ('P-256' | 'P-384' | 'RSA' | 'Ed25519')[];
  /** RFC 8555 §7.3.4: newAccount must carry an externalAccountBinding signed with one of `eab`'s keys. */
  readonly externalAccountRequired?: boolean;
  /** EAB keys: kid → a file holding the base64url HMAC key (the key itself never in pki.json). */
  readonly eab?: Record<string, string>;
  /** The issuing CA its orders are issued by: `default` (the default intermediate) or a `pki ca add` name; default `default`. */
  readonly ca?: string;
  /** Issue 14: a trust domain (`domains/NAME/`) whose CA issues its orders instead; not with `ca`. */
  readonly trustDomain?: string;
}

export interface ServeLimitsConfig {
  readonly headerTimeout?: string;
  readonly requestTimeout?: string;
  readonly bodyBytes?: number;
  readonly rateLimits?: { readonly ordersPerAccountPerHour?: number; readonly newAccountsPerAddressPerHour?: number };
}

export interface ServeConfig {
  readonly listen?: string;
  readonly httpListen?: string;
  readonly baseUrl?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly passwordFile?: string;
  readonly acme?: {
    /** The default provisioner `acme`'s allowlist (`--acme-allow`). */
    readonly allow?: string[];
    /** Static resolution for validation, pattern → IP (`--acme-resolve PATTERN=IP`). */
    readonly resolve?: Record<string, string>;
    /** A DNS server for validation and dns-01 (`127.0.0.1:8053`); default the system's. */
    readonly resolver?: string;
    readonly httpPort?: number;
    readonly tlsPort?: number;
  };
  /** More provisioners beside `acme` (whose policy is `acme.allow` + this map's `acme` entry when given). */
  readonly provisioners?: Record<string, ProvisionerConfig>;
  readonly limits?: ServeLimitsConfig;
  readonly ocsp?: {
    /** Sign with a delegated OCSP signing certificate (id-kp-OCSPSigning, ocsp-nocheck) instead of the intermediate; default true. */
    readonly delegated?: boolean;
    /** nextUpdate − thisUpdate of pre-signed responses; default 1d. */
    readonly lifetime?: string;
  };
}

const strict = { error: (i: { code?: string; keys?: string[] }) => (i.code === 'unrecognized_keys' ? `unknown field "${i.keys?.[0]}"` : 'must be an object') };
const text = z.string({ error: 'must be a string' });
const duration = text.check(
  z.refine((t) => {
    try {
      parseDuration(t);
      return true;
    } catch {
      return false;
    }
  }, 'must be a duration such as 10s or 1d'),
);
const port = z.int({ error: 'must be an integer' }).check(z.gte(1, 'must be a port from 1 to 65535'), z.lte(65535, 'must be a port from 1 to 65535'));
const address = text.check(z.regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be ADDRESS:PORT, e.g. 127.0.0.1:8443 or [::1]:8443'));
const pattern = text.check(z.regex(/^[\x21-\x7e]{1,253}$/, 'must be a pattern such as "*.test", ".internal" or "10.0.0.0/8"'));
const positive = z.int({ error: 'must be an integer' }).check(z.gte(1, 'must be at least 1'));
const caName = text.check(
  z.refine((t) => t === DEFAULT_CA_NAME || isCaName(t), 'must be "default" or the name of a "pki ca add" CA (lower-case letters, digits and hyphens)'),
);
const trustDomainName = text.check(
  z.refine(isCaName, 'must be the name of a trust domain ("pki generate … --trust-domain NAME": lower-case letters, digits and hyphens)'),
);
const PROVISIONER_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const ProvisionerSchema = z.strictObject(
  {
    allow: z.optional(z.array(pattern, { error: 'must be an array' })),
    allowIp: z.optional(z.boolean({ error: 'must be true or false' })),
    notAfter: z.optional(duration),
    profile: z.optional(text),
    keyTypes: z.optional(z.array(z.enum(['P-256', 'P-384', 'RSA', 'Ed25519'], { error: 'must be one of "P-256", "P-384", "RSA", "Ed25519"' }), { error: 'must be an array' })),
    externalAccountRequired: z.optional(z.boolean({ error: 'must be true or false' })),
    eab: z.optional(z.record(text, text, { error: 'must be an object of key id → file' })),
    ca: z.optional(caName),
    trustDomain: z.optional(trustDomainName),
  },
  strict,
).check(
  // A trust domain has one issuing CA: naming both would leave which one signs to guesswork.
  z.refine((p) => p.ca === undefined || p.trustDomain === undefined, { error: 'give "ca" or "trustDomain", not both (a trust domain has one issuing CA)', path: ['trustDomain'] }),
);

export const ServeConfigSchema = z.strictObject(
  {
    listen: z.optional(address),
    httpListen: z.optional(address),
    baseUrl: z.optional(text.check(z.regex(/^https?:\/\/[\x21-\x7e]+[^/]$/, 'must be an http(s) URL without a trailing slash'))),
    tlsCert: z.optional(text),
    tlsKey: z.optional(text),
    passwordFile: z.optional(text),
    acme: z.optional(
      z.strictObject(
        {
          allow: z.optional(z.array(pattern, { error: 'must be an array' })),
          resolve: z.optional(z.record(pattern, text, { error: 'must be an object of pattern → IP' })),
          resolver: z.optional(address),
          httpPort: z.optional(port),
          tlsPort: z.optional(port),
        },
        strict,
      ),
    ),
    provisioners: z.optional(
      z.record(text.check(z.regex(PROVISIONER_NAME, 'a provisioner name must be 1 to 40 lower-case letters, digits, "_" or "-"')), ProvisionerSchema, {
        error: 'must be an object of named provisioners',
      }),
    ),
    limits: z.optional(
      z.strictObject(
        {
          headerTimeout: z.optional(duration),
          requestTimeout: z.optional(duration),
          bodyBytes: z.optional(positive),
          rateLimits: z.optional(z.strictObject({ ordersPerAccountPerHour: z.optional(positive), newAccountsPerAddressPerHour: z.optional(positive) }, strict)),
        },
        strict,
      ),
    ),
    ocsp: z.optional(z.strictObject({ delegated: z.optional(z.boolean({ error: 'must be true or false' })), lifetime: z.optional(duration) }, strict)),
  },
  strict,
);
