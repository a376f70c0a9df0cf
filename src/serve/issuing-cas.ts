/**
 * The issuing CAs `pki serve` signs with (issue 14): the default intermediate and every `pki ca add` CA of
 * the main hierarchy, each loaded once at start (key in memory for the life of the process; the passphrase
 * is asked at start only), each with pki.json as that CA issues with (CaHome#readConfig of its view: its
 * name constraints and profile set), replaced on SIGHUP. An ACME provisioner issues with the CA its `ca`
 * names (serve.provisioners.NAME.ca); OCSP answers for every loaded CA, signed for that CA.
 *
 * - A CA a provisioner names must exist, or start (and reload) is refused before any passphrase is asked.
 * - One passphrase opens every key that shares it: the source is asked again only for a key it does not
 *   open (an operator at a prompt types it once).
 * - The default intermediate and every CA a provisioner names must load (a wrong passphrase, a revoked or
 *   expired CA refuse the start, as they did for the one intermediate).
 * - A CA no provisioner names is loaded for OCSP only: when it does not load, that is a start-up warning
 *   and OCSP answers `unauthorized` for its certificates; the server starts.
 * - A provisioner whose profile its CA's profile set (`pki ca add --profile-set`) leaves out is refused too.
 * - A reload cannot load a key (no passphrase then): a provisioner naming a CA not loaded at start is
 *   refused and the previous configuration stays.
 */
import { isPkiError, PkiError } from '../core/errors.js';
import { subjectKeyIdentifierOf } from '../core/x509/certificate-fields.js';
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import type { PkiConfig } from '../store/config.js';
import type { Inventory } from '../store/inventory/index.js';
import { DEFAULT_CA_NAME, refOfRecord } from '../store/issuing-ca.js';
import { effectiveConfig, type ProvisionerSettings, type ServeSettings } from './settings.js';
import type { ServeContext, ServeIssuingCa } from './types.js';

/** ERR_CA_MISSING unless every provisioner's `ca` is `default` or one of `available`. */
export function checkProvisionerCas(home: CaHome, settings: ServeSettings, available: readonly string[], when: 'start' | 'reload'): void {
  for (const p of settings.provisioners.values()) {
    if (p.ca === DEFAULT_CA_NAME || available.includes(p.ca)) continue;
    const exists = when === 'reload' && home.issuingCaNames().includes(p.ca);
    throw new PkiError(
      'ERR_CA_MISSING',
      exists
        ? `ACME provisioner "${p.name}" names issuing CA "${p.ca}", which was added after pki serve started (its key is loaded at start only)`
        : `ACME provisioner "${p.name}" names issuing CA "${p.ca}", which does not exist in ${home.dir} (CAs: ${[DEFAULT_CA_NAME, ...available].join(', ')})`,
      { hint: exists ? 'restart pki serve to load it' : `create it with "pki ca add ${p.ca}", or set serve.provisioners.${p.name}.ca to one of those` },
    );
  }
}

/** ERR_POLICY when a provisioner's profile is outside its CA's profile set (`pki ca add --profile-set`): every order would fail. */
function checkProvisionerProfiles(settings: ServeSettings, configs: ReadonlyMap<string, PkiConfig>): void {
  for (const p of settings.provisioners.values()) {
    const profiles = configs.get(p.ca)?.issuingCa?.profiles;
    if (!profiles || profiles.includes(p.profile)) continue;
    throw new PkiError('ERR_POLICY', `ACME provisioner "${p.name}" issues profile "${p.profile}", which issuing CA "${p.ca}" does not issue (it issues ${profiles.join(', ')})`, {
      hint: `set serve.provisioners.${p.name}.profile to one of those, or .ca to another CA`,
    });
  }
}

/** pki.json as issuing CA `ca` issues with, stamped for the base URL. */
function caConfig(ca: CaHome, name: string, baseUrl: string | null): PkiConfig {
  return effectiveConfig(ca.readConfig(), baseUrl, name);
}

export interface LoadedIssuingCas {
  readonly cas: Map<string, ServeIssuingCa>;
  /** CAs loaded for OCSP only that could not be (start-up warnings). */
  readonly warnings: string[];
}

