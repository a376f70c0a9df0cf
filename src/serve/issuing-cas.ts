/**
 * The issuing CAs `pki serve` signs with (issue 14): the default intermediate, every `pki ca add` CA of the
 * main hierarchy and every trust domain's intermediate (`domains/NAME/`), each loaded once at start (key in
 * memory for the life of the process; the passphrase is asked at start only) with the intermediates
 * `pki ca rotate` retired that are still valid (serve/retired-cas.ts), each with pki.json as that CA issues
 * with (CaHome#readConfig of its view: its name constraints, profile set and URLs), replaced on SIGHUP. An
 * ACME provisioner issues with the CA its `ca` or `trustDomain` names (serve.provisioners.NAME); OCSP
 * answers for every loaded CA and retired key, signed for that key.
 *
 * - A CA or trust domain a provisioner names must exist, or start (and reload) is refused before any passphrase is asked.
 * - One passphrase opens every key that shares it: the source is asked again only for a key it does not
 *   open (an operator at a prompt types it once).
 * - The default intermediate and every CA a provisioner names must load (a wrong passphrase, a revoked or
 *   expired CA refuse the start, as they did for the one intermediate).
 * - A CA no provisioner names is loaded for OCSP only: when it does not load, that is a start-up warning
 *   and OCSP answers `unauthorized` for its certificates; the server starts. So is a retired key that
 *   does not open.
 * - A provisioner whose profile its CA's profile set (`pki ca add --profile-set`) leaves out is refused too.
 * - A reload cannot load a key (no passphrase then): a provisioner naming a CA not loaded at start is
 *   refused and the previous configuration stays. A rotation while the server runs needs a restart for
 *   the server to sign with the new key (and to answer OCSP for the old one).
 */
import { isPkiError, PkiError } from '../core/errors.js';
import { subjectKeyIdentifierOf } from '../core/x509/certificate-fields.js';
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import type { PkiConfig } from '../store/config.js';
import type { Inventory } from '../store/inventory/index.js';
import { keyIdHex } from '../store/inventory/record.js';
import { DEFAULT_CA_NAME, DEFAULT_ISSUING_CA, issuingCaRef, refOfRecord, type IssuingCaRef } from '../store/issuing-ca.js';
import { loadRetiredIssuers } from './retired-cas.js';
import { effectiveConfig, type ProvisionerSettings, type ServeSettings } from './settings.js';
import type { ServeContext, ServeIssuingCa } from './types.js';

/** How the server names a CA (ServeIssuingCa#key): `default`, a `pki ca add` name, `domain/NAME` for a trust domain's. */
export function caKey(ref: IssuingCaRef): string {
  return ref.trustDomain ? `domain/${ref.trustDomain}` : (ref.name ?? DEFAULT_CA_NAME);
}

/** The CA a provisioner issues with (its `trustDomain`, else its `ca`). */
export function provisionerRef(p: ProvisionerSettings): IssuingCaRef {
  return issuingCaRef({ ca: p.ca, trustDomain: p.trustDomain });
}

function missingCaError(home: CaHome, p: ProvisionerSettings, ref: IssuingCaRef, loadedSinceStart: boolean): PkiError {
  const what = ref.trustDomain ? `trust domain "${ref.trustDomain}"` : `issuing CA "${ref.name}"`;
  if (loadedSinceStart) {
    return new PkiError('ERR_CA_MISSING', `ACME provisioner "${p.name}" names ${what}, which was added after pki serve started (its key is loaded at start only)`, { hint: 'restart pki serve to load it' });
  }
  const existing = ref.trustDomain ? home.trustDomainNames() : [DEFAULT_CA_NAME, ...home.issuingCaNames()];
  return new PkiError('ERR_CA_MISSING', `ACME provisioner "${p.name}" names ${what}, which does not exist in ${home.dir} (${ref.trustDomain ? 'trust domains' : 'CAs'}: ${existing.join(', ') || 'none'})`, {
    hint: ref.trustDomain
      ? `create it with "pki generate <service> <variant> --trust-domain ${ref.trustDomain}", or set serve.provisioners.${p.name}.trustDomain to one of those`
      : `create it with "pki ca add ${ref.name}", or set serve.provisioners.${p.name}.ca to one of those`,
  });
}

/** ERR_CA_MISSING unless every provisioner's CA is the default one or one of `available` (CA keys). */
export function checkProvisionerCas(home: CaHome, settings: ServeSettings, available: readonly string[], when: 'start' | 'reload'): void {
  for (const p of settings.provisioners.values()) {
    const ref = provisionerRef(p);
    const key = caKey(ref);
    if (key === DEFAULT_CA_NAME || available.includes(key)) continue;
    const exists = when === 'reload' && (ref.trustDomain ? home.trustDomainNames().includes(ref.trustDomain) : home.issuingCaNames().includes(ref.name!));
    throw missingCaError(home, p, ref, exists);
  }
}

