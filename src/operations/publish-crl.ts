/**
 * Publishing the CRLs (the files they go to are store/crl-publication.ts's): the intermediate's CRL of
 * revoked leaves (`pki crl`, at once by `pki revoke`, when due by `pki crl --if-due` and `pki renew --all`),
 * the root's CRL of revoked intermediates (`pki init`, `pki crl --root`, `pki revoke <intermediate>`), each
 * from the inventory with the next CRL Number, thisUpdate now and nextUpdate the configured lifetime.
 */
import type { SigningKey } from '../core/keys/signing-key.js';
import { issuerFromCertificate, type LoadedIssuer } from '../core/x509/issuer.js';
import { buildCrl, type CrlEntry } from '../core/x509/crl.js';
import { formatDistinguishedName } from '../core/x509/name-decoder.js';
import { PkiError } from '../core/errors.js';
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { parseDuration, wholeSeconds } from '../core/x509/validity.js';
import { fileExists, openCaKey, TOKEN_KEY_LABELS, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { openTokenKey } from '../store/pkcs11/token.js';
import type { PkiConfig } from '../store/config.js';
import { crlDueness, crlSequence, publishedNumber, readRootCaFiles, rootCrlPath, writeCrlFiles, writeOldRootCrlFile, writeRetiredCrlFile, type CrlDueness } from '../store/crl-publication.js';
import { activeRetired, loadRetiredIssuer, type RetiredIntermediate } from '../store/retired-ca.js';
import { openInventory, type Inventory } from '../store/inventory/index.js';

export type { CrlDueness } from '../store/crl-publication.js';

export interface PublishedCrl {
  readonly path: string;
  readonly derPath: string | null;
  /** crl/chain.crl.pem when it was rewritten (both CRLs exist), else null. */
  readonly chainPath: string | null;
  readonly crlNumber: string;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly entries: number;
  /** `pki crl` after a rotation: the retired intermediates' CRLs published with it. */
  readonly retired?: readonly PublishedCrl[];
}

/** The intermediate's CRL lifetime: the flag, else pki.json crl.nextUpdate, else 7 days. */
export function crlLifetimeMs(config: PkiConfig, flag?: string): number {
  return parseDuration(flag ?? config.crl?.nextUpdate ?? '7d');
}

/** The root's CRL lifetime: the flag, else pki.json crl.rootNextUpdate, else 1 year. */
export function rootCrlLifetimeMs(config: PkiConfig | undefined, flag?: string): number {
  return parseDuration(flag ?? config?.crl?.rootNextUpdate ?? '1y');
}

/** Builds, signs and writes the intermediate's CRL. Call inside `inventory.exclusive` (revoke does, with its revoke). */
export function publishCrl(
  home: CaHome,
  inventory: Inventory,
  issuer: LoadedIssuer,
  options: { now: Date; nextUpdateMs: number; der: boolean },
): PublishedCrl {
  const thisUpdate = wholeSeconds(options.now);
  const nextUpdate = new Date(thisUpdate.getTime() + options.nextUpdateMs);
  const crlNumber = inventory.nextSequenceNumber(crlSequence(home, 'crl'), publishedNumber(home, 'crl', inventory) + 1n);
  // Entries go from the index rows into the encoder one by one (no array of 100,000 records). CA records
  // are not listed: the intermediate's CRL covers the leaves it issued, within its trust domain only.
  let entries = 0;
  function* revoked(): Generator<CrlEntry> {
    for (const r of inventory.iterateLeafRevocations('x509', thisUpdate, { trustDomain: home.trustDomainName, ca: home.issuingCaName })) {
      entries++;
      yield { serialHex: r.serial, revokedAt: r.revokedAt, reason: r.revocationReason ?? undefined };
    }
  }
  const der = buildCrl({ issuerCertificateDer: issuer.certificate.der, issuerPrivateKey: issuer.privateKey, entries: revoked(), crlNumber, thisUpdate, nextUpdate });
  const written = writeCrlFiles(home, inventory, 'crl', der, { der: options.der });
  return { ...written, crlNumber: crlNumber.toString(), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), entries };
}

/**
 * The CRL a retired intermediate (`pki ca rotate`) signs for the leaves its key issued: listed by the
 * inventory's issuer_key_id, numbered from the same counter as the current intermediate's CRL (so numbers
 * only grow across both), written to crl/retired/<key id>.crl and into chain.crl.pem. The current
 * intermediate's CRL lists these revocations as well (serials are unique in the CA): a relying party that
 * looks only there still sees them. Call inside `inventory.exclusive`.
 */