/**
 * `source`, asked again only when the passphrase it last gave does not open the next key: CA keys made
 * with the same passphrase (the usual case) are opened after one prompt. Each caller gets a copy (callers
 * zero what they got); `forget` zeroes the remembered one once the keys are open.
 */
function rememberingPassphrase(source: PassphraseSource): { source: PassphraseSource; forget(): void } {
  let last: Uint8Array | null = null;
  return {
    source: async (check) => {
      if (last && (!check || check(Uint8Array.from(last)))) return Uint8Array.from(last);
      const secret = await source(check);
      last?.fill(0);
      last = Uint8Array.from(secret);
      return secret;
    },
    forget: () => void last?.fill(0),
  };
}

/** Loads every issuing CA of the main hierarchy (see the file comment); the default first, as before. */
export async function loadIssuingCas(home: CaHome, settings: ServeSettings, options: { passphrase: PassphraseSource; now: Date; inventory: Inventory }): Promise<LoadedIssuingCas> {
  const names = home.issuingCaNames();
  checkProvisionerCas(home, settings, names, 'start');
  const needed = new Set([...settings.provisioners.values()].map((p) => p.ca));
  const cas = new Map<string, ServeIssuingCa>();
  const warnings: string[] = [];
  const passphrase = rememberingPassphrase(options.passphrase);
  try {
    for (const name of [DEFAULT_CA_NAME, ...names]) {
      const ca = home.issuingCaHome(name);
      try {
        const issuer = await ca.loadIssuer(passphrase.source, options.now, options.inventory);
        cas.set(name, { name, home: ca, issuer, config: caConfig(ca, name, settings.baseUrl) });
      } catch (e) {
        if (name === DEFAULT_CA_NAME || needed.has(name) || !isPkiError(e)) throw e;
        warnings.push(`issuing CA "${name}" is not served (${e.message}): OCSP answers unauthorized for its certificates`);
      }
    }
  } finally {
    passphrase.forget();
  }
  checkProvisionerProfiles(settings, new Map([...cas.values()].map((ca) => [ca.name, ca.config])));
  return { cas, warnings };
}

/** SIGHUP: every loaded CA's pki.json read again (all or nothing); refused when a provisioner names a CA not loaded. */
export function reloadedCaConfigs(context: ServeContext, settings: ServeSettings): Map<string, PkiConfig> {
  checkProvisionerCas(context.home, settings, [...context.issuingCas.keys()].filter((n) => n !== DEFAULT_CA_NAME), 'reload');
  const configs = new Map([...context.issuingCas.values()].map((ca) => [ca.name, caConfig(ca.home, ca.name, settings.baseUrl)]));
  checkProvisionerProfiles(settings, configs);
  return configs;
}

/** The CA a provisioner issues with (checked to be loaded at start and reload). */
export function provisionerCa(context: ServeContext, provisioner: ProvisionerSettings): ServeIssuingCa {
  const ca = context.issuingCas.get(provisioner.ca);
  if (!ca) throw new Error(`issuing CA "${provisioner.ca}" of provisioner "${provisioner.name}" is not loaded`);
  return ca;
}

/** The loaded CA that issued a record (its `ca` column), or undefined: a trust domain's, or a CA not loaded. */
export function caOfRecord(context: ServeContext, record: { ca?: string | null; trustDomain?: string | null }): ServeIssuingCa | undefined {
  const ref = refOfRecord(record);
  return ref.trustDomain ? undefined : context.issuingCas.get(ref.name ?? DEFAULT_CA_NAME);
}

/** The loaded CA whose subject key identifier is `keyId` (an ARI certificate identifier's AKI), or undefined. */
export function caByKeyIdentifier(context: ServeContext, keyId: Uint8Array): ServeIssuingCa | undefined {
  for (const ca of context.issuingCas.values()) {
    const ski = subjectKeyIdentifierOf(ca.issuer.certificate);
    if (ski && Buffer.from(ski).equals(keyId)) return ca;
  }
  return undefined;
}
