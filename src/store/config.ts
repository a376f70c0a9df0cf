/**
 * `pki.json`: the CA's configuration, validated on every load so a hand edit that breaks it is reported
 * with the field that is wrong rather than failing somewhere later. The checker is written out here
 * instead of using zod: zod's module graph cost ~100 ms of start-up on every command that reads the
 * config (issue 5, docs/performance.md), more than the whole rest of `pki generate`.
 */
import { PkiError } from '../core/errors.js';
import { DEFAULT_CLOCK_SKEW_MS, parseDuration } from '../core/validity.js';
import { resolveKeySpec, type KeySpec } from '../core/keys.js';

export interface PkiConfig {
  readonly version: 1;
  readonly name: string;
  readonly key: { readonly kty: 'EC' | 'RSA' | 'OKP'; readonly crv?: 'P-256' | 'P-384' | 'Ed25519'; readonly size?: number };
  readonly validity: { readonly root: string; readonly intermediate: string; readonly leaf: string };
  /** How far notBefore is backdated for hosts with slow clocks (generate, sign, renew); default 1m. */
  readonly clockSkew?: string;
  readonly crl?: {
    /** Stamped as crlDistributionPoints into every certificate issued afterwards. */
    readonly distributionPoints: string[];
    readonly nextUpdate: string;
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

/** The first problem found: the dotted field path and what is wrong with it. */
class ConfigIssue {
  readonly field: string;
  readonly message: string;
  constructor(field: string, message: string) {
    this.field = field;
    this.message = message;
  }
}

const at = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

function issue(path: string, message: string): never {
  throw new ConfigIssue(path, message);
}

/** A plain object with no fields but `known` (unknown fields are refused, as a typo would be). */
function object(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) issue(path, 'must be an object');
  for (const key of Object.keys(value)) if (!known.includes(key)) issue(path, `unknown field "${key}"`);
  return value as Record<string, unknown>;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') issue(path, 'must be a string');
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (!options.includes(value as T)) issue(path, `must be one of ${options.map((o) => `"${o}"`).join(', ')}`);
  return value as T;
}

function duration(value: unknown, path: string): string {
  const text = string(value, path);
  try {
    parseDuration(text);
  } catch {
    issue(path, 'must be a duration such as 90d or 1y');
  }
  return text;
}

function httpUrl(value: unknown, path: string): string {
  const text = string(value, path);
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(text)) issue(path, 'must be an http(s) URL');
  return text;
}

/** An array (an absent field is `fallback`), each element checked by `item`. */
function array<T>(value: unknown, path: string, item: (v: unknown, p: string) => T, options: { max?: number; fallback?: T[] } = {}): T[] {
  if (value === undefined && options.fallback) return options.fallback;
  if (!Array.isArray(value)) issue(path, 'must be an array');
  if (options.max !== undefined && value.length > options.max) issue(path, `must have at most ${options.max} entries`);
  return value.map((v, i) => item(v, at(path, i)));
}

function checkConfig(json: unknown): PkiConfig {
  const c = object(json, '', ['version', 'name', 'key', 'validity', 'clockSkew', 'crl', 'ocsp', 'nameConstraints']);
  if (c.version !== 1) issue('version', 'must be 1');
  const name = string(c.name, 'name');
  if (name.length < 1 || name.length > 40) issue('name', 'must be 1 to 40 characters');
  const k = object(c.key, 'key', ['kty', 'crv', 'size']);
  const key: PkiConfig['key'] = {
    kty: oneOf(k.kty, 'key.kty', ['EC', 'RSA', 'OKP'] as const),
    ...(k.crv !== undefined ? { crv: oneOf(k.crv, 'key.crv', ['P-256', 'P-384', 'Ed25519'] as const) } : {}),
    ...(k.size !== undefined ? { size: Number.isInteger(k.size) ? (k.size as number) : issue('key.size', 'must be an integer') } : {}),
  };
  const v = object(c.validity, 'validity', ['root', 'intermediate', 'leaf']);
  const validity = { root: duration(v.root, 'validity.root'), intermediate: duration(v.intermediate, 'validity.intermediate'), leaf: duration(v.leaf, 'validity.leaf') };
  const config: { -readonly [K in keyof PkiConfig]: PkiConfig[K] } = { version: 1, name, key, validity };
  if (c.clockSkew !== undefined) {
    const skew = string(c.clockSkew, 'clockSkew');
    if (!ZERO_DURATION.test(skew) && !(parseSkew(skew) <= MAX_CLOCK_SKEW_MS)) issue('clockSkew', 'must be a duration from 0s to 1d, such as 1m or 5m');
    config.clockSkew = skew;
  }
  if (c.crl !== undefined) {
    const crl = object(c.crl, 'crl', ['distributionPoints', 'nextUpdate']);
    config.crl = {
      distributionPoints: array(crl.distributionPoints, 'crl.distributionPoints', httpUrl, { max: 4, fallback: [] }),
      nextUpdate: crl.nextUpdate === undefined ? '7d' : duration(crl.nextUpdate, 'crl.nextUpdate'),
    };
  }
  if (c.ocsp !== undefined) {
    const ocsp = object(c.ocsp, 'ocsp', ['urls']);
    config.ocsp = { urls: array(ocsp.urls, 'ocsp.urls', httpUrl, { max: 4 }) };
  }
  if (c.nameConstraints !== undefined) {
    const fields = ['permittedDns', 'excludedDns', 'permittedIp', 'excludedIp', 'permittedEmail', 'permittedUri'] as const;
    const nc = object(c.nameConstraints, 'nameConstraints', fields);
    const list = (f: (typeof fields)[number]) => array(nc[f], `nameConstraints.${f}`, string, { fallback: [] });
    config.nameConstraints = {
      permittedDns: list('permittedDns'),
      excludedDns: list('excludedDns'),
      permittedIp: list('permittedIp'),
      excludedIp: list('excludedIp'),
      permittedEmail: list('permittedEmail'),
      permittedUri: list('permittedUri'),
    };
  }
  return config;
}

/** Parses and validates pki.json text; the error names the first bad field. */
export function parseConfig(text: string, path: string): PkiConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PkiError('ERR_INVALID_CONFIG', `${path} is not valid JSON: ${(e as Error).message}`, { hint: 'fix the file or re-create it with pki init --force' });
  }
  let config: PkiConfig;
  try {
    config = checkConfig(json);
  } catch (e) {
    if (!(e instanceof ConfigIssue)) throw e;
    throw new PkiError('ERR_INVALID_CONFIG', `${path}: ${e.field || '(top level)'}: ${e.message}`, { hint: 'fix the field in pki.json (see docs/configuration.md)' });
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