export function publishRetiredCrl(home: CaHome, inventory: Inventory, issuer: LoadedIssuer & { retired: RetiredIntermediate }, options: { now: Date; nextUpdateMs: number }): PublishedCrl {
  const thisUpdate = wholeSeconds(options.now);
  const nextUpdate = new Date(thisUpdate.getTime() + options.nextUpdateMs);
  const crlNumber = inventory.nextSequenceNumber(crlSequence(home, 'crl'), publishedNumber(home, 'crl', inventory) + 1n);
  const entries: CrlEntry[] = [...inventory.iterateLeafRevocations('x509', thisUpdate, { trustDomain: home.trustDomainName, ca: home.issuingCaName, issuerKeyId: issuer.retired.keyId })].map((r) => ({
    serialHex: r.serial,
    revokedAt: r.revokedAt,
    reason: r.revocationReason ?? undefined,
  }));
  const der = buildCrl({ issuerCertificateDer: issuer.certificate.der, issuerPrivateKey: issuer.privateKey, entries, crlNumber, thisUpdate, nextUpdate });
  const written = writeRetiredCrlFile(home, issuer.retired.crlPath, der);
  return { ...written, crlNumber: crlNumber.toString(), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), entries: entries.length };
}

/** Every retired intermediate whose certificate is still valid, ready to sign its CRL (their keys opened with `passphrase`). */
export async function loadActiveRetiredIssuers(home: CaHome, passphrase: PassphraseSource, now: Date, inventory: Pick<Inventory, 'find'>) {
  const issuers = [];
  for (const retired of activeRetired(home, now, inventory)) issuers.push(await loadRetiredIssuer(retired, passphrase, now));
  return issuers;
}

/** The root CA ready to sign its CRL, its key brought back for the occasion (readRootCaFiles says how). */
export async function loadRootIssuer(home: CaHome, passphrase: PassphraseSource, now: Date): Promise<LoadedIssuer> {
  const token = home.caKeysToken();
  if (token) return issuerFromCertificate(home.readRootCertificateDer(), await openTokenKey(token, TOKEN_KEY_LABELS.root), now);
  const { certificateDer, keyText } = readRootCaFiles(home);
  return issuerFromCertificate(certificateDer, await openCaKey(keyText, passphrase), now);
}

/**
 * Builds, signs and writes the root's CRL: the intermediates the inventory records as revoked (and not
 * yet expired) and the revoked leaves the root issued directly (an imported CA's, docs/import.md), the next root CRL Number, and chain.crl.pem when the intermediate's CRL exists. Call
 * inside `inventory.exclusive`.
 */
export function publishRootCrl(home: CaHome, inventory: Inventory, root: LoadedIssuer, options: { now: Date; nextUpdateMs: number }): PublishedCrl {
  const { der, crlNumber, thisUpdate, nextUpdate, entries } = signRootCrl(home, inventory, root, options);
  const written = writeCrlFiles(home, inventory, 'root-crl', der, { der: false });
  return { ...written, crlNumber: crlNumber.toString(), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), entries };
}

/**
 * `pki ca rotate-root`: the old root's last CRL, signed with the old key while it is in hand, for the chain
 * files of the transition (store/crl-publication.ts, rootCrlPems). Numbered from the root CRLs' counter.
 * Call inside `inventory.exclusive`, before the new root's CRL (which rewrites the chain files).
 */
export function publishOldRootCrl(home: CaHome, inventory: Inventory, oldRoot: LoadedIssuer, options: { now: Date; nextUpdateMs: number }): string {
  return writeOldRootCrlFile(home, signRootCrl(home, inventory, oldRoot, options).der);
}

