/**
 * `pki.json`: the CA's configuration, validated with zod on every load so a hand edit that breaks it is
 * reported with the field that is wrong rather than failing somewhere later.
 */
import { z } from 'zod';
import { PkiError } from '../core/errors.js';
import { parseDuration } from '../core/validity.js';
import { resolveKeySpec, type KeySpec } from '../core/keys.js';

const duration = z.string().refine(
  (s) => {
    try {
      parseDuration(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a duration such as 90d or 1y' },
);

const httpUrl = z.string().regex(/^https?:\/\/[\x21-\x7e]+$/, 'must be an http(s) URL');

const KeySchema = z
  .object({
    kty: z.enum(['EC', 'RSA', 'OKP']),
    crv: z.enum(['P-256', 'P-384', 'Ed25519']).optional(),
    size: z.number().int().optional(),
  })
  .strict();

export const ConfigSchema = z
  .object({
    version: z.literal(1),
    name: z.string().min(1).max(40),
    key: KeySchema,
    validity: z
      .object({ root: duration, intermediate: duration, leaf: duration })
      .strict(),
    crl: z
      .object({
        /** Stamped as crlDistributionPoints into every certificate issued afterwards. */
        distributionPoints: z.array(httpUrl).max(4).default([]),
        nextUpdate: duration.default('7d'),
      })
      .strict()
      .optional(),
    ocsp: z.object({ urls: z.array(httpUrl).max(4) }).strict().optional(),
    nameConstraints: z
      .object({
        permittedDns: z.array(z.string()).default([]),
        excludedDns: z.array(z.string()).default([]),
        permittedIp: z.array(z.string()).default([]),
        excludedIp: z.array(z.string()).default([]),
        permittedEmail: z.array(z.string()).default([]),
        permittedUri: z.array(z.string()).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();

export type PkiConfig = z.infer<typeof ConfigSchema>;

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
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || '(top level)';
    throw new PkiError('ERR_INVALID_CONFIG', `${path}: ${field}: ${issue.message}`, { hint: 'fix the field in pki.json (see docs/configuration.md)' });
  }
  // The key spec must also pass the same checks as the flags (e.g. RSA ≥ 2048).
  resolveKeySpec(result.data.key);
  return result.data;
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
