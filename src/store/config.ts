/**
 * `pki.json`: the CA's configuration, validated on every load so a hand edit that breaks it is reported
 * with the field that is wrong rather than failing somewhere later.
 */
import * as z from 'zod/mini';
import { PkiError } from '../core/errors.js';
import { DEFAULT_CLOCK_SKEW_MS, parseDuration } from '../core/x509/validity.js';
import { resolveKeySpec, type KeySpec } from '../core/keys/keys.js';
import { DEFAULT_MAX_SANS, parseSan } from '../core/x509/names.js';
import { CA_ONLY_KEY_USAGES, roleOfExtKeyUsage, type ProfileConfig } from '../core/x509/profile-config.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, type ExtKeyUsage, type KeyUsage } from '../core/x509/usages.js';
import { ServeConfigSchema, type ServeConfig } from './serve-config.js';
import { parsePkcs11Uri } from './pkcs11/uri.js';
import { isCaName } from './issuing-ca.js';

export interface PkiConfig {
  readonly version: 1;
  readonly name: string;
  readonly key: { readonly kty: 'EC' | 'RSA' | 'OKP'; readonly crv?: 'P-256' | 'P-384' | 'Ed25519'; readonly size?: number };
  readonly validity: { readonly root: string; readonly intermediate: string; readonly leaf: string };
  /** Subject alternative names one certificate may carry (generate, sign, renew); default 100 (core/x509/names.ts). */
  readonly maxSans?: number;
  /** How far notBefore is backdated for hosts with slow clocks (generate, sign, renew); default 1m. */
  readonly clockSkew?: string;
  readonly crl?: {
    /** Stamped as crlDistributionPoints into every certificate issued afterwards. */
    readonly distributionPoints: string[];
    /** Lifetime of the intermediate's CRL (`pki crl`, `pki revoke`); default 7d. */
    readonly nextUpdate: string;
    /** Lifetime of the root's CRL (`pki init`, `pki crl --root`): long, as the root key lives offline; default 1y. */
    readonly rootNextUpdate?: string;
  };
  readonly ocsp?: { readonly urls: string[] };
  /** Stamped as Authority Information Access / caIssuers into every leaf issued afterwards. */
  readonly aia?: { readonly caIssuers: string[] };
  readonly nameConstraints?: {
    readonly permittedDns: string[];
    readonly excludedDns: string[];
    readonly permittedIp: string[];
    readonly excludedIp: string[];
    readonly permittedEmail: string[];
    readonly permittedUri: string[];
  };
  /** Named certificate profiles (`--profile NAME`); core/x509/profile-config.ts resolves them. */
  readonly profiles?: Readonly<Record<string, ProfileConfig>>;
  /** `pki serve`: listeners, ACME provisioners, limits, OCSP (store/serve-config.ts, docs/serve.md). */
  readonly serve?: ServeConfig;
  /**
   * Issue 14: the services each trust domain holds — `pki generate SERVICE …` issues from that domain as
   * with `--trust-domain NAME` (store/issuing-ca.ts#trustDomainOfService). A service is in one domain at most.
   */
  readonly trustDomains?: Readonly<Record<string, { readonly services: readonly string[] }>>;
  /**
   * A shared PostgreSQL inventory instead of db/pki.sqlite (issue 14): `postgres://USER@HOST:PORT/DB?sslmode=…`,
   * never with a password; PKI_DATABASE_URL wins over it. Checked in full on opening (store/inventory/pg-url.ts).
   */
  readonly inventory?: { readonly url: string };
  /**
   * The root and intermediate keys are on this PKCS#11 token (`pki init --kms`, issue 14) as the objects
   * `pki-root` and `pki-intermediate`: `pkcs11:token=…?module-path=…&pin-source=file:…`, never with a PIN.
   */
  readonly kms?: string;
  /**
   * Set by CaHome#readConfig on the view of a `pki ca add` CA (never read from pki.json, whose schema is
   * strict): the CA's name and the only profiles it issues (null: all). store/issuing-ca-policy.ts.
   */
  readonly issuingCa?: { readonly name: string; readonly profiles: readonly string[] | null };
}

const durationText = (message = 'must be a duration such as 90d or 1y') =>
  z.string({ error: 'must be a string' }).check(
    z.refine((text) => {
      try {
        parseDuration(text);
        return true;
      } catch {
        return false;
      }
    }, message),
  );

