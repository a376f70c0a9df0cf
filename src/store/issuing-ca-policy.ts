/**
 * The policy of a further issuing CA (`pki ca add NAME`, issue 14), kept beside its key as
 * `ca/NAME/ca.json` (0644) so the CA folder is whole on its own (snapshots, rollback, a copy to another
 * host):
 *
 *   { "version": 1, "permittedDns": ["internal"], "profiles": ["client"] }
 *
 * `permittedDns` repeats the name constraints stamped into its certificate (so `pki ca renew NAME` and
 * `pki ca rotate NAME` stamp the same ones, and pki refuses a leaf outside them before signing);
 * `profiles`, when present, are the only pki.json / built-in profiles it issues; `crlDistributionPoints` and
 * `caIssuers`, when present, are stamped into its leaves instead of pki.json's (issuingCaUrls). Everything
 * else (key type, lifetimes, OCSP URLs: the responder answers for every CA) is pki.json's.
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
  /** Stamped as crlDistributionPoints into its leaves; absent: derived from pki.json's (issuingCaUrls). */
  readonly crlDistributionPoints?: readonly string[];
  /** Stamped as AIA caIssuers into its leaves; absent: derived from pki.json's. */
  readonly caIssuers?: readonly string[];
}

const url = z.string().check(z.regex(/^https?:\/\/[\x21-\x7e]+$/, 'must be an http(s) URL'));
const PolicySchema = z.strictObject({
  version: z.literal(1),
  permittedDns: z.array(z.string()),
  profiles: z.optional(z.array(z.string()).check(z.minLength(1))),
  crlDistributionPoints: z.optional(z.array(url).check(z.maxLength(4))),
  caIssuers: z.optional(z.array(url).check(z.maxLength(4))),
});

/**
 * pki.json's CRL and caIssuers URLs name the default intermediate's files; stamped into another CA's
 * leaves they would send relying parties to a CRL that CA did not sign (OpenSSL then refuses the chain:
 * "unable to get certificate CRL"). Those that end in the default's file names as `pki serve` publishes
 * them are rewritten to the CA's (`…/intermediate_ca.crl` → `…/NAME.crl`, `…/intermediate.crt` →
 * `…/ca/NAME/intermediate.crt`); any other is left out. The CA's own ca.json URLs, when given, win.
 */
export function issuingCaUrls(config: PkiConfig, name: string, policy: IssuingCaPolicy): { crl: string[]; caIssuers: string[] } {
  return {
    crl: policy.crlDistributionPoints ? [...policy.crlDistributionPoints] : rewrite(config.crl?.distributionPoints, /\/intermediate_ca\.crl$/, `/${name}.crl`),
    caIssuers: policy.caIssuers ? [...policy.caIssuers] : rewrite(config.aia?.caIssuers, /\/intermediate\.(crt|pem)$/, `/ca/${name}/intermediate.$1`),
  };
}

/**
 * A trust domain (domains/NAME/) has the same problem with its own CA: pki.json's CRL and caIssuers URLs
 * are rewritten to the domain's files as `pki serve` publishes them (serve/settings.ts publishedPaths):
 * `…[/crl]/intermediate_ca.crl` → `…/domains/NAME/crl/intermediate_ca.crl`, `…/intermediate.crt` →
 * `…/domains/NAME/intermediate.crt`; any other is left out. OCSP URLs stay: the responder answers for every CA.
 * pki.json's nameConstraints are the main intermediate's (`init --permit-dns` stamps them there); a
 * domain's intermediate carries none, so its leaves are not judged by them.
 */
export function withTrustDomainUrls(config: PkiConfig, name: string): PkiConfig {
  const { nameConstraints: _mainIntermediate, ...rest } = config;
  return {
    ...rest,
    ...(config.crl ? { crl: { ...config.crl, distributionPoints: rewrite(config.crl.distributionPoints, /(\/crl)?\/intermediate_ca\.crl$/, `/domains/${name}/crl/intermediate_ca.crl`) } } : {}),
    ...(config.aia ? { aia: { caIssuers: rewrite(config.aia.caIssuers, /\/intermediate\.(crt|pem)$/, `/domains/${name}/intermediate.$1`) } } : {}),
  };
}

/** The URLs that match `from`, rewritten to `to`; the others left out. */
function rewrite(urls: readonly string[] | undefined, from: RegExp, to: string): string[] {
  return (urls ?? []).filter((u) => from.test(u)).map((u) => u.replace(from, to));
}

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
  const urls = issuingCaUrls(config, name, policy);
  return {
    ...rest,
    ...(config.crl ? { crl: { ...config.crl, distributionPoints: urls.crl } } : urls.crl.length ? { crl: { distributionPoints: urls.crl, nextUpdate: '7d' } } : {}),
    ...(urls.caIssuers.length ? { aia: { caIssuers: urls.caIssuers } } : config.aia ? { aia: { caIssuers: [] } } : {}),
    ...(policy.permittedDns.length
      ? { nameConstraints: { permittedDns: [...policy.permittedDns], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], permittedUri: [] } }
      : {}),
    issuingCa: { name, profiles: policy.profiles ?? null },
  };
}
