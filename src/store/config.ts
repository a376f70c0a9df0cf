/**
 * `pki.json`: the CA's configuration, validated on every load so a hand edit that breaks it is reported
 * with the field that is wrong rather than failing somewhere later.
 */
import * as z from 'zod/mini';
import { PkiError } from '../core/errors.js';
import { DEFAULT_CLOCK_SKEW_MS, parseDuration } from '../core/x509/validity.js';
import { resolveKeySpec, type KeySpec } from '../core/keys/keys.js';
import { DEFAULT_MAX_SANS } from '../core/x509/names.js';

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
  readonly nameConstraints?: {
    readonly permittedDns: string[];
    readonly excludedDns: string[];
    readonly permittedIp: string[];
    readonly excludedIp: string[];
    readonly permittedEmail: string[];
    readonly permittedUri: string[];
  };
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
  },
  strict,
);

/** Parses and validates pki.json text; the error names the first bad field. */
export function parseConfig(text: string, path: string): PkiConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PkiError('ERR_INVALID_CONFIG', `${path} is not valid JSON: ${(e as Error).message}`, { hint: 'fix the file or re-create it with pki init --force' });
  }
  const result = ConfigSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0]!;
    const field = first.path.map(String).join('.') || '(top level)';
    throw new PkiError('ERR_INVALID_CONFIG', `${path}: ${field}: ${first.message}`, { hint: 'fix the field in pki.json (see docs/configuration.md)' });
  }
  const config: PkiConfig = result.data;
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