const httpUrl = z.string({ error: 'must be a string' }).check(z.regex(/^https?:\/\/[\x21-\x7e]+$/, 'must be an http(s) URL'));
const urlList = z.array(httpUrl, { error: 'must be an array' }).check(z.maxLength(4, 'must have at most 4 entries'));
const stringList = z._default(z.array(z.string({ error: 'must be a string' }), { error: 'must be an array' }), []);
const strict = { error: (i: { code?: string; keys?: string[] }) => (i.code === 'unrecognized_keys' ? `unknown field "${i.keys?.[0]}"` : 'must be an object') };

const KEY_USAGES = Object.keys(KEY_USAGE_BITS) as KeyUsage[];
const EXT_KEY_USAGES = Object.keys(EXT_KEY_USAGE_OIDS) as ExtKeyUsage[];
const LEAF_KEY_USAGES = KEY_USAGES.filter((u) => !CA_ONLY_KEY_USAGES.includes(u));
const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');
const keyUsageName = z.enum(LEAF_KEY_USAGES as [KeyUsage, ...KeyUsage[]], {
  error: (i: { input?: unknown }) =>
    CA_ONLY_KEY_USAGES.includes(i.input as KeyUsage) ? `${String(i.input)} is a CA-only key usage, not for a leaf profile (CAs are made by pki init)` : `must be one of ${quoted(LEAF_KEY_USAGES)}`,
});
const extKeyUsageName = z.enum(EXT_KEY_USAGES as [ExtKeyUsage, ...ExtKeyUsage[]], { error: `must be one of ${quoted(EXT_KEY_USAGES)}` });
/** A subject attribute value: RFC 5280's ub-organization-name etc. are 64 characters. */
const attributeText = z.string({ error: 'must be a string' }).check(z.regex(/^[^\x00-\x1f\x7f]{1,64}$/, 'must be 1 to 64 printable characters'));
const sanText = z.string({ error: 'must be a string' }).check(
  z.superRefine((value, ctx) => {
    try {
      parseSan(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `is not a name pki issues: ${(e as Error).message}`, input: value });
    }
  }),
);
/** Profile fields a leaf never has: named so the refusal says why rather than "unknown field". */
const profileStrict = {
  error: (i: { code?: string; keys?: string[] }) =>
    i.code === 'unrecognized_keys' && i.keys?.[0] === 'basicConstraints'
      ? 'basicConstraints is not allowed: profiles issue leaf certificates (CA:FALSE); CAs are made by pki init'
      : strict.error(i),
};