/** ERR_POLICY when a provisioner's profile is outside its CA's profile set (`pki ca add --profile-set`): every order would fail. */
function checkProvisionerProfiles(settings: ServeSettings, configs: ReadonlyMap<string, PkiConfig>): void {
  for (const p of settings.provisioners.values()) {
    const profiles = configs.get(caKey(provisionerRef(p)))?.issuingCa?.profiles;
    if (!profiles || profiles.includes(p.profile)) continue;
    throw new PkiError('ERR_POLICY', `ACME provisioner "${p.name}" issues profile "${p.profile}", which issuing CA "${p.ca}" does not issue (it issues ${profiles.join(', ')})`, {
      hint: `set serve.provisioners.${p.name}.profile to one of those, or .ca to another CA`,
    });
  }
}

/** pki.json as the CA whose home is `ca` issues with, stamped for the base URL. */
function caConfig(ca: CaHome, baseUrl: string | null): PkiConfig {
  return effectiveConfig(ca.readConfig(), baseUrl, ca.issuingCaRef);
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

/** Every CA the home holds: the default intermediate first, then `pki ca add` CAs, then trust domains. */
function servedRefs(home: CaHome): IssuingCaRef[] {
  return [DEFAULT_ISSUING_CA, ...home.issuingCaNames().map((name) => ({ trustDomain: null, name })), ...home.trustDomainNames().map((trustDomain) => ({ trustDomain, name: null }))];
}

/** Loads every issuing CA (see the file comment); the default first, as before. */
export async function loadIssuingCas(home: CaHome, settings: ServeSettings, options: { passphrase: PassphraseSource; now: Date; inventory: Inventory }): Promise<LoadedIssuingCas> {
  const refs = servedRefs(home);
  checkProvisionerCas(home, settings, refs.map(caKey), 'start');
  const needed = new Set([...settings.provisioners.values()].map((p) => caKey(provisionerRef(p))));
  const cas = new Map<string, ServeIssuingCa>();
  const warnings: string[] = [];
  const passphrase = rememberingPassphrase(options.passphrase);
  try {
    for (const ref of refs) {
      const key = caKey(ref);
      const ca = home.homeOf(ref);
      try {
        const issuer = await ca.loadIssuer(passphrase.source, options.now, options.inventory);
        const retired = await loadRetiredIssuers(ca, key, { passphrase: passphrase.source, now: options.now, inventory: options.inventory, warnings });
        cas.set(key, { key, ref, home: ca, issuer, retired, rootPem: ca.readRootCertificatePem(), config: caConfig(ca, settings.baseUrl) });
      } catch (e) {
        if (key === DEFAULT_CA_NAME || needed.has(key) || !isPkiError(e)) throw e;
        warnings.push(`${ref.trustDomain ? `the CA of trust domain "${ref.trustDomain}"` : `issuing CA "${key}"`} is not served (${e.message}): OCSP answers unauthorized for its certificates`);
      }
    }
  } finally {
    passphrase.forget();
  }
  checkProvisionerProfiles(settings, new Map([...cas.values()].map((ca) => [ca.key, ca.config])));
  return { cas, warnings };
}

/** SIGHUP: every loaded CA's pki.json read again (all or nothing); refused when a provisioner names a CA not loaded. */
export function reloadedCaConfigs(context: ServeContext, settings: ServeSettings): Map<string, PkiConfig> {
  checkProvisionerCas(context.home, settings, [...context.issuingCas.keys()], 'reload');
  const configs = new Map([...context.issuingCas.values()].map((ca) => [ca.key, caConfig(ca.home, settings.baseUrl)]));
  checkProvisionerProfiles(settings, configs);
  return configs;
}

/** The CA a provisioner issues with (checked to be loaded at start and reload). */
export function provisionerCa(context: ServeContext, provisioner: ProvisionerSettings): ServeIssuingCa {
  const key = caKey(provisionerRef(provisioner));
  const ca = context.issuingCas.get(key);
  if (!ca) throw new Error(`issuing CA "${key}" of provisioner "${provisioner.name}" is not loaded`);
  return ca;
}

/** The loaded CA that issued a record (its `ca` and `trustDomain` columns), or undefined: a CA not loaded. */
export function caOfRecord(context: ServeContext, record: { ca?: string | null; trustDomain?: string | null }): ServeIssuingCa | undefined {
  return context.issuingCas.get(caKey(refOfRecord(record)));
}

/** The loaded CA whose current or retired key has subject key identifier `keyId` (an ARI certificate identifier's AKI), or undefined. */
export function caByKeyIdentifier(context: ServeContext, keyId: Uint8Array): ServeIssuingCa | undefined {
  const hex = keyIdHex(keyId);
  for (const ca of context.issuingCas.values()) {
    const ski = subjectKeyIdentifierOf(ca.issuer.certificate);
    if ((ski && Buffer.from(ski).equals(keyId)) || ca.retired.some((r) => r.keyId === hex)) return ca;
  }
  return undefined;
}