function signRootCrl(home: CaHome, inventory: Inventory, root: LoadedIssuer, options: { now: Date; nextUpdateMs: number }) {
  const thisUpdate = wholeSeconds(options.now);
  const nextUpdate = new Date(thisUpdate.getTime() + options.nextUpdateMs);
  const crlNumber = inventory.nextSequenceNumber(crlSequence(home, 'root-crl'), publishedNumber(home, 'root-crl', inventory) + 1n);
  // The intermediates, and the leaves the root signed itself (an adopted openssl CA's, pki init --import-ca).
  const rootName = formatDistinguishedName(root.certificate.subjectDer);
  const entries: CrlEntry[] = inventory
    .listRevocations('x509', thisUpdate, { trustDomain: home.trustDomainName })
    .filter((r) => r.profile === 'intermediate' || (r.profile !== 'root' && r.issuer === rootName))
    .map((r) => ({ serialHex: r.serial, revokedAt: r.revokedAt, reason: r.revocationReason ?? undefined }));
  const der = buildCrl({ issuerCertificateDer: root.certificate.der, issuerPrivateKey: root.privateKey, entries, crlNumber, thisUpdate, nextUpdate });
  return { der, crlNumber, thisUpdate, nextUpdate, entries: entries.length };
}

/** What a cron run did about the CRLs (`pki crl --if-due`, `pki renew --all`). */
export interface CrlRepublication {
  /** The intermediate's CRL: published, not due, or failed (renew --all reports the error and goes on). */
  readonly status: 'published' | 'not due' | 'failed';
  readonly dueness: CrlDueness;
  readonly crl: PublishedCrl | null;
  readonly error: { readonly code: string; readonly message: string; readonly hint: string | null } | null;
  /** The root's CRL is never re-signed by cron (its key belongs offline): when due, the run says so. */
  readonly root: CrlDueness | null;
}

/**
 * Re-publishes the intermediate's CRL when it is due (crlDueness), loading the intermediate only then,
 * so a run with nothing due asks for no passphrase. Throws what loading or publishing throws.
 */
export async function publishCrlIfDue(
  home: CaHome,
  inventory: Inventory,
  options: { now: Date; nextUpdateMs: number; loadIssuer: () => Promise<LoadedIssuer> },
): Promise<CrlRepublication> {
  const dueness = crlDueness(home.crlPath, options.now);
  const rootPath = rootCrlPath(home);
  const root = fileExists(rootPath) ? crlDueness(rootPath, options.now) : null;
  if (!dueness.due) return { status: 'not due', dueness, crl: null, error: null, root };
  const issuer = await options.loadIssuer();
  const crl = inventory.exclusive(() => publishCrl(home, inventory, issuer, { now: options.now, nextUpdateMs: options.nextUpdateMs, der: false }));
  return { status: 'published', dueness, crl, error: null, root };
}

/**
 * `pki renew --all`'s CRL step: publishCrlIfDue, with a refusal (an expired or revoked intermediate, a
 * wrong passphrase) reported as `failed` rather than thrown, so the renewals already done are reported.
 */
export async function republishCrlForRenewal(
  home: CaHome,
  inventory: Inventory,
  options: { now: Date; config: PkiConfig; loadIssuer: () => Promise<LoadedIssuer> },
): Promise<CrlRepublication> {
  try {
    return await publishCrlIfDue(home, inventory, { now: options.now, nextUpdateMs: crlLifetimeMs(options.config), loadIssuer: options.loadIssuer });
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    const dueness = crlDueness(home.crlPath, options.now);
    return { status: 'failed', dueness, crl: null, error: { code: e.code, message: e.message, hint: e.hint ?? null }, root: null };
  }
}

/** The cron CRL step of one CA besides the default intermediate: an added CA (`ca`) or a trust domain's. */
export type OtherCrlRepublication = CrlRepublication & { readonly ca: string | null; readonly trustDomain: string | null };

/**
 * The cron CRL step (`pki renew --all`, `pki crl --if-due`) for every CA of the home besides its default
 * intermediate (issue 14): each `pki ca add` CA and each trust domain's intermediate, re-published when due
 * (a refusal reported as failed). A revoked CA issues no CRL any more and is left out.
 */
export async function republishOtherCrls(main: CaHome, inventory: Inventory, options: { now: Date; config: PkiConfig; passphrase: PassphraseSource }): Promise<OtherCrlRepublication[]> {
  const homes = [...main.issuingCaNames().map((n) => main.issuingCaHome(n)), ...main.trustDomainNames().map((d) => main.trustDomain(d))];
  const out: OtherCrlRepublication[] = [];
  for (const home of homes) {
    const serial = normalizeSerial(parseCertificate(home.readIntermediateCertificate().der).serial);
    if (inventory.find('x509', serial)?.status === 'revoked') continue;
    const loadIssuer = () => home.loadIssuer(options.passphrase, options.now, inventory);
    const r = await republishCrlForRenewal(home, inventory, { now: options.now, config: options.config, loadIssuer });
    out.push({ ...r, ca: home.issuingCaName, trustDomain: home.trustDomainName });
  }
  return out;
}

