/**
 * Which CA signs (issue 14): the default intermediate of the main hierarchy (today's `ca/intermediate_ca.*`),
 * a further issuing CA under the same root (`pki ca add NAME`: `ca/NAME/`), or the CA of a trust domain
 * (`--trust-domain NAME`: `domains/NAME/`, a CA home layout of its own with its own root). One reference
 * type and one place that maps it to files and counters, so commands, operations and `pki serve` never
 * build these paths themselves. The inventory is the main home's, shared by every CA; records carry the
 * reference (`ca`, `trustDomain`, and the issuer's key identifier).
 */
import { join } from 'node:path';
import { PkiError } from '../core/errors.js';
import type { SequenceName } from './inventory/index.js';
import type { PkiConfig } from './config.js';

export interface IssuingCaRef {
  /** Null: the main hierarchy (the home's own root). */
  readonly trustDomain: string | null;
  /** Null: the default intermediate; else a `pki ca add` name (main hierarchy only). */
  readonly name: string | null;
}

export const DEFAULT_ISSUING_CA: IssuingCaRef = Object.freeze({ trustDomain: null, name: null });

/** The name `--ca` and `list --json`'s `ca` use for the default intermediate. */
export const DEFAULT_CA_NAME = 'default';

/** Names of CAs and trust domains: a path segment, a DNS-label-like word (also used in URLs of pki serve). */
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Folder names under ca/ that are not CAs. */
export const RESERVED_CA_FOLDERS: ReadonlySet<string> = new Set([DEFAULT_CA_NAME, 'previous', 'snapshots', 'retired', 'cross']);

/** Refuses a CA or trust-domain name that cannot be a folder and URL segment, or is reserved. */
export function checkCaName(name: string, what: 'CA' | 'trust domain'): string {
  if (!NAME.test(name) || RESERVED_CA_FOLDERS.has(name)) {
    throw new PkiError('ERR_USAGE', `invalid ${what} name "${name}"`, {
      hint: `use lower-case letters, digits and hyphens (not ${[...RESERVED_CA_FOLDERS].join(', ')})`,
    });
  }
  return name;
}

/** True when `name` can name a CA or trust domain (checkCaName would accept it): for schemas. */
export function isCaName(name: string): boolean {
  return NAME.test(name) && !RESERVED_CA_FOLDERS.has(name);
}

/** `--ca NAME` / `--trust-domain NAME` → a reference; `default` (or nothing) is the default intermediate. */
export function issuingCaRef(options: { ca?: string | null; trustDomain?: string | null }): IssuingCaRef {
  const name = options.ca && options.ca !== DEFAULT_CA_NAME ? checkCaName(options.ca, 'CA') : null;
  const trustDomain = options.trustDomain ? checkCaName(options.trustDomain, 'trust domain') : null;
  if (name && trustDomain) {
    throw new PkiError('ERR_USAGE', '--ca and --trust-domain cannot be combined', { hint: 'a trust domain has one issuing CA: pass only --trust-domain' });
  }
  return name || trustDomain ? { trustDomain, name } : DEFAULT_ISSUING_CA;
}

/** The trust domain pki.json's `trustDomains` puts `service` in (`"cache": { "services": ["redis"] }`), or null. */
export function trustDomainOfService(config: Pick<PkiConfig, 'trustDomains'>, service: string): string | null {
  for (const [domain, { services }] of Object.entries(config.trustDomains ?? {})) if (services.includes(service)) return domain;
  return null;
}

/**
 * The trust domain `pki generate SERVICE` issues from: `--trust-domain` when given, else pki.json's. A flag
 * that contradicts pki.json (another domain, or `--ca` for a service pki.json keeps in a domain) is refused:
 * a bundle from another CA would let the service admit clients its domain exists to keep out.
 */
export function serviceTrustDomain(config: Pick<PkiConfig, 'trustDomains'>, service: string, flags: { trustDomain?: string; ca?: string }): string | undefined {
  const configured = trustDomainOfService(config, service);
  if (configured === null) return flags.trustDomain;
  const given = flags.trustDomain !== undefined ? `--trust-domain ${flags.trustDomain}` : flags.ca !== undefined ? `--ca ${flags.ca}` : null;
  if (given !== null && flags.trustDomain !== configured) {
    throw new PkiError('ERR_USAGE', `pki.json puts service ${service} in trust domain ${configured} (trustDomains.${configured}.services); ${given} contradicts it`, {
      hint: `drop ${given.split(' ')[0]}, or move ${service} in pki.json's trustDomains`,
    });
  }
  return configured;
}

/** The reference a record carries (its `ca` and `trustDomain` columns). */
export function refOfRecord(record: { ca?: string | null; trustDomain?: string | null }): IssuingCaRef {
  return record.ca || record.trustDomain ? { trustDomain: record.trustDomain ?? null, name: record.ca ?? null } : DEFAULT_ISSUING_CA;
}

export function sameIssuingCa(a: IssuingCaRef, b: IssuingCaRef): boolean {
  return a.trustDomain === b.trustDomain && a.name === b.name;
}

/** How messages name a CA: `default`, `systems`, `trust domain redis`. */
export function describeIssuingCa(ref: IssuingCaRef): string {
  if (ref.trustDomain) return `trust domain ${ref.trustDomain}`;
  return ref.name ?? DEFAULT_CA_NAME;
}

/** Where one issuing CA's files live and which inventory counters its CRLs use. */
export interface IssuingCaFiles {
  readonly ref: IssuingCaRef;
  /** The folder holding its root (the home's `ca/`, or `domains/NAME/ca/`). */
  readonly rootDir: string;
  readonly rootCertPath: string;
  readonly rootKeyPath: string;
  /** The folder holding the issuing certificate and key (`ca/`, `ca/NAME/`, `domains/NAME/ca/`). */
  readonly caDir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly crlPath: string;
  readonly rootCrlPath: string;
  readonly crlSequence: SequenceName;
  readonly rootCrlSequence: SequenceName;
}

/** The files of `ref` in the home at `homeDir`. Nothing is checked or read. */
export function issuingCaFiles(homeDir: string, ref: IssuingCaRef = DEFAULT_ISSUING_CA): IssuingCaFiles {
  const base = ref.trustDomain ? join(homeDir, 'domains', ref.trustDomain) : homeDir;
  const rootDir = join(base, 'ca');
  const caDir = ref.name ? join(rootDir, ref.name) : rootDir;
  const crlDir = join(base, 'crl');
  const suffix = ref.trustDomain ? `@${ref.trustDomain}` : '';
  return {
    ref,
    rootDir,
    rootCertPath: join(rootDir, 'root_ca.crt'),
    rootKeyPath: join(rootDir, 'root_ca.key'),
    caDir,
    certPath: join(caDir, 'intermediate_ca.crt'),
    keyPath: join(caDir, 'intermediate_ca.key'),
    crlPath: ref.name ? join(crlDir, `${ref.name}.crl`) : join(crlDir, 'intermediate_ca.crl'),
    rootCrlPath: join(crlDir, 'root_ca.crl'),
    crlSequence: ref.name ? `crl:${ref.name}` : (`crl${suffix}` as SequenceName),
    rootCrlSequence: `root-crl${suffix}` as SequenceName,
  };
}
