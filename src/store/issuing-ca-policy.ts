/**
 * The policy of a further issuing CA (`pki ca add NAME`, issue 14), kept beside its key as
 * `ca/NAME/ca.json` (0644) so the CA folder is whole on its own (snapshots, rollback, a copy to another
 * host):
 *
 *   { "version": 1, "permittedDns": ["internal"], "profiles": ["client"] }
 *
 * `permittedDns` repeats the name constraints stamped into its certificate (so `pki ca renew NAME` and
 * `pki ca rotate NAME` stamp the same ones, and pki refuses a leaf outside them before signing);
 * `profiles`, when present, are the only pki.json / built-in profiles it issues. Everything else (key type,
 * lifetimes, CRL and OCSP URLs) is pki.json's, as for the default intermediate.
 */
import { join } from 'node:path';
import * as z from 'zod/mini';
import { PkiError } from '../core/errors.js';
import type { PkiConfig } from './config.js';
import { readText } from './fs/read-file.js';

export interface IssuingCaPolicy {
  readonly version: 1;
  readonly permittedDns: readonly string[];
  /** Absent: every profile. */
  readonly profiles?: readonly string[];
}

const PolicySchema = z.strictObject({
  version: z.literal(1),
  permittedDns: z.array(z.string()),
  profiles: z.optional(z.array(z.string()).check(z.minLength(1))),
});

export function issuingCaPolicyPath(caDir: string): string {
  return join(caDir, 'ca.json');
}

/** The text written to ca/NAME/ca.json. */
export function formatIssuingCaPolicy(policy: IssuingCaPolicy): string {
  return `${JSON.stringify(policy, null, 2)}\n`;
}

/** ca/NAME/ca.json, checked; a missing or broken file is one clear error. */
export function readIssuingCaPolicy(caDir: string): IssuingCaPolicy {
  const path = issuingCaPolicyPath(caDir);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('ERR_INVALID_CONFIG', `${path} is not valid JSON`, { hint: 'restore it from a snapshot (ca/snapshots/) or re-create the CA with "pki ca add"' });
  }
  const result = PolicySchema.safeParse(parsed);
  if (!result.success) {
    throw new PkiError('ERR_INVALID_CONFIG', `${path}: ${result.error.issues[0]?.path.join('.') || '(top level)'}: ${result.error.issues[0]?.message}`, {
      hint: 'fix the file (fields: version 1, permittedDns, profiles)',
    });
  }
  return result.data;
}

/**
 * The configuration a CA issues under: pki.json with the CA's name constraints in place of the default
 * intermediate's, and its profile set (PkiConfig.issuingCa).
 */
export function withIssuingCaPolicy(config: PkiConfig, name: string, policy: IssuingCaPolicy): PkiConfig {
  const { nameConstraints: _defaults, ...rest } = config;
  return {
    ...rest,
    ...(policy.permittedDns.length
      ? { nameConstraints: { permittedDns: [...policy.permittedDns], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] } }
      : {}),
    issuingCa: { name, profiles: policy.profiles ?? null },
  };
}