/**
 * `pki init`'s last step: the root's CRL (no revoked intermediates yet), the intermediate's first CRL and
 * the chain file, so servers configured with crl/chain.crl.pem accept clients from the first minute. Both
 * keys are still in memory; the root key is not needed again for a year (pki.json crl.rootNextUpdate).
 * In init's inventory, still open from recording the CA (one open and close per run).
 */
export function publishInitialCrls(
  home: CaHome,
  inventory: Inventory,
  keys: { rootDer: Uint8Array; rootKey: SigningKey; intermediateDer: Uint8Array; intermediateKey: SigningKey },
  config: PkiConfig,
  now: Date,
): { root: PublishedCrl; intermediate: PublishedCrl } {
  const root = issuerFromCertificate(keys.rootDer, keys.rootKey, now);
  const intermediate = issuerFromCertificate(keys.intermediateDer, keys.intermediateKey, now);
  return inventory.exclusive(() => ({
    root: publishRootCrl(home, inventory, root, { now, nextUpdateMs: rootCrlLifetimeMs(config) }),
    intermediate: publishCrl(home, inventory, intermediate, { now, nextUpdateMs: crlLifetimeMs(config), der: false }),
  }));
}

/** What `pki crl` is asked for: the intermediate's CRL (now, or `ifDue`), or the root's. */
export interface PublishCrlRequest {
  readonly root?: boolean;
  readonly ifDue?: boolean;
  /** Also write crl/intermediate_ca.crl.der (the intermediate's CRL only). */
  readonly der?: boolean;
  /** The lifetime (a duration such as `7d`); default from pki.json. */
  readonly nextUpdate?: string;
}

export type PublishCrlResult =
  | { readonly kind: 'intermediate'; readonly crl: PublishedCrl }
  | { readonly kind: 'root'; readonly crl: PublishedCrl; readonly rootKeyPath: string }
  | { readonly kind: 'if-due'; readonly republication: CrlRepublication; readonly others: readonly OtherCrlRepublication[] };

/**
 * `pki crl`: publishes the CRL the request names from the inventory. `passphrase` opens the intermediate's
 * key, `rootPassphrase` the root's (asked only when the key file is encrypted).
 */
export async function publishCrls(
  home: CaHome,
  request: PublishCrlRequest,
  context: { now: Date; passphrase: PassphraseSource; rootPassphrase: PassphraseSource },
): Promise<PublishCrlResult> {
  const { now } = context;
  const config = home.readConfig();
  const nextUpdateMs = request.root ? rootCrlLifetimeMs(config, request.nextUpdate) : crlLifetimeMs(config, request.nextUpdate);
  const inventory = await openInventory(home);
  try {
    if (request.root) {
      const root = await loadRootIssuer(home, context.rootPassphrase, now);
      const crl = inventory.exclusive(() => publishRootCrl(home, inventory, root, { now, nextUpdateMs }));
      return { kind: 'root', crl, rootKeyPath: home.rootKeyLocation() };
    }
    const loadIssuer = () => home.loadIssuer(context.passphrase, now, inventory);
    if (request.ifDue) {
      const republication = await publishCrlIfDue(home, inventory, { now, nextUpdateMs, loadIssuer });
      // Without --ca / --trust-domain, the cron entry point keeps every CA's CRL from expiring.
      const others = home.main ? [] : await republishOtherCrls(home, inventory, { now, config, passphrase: context.passphrase });
      return { kind: 'if-due', republication, others };
    }
    const issuer = await loadIssuer();
    const retired = await loadActiveRetiredIssuers(home, context.passphrase, now, inventory);
    const { crl, retiredCrls } = inventory.exclusive(() => ({
      crl: publishCrl(home, inventory, issuer, { now, nextUpdateMs, der: request.der === true }),
      retiredCrls: retired.map((r) => publishRetiredCrl(home, inventory, r, { now, nextUpdateMs })),
    }));
    return { kind: 'intermediate', crl: retiredCrls.length ? { ...crl, retired: retiredCrls } : crl };
  } finally {
    inventory.close();
  }
}