/** One named profile (docs/configuration.md "Profiles"); fields left out come from the built-in it starts from. */
const ProfileSchema = z
  .strictObject(
    {
      keyUsage: z.optional(z.array(keyUsageName, { error: 'must be an array' }).check(z.minLength(1, 'must list at least one key usage'))),
      extKeyUsage: z.optional(
        z.array(extKeyUsageName, { error: 'must be an array' }).check(z.refine((l) => roleOfExtKeyUsage(l) !== null, 'must include serverAuth or clientAuth (pki issues TLS certificates)')),
      ),
      notAfter: z.optional(durationText()),
      kty: z.optional(z.enum(['EC', 'RSA', 'OKP'], { error: 'must be one of "EC", "RSA", "OKP"' })),
      crv: z.optional(z.enum(['P-256', 'P-384', 'Ed25519'], { error: 'must be one of "P-256", "P-384", "Ed25519"' })),
      size: z.optional(z.int({ error: 'must be an integer' }).check(z.gte(2048, 'must be at least 2048 (smaller RSA keys are too weak)'), z.lte(8192, 'must be at most 8192'))),
      subject: z.optional(
        z.strictObject(
          {
            O: z.optional(attributeText),
            OU: z.optional(attributeText),
            C: z.optional(z.string({ error: 'must be a string' }).check(z.regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as "DE"'))),
            ST: z.optional(attributeText),
            L: z.optional(attributeText),
          },
          strict,
        ),
      ),
      sans: z.optional(z.array(sanText, { error: 'must be an array' })),
      requiredSanPatterns: z.optional(
        z.array(z.string({ error: 'must be a string' }).check(z.regex(/^[\x21-\x7e]{1,253}$/, 'must be a name pattern such as "*.internal" (printable, no spaces)')), { error: 'must be an array' }),
      ),
      crlDistributionPoints: z.optional(urlList),
      ocspUrls: z.optional(urlList),
      caIssuersUrls: z.optional(urlList),
    },
    profileStrict,
  )
  .check(
    z.superRefine((p, ctx) => {
      // The combinations resolveKeySpec refuses for the flags, named by field.
      const kty = p.kty ?? (p.crv === 'Ed25519' ? 'OKP' : p.crv ? 'EC' : p.size !== undefined ? 'RSA' : undefined);
      const problem = (field: string, message: string) => ctx.addIssue({ code: 'custom', message, path: [field], input: p });
      if (kty === 'RSA' && p.crv !== undefined) problem('crv', 'does not apply to kty "RSA" (use size)');
      if (kty !== 'RSA' && p.size !== undefined) problem('size', `applies to kty "RSA" only, not "${kty}"`);
      if (kty === 'EC' && p.crv !== undefined && p.crv !== 'P-256' && p.crv !== 'P-384') problem('crv', 'must be "P-256" or "P-384" with kty "EC"');
      if (kty === 'OKP' && p.crv !== undefined && p.crv !== 'Ed25519') problem('crv', 'must be "Ed25519" with kty "OKP"');
      if (p.size !== undefined && p.size % 8 !== 0) problem('size', 'must be a multiple of 8');
    }),
  );

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
const ProfilesSchema = z.record(
  z.string().check(z.regex(PROFILE_NAME, 'a profile name must be 1 to 40 letters, digits, ".", "_" or "-", starting with a letter or digit')),
  ProfileSchema,
  { error: 'must be an object of named profiles' },
);

const TrustDomainsSchema = z
  .record(
    z.string().check(z.refine(isCaName, 'a trust domain name is lower-case letters, digits and hyphens')),
    z.strictObject({ services: z.array(z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be a service name as pki generate takes it'))).check(z.minLength(1, 'must name at least one service')) }, strict),
    { error: 'must be an object of trust domain → { "services": [...] }' },
  )
  .check(
    // One domain per service: two would leave which CA signs its bundle to the order of the keys.
    z.superRefine((domains, ctx) => {
      const seen = new Map<string, string>();
      for (const [domain, { services }] of Object.entries(domains)) {
        for (const service of services) {
          const other = seen.get(service);
          if (other !== undefined && other !== domain) ctx.addIssue({ code: 'custom', message: `service "${service}" is in trust domains "${other}" and "${domain}": a service is in one at most`, path: [domain, 'services'], input: services });
          seen.set(service, domain);
        }
      }
    }),
  );

/**
 * The schema of pki.json (zod/mini: the tree-shakable build, which adds ~35 KB to the bundle and no
 * measurable start-up, where the full zod build cost ~80 ms per command — docs/performance.md).
 * Unknown fields are refused, as a typo would be.
 */
const ConfigSchema = z.strictObject(
  {
    version: z.literal(1, { error: 'must be 1' }),
    name: z.string({ error: 'must be a string' }).check(z.minLength(1, 'must be 1 to 40 characters'), z.maxLength(40, 'must be 1 to 40 characters')),
    key: z.strictObject(
      {
        kty: z.enum(['EC', 'RSA', 'OKP'], { error: 'must be one of "EC", "RSA", "OKP"' }),
        crv: z.optional(z.enum(['P-256', 'P-384', 'Ed25519'], { error: 'must be one of "P-256", "P-384", "Ed25519"' })),
        size: z.optional(z.int({ error: 'must be an integer' })),
      },
      strict,
    ),
    validity: z.strictObject({ root: durationText(), intermediate: durationText(), leaf: durationText() }, strict),
    maxSans: z.optional(z.int({ error: 'must be an integer' }).check(z.gte(1, 'must be from 1 to 10000'), z.lte(10_000, 'must be from 1 to 10000'))),
    clockSkew: z.optional(
      z.string({ error: 'must be a string' }).check(
        z.refine((skew) => ZERO_DURATION.test(skew) || parseSkew(skew) <= MAX_CLOCK_SKEW_MS, 'must be a duration from 0s to 1d, such as 1m or 5m'),
      ),
    ),
    crl: z.optional(
      z.strictObject(
        { distributionPoints: z._default(urlList, []), nextUpdate: z._default(durationText(), '7d'), rootNextUpdate: z.optional(durationText()) },
        strict,
      ),
    ),
    ocsp: z.optional(z.strictObject({ urls: urlList }, strict)),
    aia: z.optional(z.strictObject({ caIssuers: urlList }, strict)),
    nameConstraints: z.optional(
      z.strictObject(
        {
          permittedDns: stringList,
          excludedDns: stringList,
          permittedIp: stringList,
          excludedIp: stringList,
          permittedEmail: stringList,
          permittedUri: stringList,
        },
        strict,
      ),
    ),
    profiles: z.optional(ProfilesSchema),
    serve: z.optional(ServeConfigSchema),
    trustDomains: z.optional(TrustDomainsSchema),
    inventory: z.optional(
      z.strictObject(
        {
          url: z.string({ error: 'must be a string' }).check(
            z.regex(/^postgres(?:ql)?:\/\//i, 'must be a postgres:// URL'),
            z.refine((url) => !/^[^/]*\/\/[^/@]*:[^/@]*@/.test(url), 'must not carry a password (give it in PGPASSWORD, ~/.pgpass or PKI_DATABASE_PASSWORD_FILE)'),
          ),
        },
        strict,
      ),
    ),
    kms: z.optional(
      z.string({ error: 'must be a string' }).check(
        z.superRefine((uri, ctx) => {
          try {
            const parsed = parsePkcs11Uri(uri, '/');
            if (parsed.object !== undefined || parsed.id !== undefined) ctx.addIssue({ code: 'custom', message: 'must name the token only (pki names its keys pki-root and pki-intermediate)', input: uri });
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: `is not a PKCS#11 URI pki uses: ${(e as Error).message}`, input: uri });
          }
        }),
      ),
    ),
  },
  strict,
);

/** A zod issue as `field.path: message`; a bad record key (a profile name) names the key. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map((p) => (typeof p === 'string' && !/^[\w-]+$/.test(p) ? JSON.stringify(p) : String(p))).join('.') || '(top level)';
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return `${field}: ${message}`;
}

/** pki.json text checked: the config when it is valid, else every problem found (`path: field: message`). */
export function checkConfig(text: string, path: string): { readonly config: PkiConfig | null; readonly problems: readonly string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { config: null, problems: [`${path} is not valid JSON: ${(e as Error).message}`] };
  }
  const result = ConfigSchema.safeParse(json);
  if (!result.success) return { config: null, problems: result.error.issues.map((i) => `${path}: ${describeIssue(i)}`) };
  return { config: result.data as PkiConfig, problems: [] };
}

/** Parses and validates pki.json text; the error names the first bad field. */
export function parseConfig(text: string, path: string): PkiConfig {
  const { config, problems } = checkConfig(text, path);
  if (config === null) {
    if (problems[0]!.startsWith(`${path} is not valid JSON`)) throw new PkiError('ERR_INVALID_CONFIG', problems[0]!, { hint: 'fix the file or re-create it with pki init --force' });
    throw new PkiError('ERR_INVALID_CONFIG', problems[0]!, { hint: 'fix the field in pki.json (see docs/configuration.md)' });
  }
  // The key spec must also pass the same checks as the flags (e.g. RSA ≥ 2048).
  resolveKeySpec(config.key);
  return config;
}

const ZERO_DURATION = /^0+[smhdwy]?$/;
/** A notBefore more than a day in the past says more about a broken clock than about skew. */
const MAX_CLOCK_SKEW_MS = 86_400_000;

function parseSkew(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    return NaN;
  }
}

/** pki.json's clockSkew in milliseconds: DEFAULT_CLOCK_SKEW_MS (1 minute) when absent, 0 for "0s". */
export function clockSkewMs(config: PkiConfig): number {
  if (config.clockSkew === undefined) return DEFAULT_CLOCK_SKEW_MS;
  return ZERO_DURATION.test(config.clockSkew) ? 0 : parseDuration(config.clockSkew);
}

/** pki.json's maxSans: DEFAULT_MAX_SANS (100) when absent. */
export function maxSans(config: PkiConfig): number {
  return config.maxSans ?? DEFAULT_MAX_SANS;
}

export function keySpecFromConfig(config: PkiConfig): KeySpec {
  return resolveKeySpec(config.key);
}

export function defaultConfig(name: string, key: KeySpec, validity: { root: string; intermediate: string }): PkiConfig {
  return {
    version: 1,
    name,
    key: key.kty === 'RSA' ? { kty: 'RSA', size: key.size } : { kty: key.kty, crv: key.crv },
    validity: { root: validity.root, intermediate: validity.intermediate, leaf: '90d' },
  };
}
