/**
 * `pki config show|validate` (issue 12): pki.json as every command sees it — each default filled in and the
 * built-in profiles listed beside pki.json's — and the check of one file that reports every problem at once.
 */
import { DEFAULT_CA_NAME } from '../store/issuing-ca.js';
import type { KeySpec } from '../core/keys/keys.js';
import { knownProfileNames, resolveLeafProfile, type LeafProfile, type ProfileSource } from '../core/x509/profile-config.js';
import { keyUsagesFor } from '../core/x509/profiles.js';
import { readText } from '../store/ca-home.js';
import { checkConfig, keySpecFromConfig, maxSans, type PkiConfig } from '../store/config.js';
import { isPkiError } from '../core/errors.js';

/** A profile as `config show` prints it: every field, with what it falls back to filled in. */
export interface EffectiveProfile {
  readonly source: ProfileSource;
  /** What the inventory records as its role (server, client, peer). */
  readonly role: string;
  /** Key usages of certificates for EC and Ed25519 keys, and for RSA keys (the built-ins add keyEncipherment there). */
  readonly keyUsage: readonly string[];
  readonly keyUsageRsa: readonly string[];
  readonly extKeyUsage: readonly string[];
  readonly notAfter: string;
  /** The key type the profile requires (sign) and generates (generate); null: any, generate uses pki.json's `key`. */
  readonly key: KeySpec | null;
  readonly subject: LeafProfile['subject'];
  readonly sans: readonly string[];
  readonly requiredSanPatterns: readonly string[];
  readonly crlDistributionPoints: readonly string[];
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
}

export interface EffectiveConfig {
  readonly file: string;
  /** `inventory` and `kms` only when pki.json has them (SQLite and key files are not settings). */
  readonly config: Omit<Required<PkiConfig>, 'profiles' | 'key' | 'inventory' | 'kms' | 'issuingCa'> & {
    readonly key: KeySpec;
    readonly profiles: Readonly<Record<string, EffectiveProfile>>;
    readonly inventory?: PkiConfig['inventory'];
    readonly kms?: string;
  };
}

function effectiveProfile(config: PkiConfig, p: LeafProfile): EffectiveProfile {
  return {
    source: p.source,
    role: p.role,
    keyUsage: keyUsagesFor(p.x509, 'EC'),
    keyUsageRsa: keyUsagesFor(p.x509, 'RSA'),
    extKeyUsage: p.x509.extKeyUsage,
    notAfter: p.notAfter ?? config.validity.leaf,
    key: p.keySpec ?? null,
    subject: p.subject,
    sans: p.sans.map((s) => s.value),
    requiredSanPatterns: p.requiredSanPatterns,
    crlDistributionPoints: p.crlDistributionPoints ?? config.crl?.distributionPoints ?? [],
    ocspUrls: p.ocspUrls ?? config.ocsp?.urls ?? [],
    caIssuersUrls: p.caIssuersUrls ?? config.aia?.caIssuers ?? [],
  };
}

/** The configuration `path` holds (already validated: `config`), each default as the commands apply it. */
export function effectiveConfig(path: string, config: PkiConfig): EffectiveConfig {
  const nc = config.nameConstraints;
  return {
    file: path,
    config: {
      version: config.version,
      name: config.name,
      key: keySpecFromConfig(config),
      validity: config.validity,
      maxSans: maxSans(config),
      clockSkew: config.clockSkew ?? '1m', // DEFAULT_CLOCK_SKEW_MS
      crl: { distributionPoints: config.crl?.distributionPoints ?? [], nextUpdate: config.crl?.nextUpdate ?? '7d', rootNextUpdate: config.crl?.rootNextUpdate ?? '1y' },
      ocsp: { urls: config.ocsp?.urls ?? [] },
      aia: { caIssuers: config.aia?.caIssuers ?? [] },
      serve: config.serve ?? {},
      trustDomains: config.trustDomains ?? {},
      ...(config.inventory ? { inventory: config.inventory } : {}),
      ...(config.kms ? { kms: config.kms } : {}),
      nameConstraints: {
        permittedDns: nc?.permittedDns ?? [],
        excludedDns: nc?.excludedDns ?? [],
        permittedIp: nc?.permittedIp ?? [],
        excludedIp: nc?.excludedIp ?? [],
        permittedEmail: nc?.permittedEmail ?? [],
        permittedUri: nc?.permittedUri ?? [],
      },
      profiles: Object.fromEntries(knownProfileNames(config.profiles).map((name) => [name, effectiveProfile(config, resolveLeafProfile(config.profiles, name))])),
    },
  };
}

/** The CAs and trust domains a CA home holds, for checking what pki.json's `serve.provisioners` name. */
export interface HomeCas {
  readonly issuingCas: readonly string[];
  readonly trustDomains: readonly string[];
}

/** `path: serve.provisioners.NAME.ca|trustDomain: …` for each provisioner naming a CA the home lacks (pki serve would refuse to start). */
function provisionerReferenceProblems(path: string, config: PkiConfig, home: HomeCas): string[] {
  const out: string[] = [];
  for (const [name, p] of Object.entries(config.serve?.provisioners ?? {})) {
    if (p.ca !== undefined && p.ca !== DEFAULT_CA_NAME && !home.issuingCas.includes(p.ca)) {
      out.push(`${path}: serve.provisioners.${name}.ca: there is no issuing CA "${p.ca}" in this CA home (CAs: ${[DEFAULT_CA_NAME, ...home.issuingCas].join(', ')})`);
    }
    if (p.trustDomain !== undefined && !home.trustDomains.includes(p.trustDomain)) {
      out.push(`${path}: serve.provisioners.${name}.trustDomain: there is no trust domain "${p.trustDomain}" in this CA home (trust domains: ${home.trustDomains.join(', ') || 'none'})`);
    }
  }
  return out;
}

/**
 * Every problem of the pki.json at `path` (`path: field: message`), none when it is valid; an unreadable
 * file throws. Given the CAs of the home it belongs to, also what its provisioners name that is not there.
 */
export function validateConfigFile(path: string, home?: HomeCas): readonly string[] {
  const { config, problems } = checkConfig(readText(path), path);
  if (config === null) return problems;
  const references = home ? provisionerReferenceProblems(path, config, home) : [];
  if (references.length > 0) return references;
  try {
    keySpecFromConfig(config); // the same key checks as the flags (RSA ≥ 2048, a curve that fits kty)
  } catch (e) {
    if (isPkiError(e)) return [`${path}: key: ${e.message}`];
    throw e;
  }
  return [];
}
