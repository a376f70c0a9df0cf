/**
 * What one renew run shares between its certificates (`renewCertificate` renews one, `renewAll` every due
 * one): the settings, the inventory, and the intermediate, loaded once and only when something is due (a
 * no-op run never asks for a passphrase). Also the outcome types both operations return.
 */
import type { PkiErrorCode } from '../core/errors.js';
import { parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import type { RenewalPolicy } from '../core/lifecycle/renewal.js';
import { parseSans, type San } from '../core/x509/names.js';
import type { CaHome, IssuingCaRef, PassphraseSource } from '../store/ca-home.js';
import type { PkiConfig } from '../store/config.js';
import { openInventory, type Inventory } from '../store/inventory/index.js';

/** How a run renews: the same for every certificate of `pki renew --all`. */
export interface RenewSettings {
  /** When a certificate is due (--threshold, --expires-in; core/lifecycle/renewal.ts). */
  readonly policy: RenewalPolicy;
  /** Renew whether due or not. */
  readonly force?: boolean;
  /** A new key of the same type, switched together with the certificate (bundles only). */
  readonly rekey?: boolean;
  /** The new certificate's end (--not-after); otherwise the old lifetime, starting now. */
  readonly notAfter?: Date;
  /** A pki.json profile to switch to (--profile; one certificate); otherwise the one recorded for it. */
  readonly profile?: string;
  /**
   * --ca NAME / --trust-domain NAME: only what this CA issued (store/issuing-ca.ts). A certificate is always
   * renewed by the CA that issued it; with --all the others are skipped, one named certificate of another CA is refused.
   */
  readonly only?: IssuingCaRef;
}

/** The caller's side of a run: the clock and where the intermediate's passphrase comes from, if it is asked. */
export interface RenewContext {
  readonly now: Date;
  readonly passphrase: PassphraseSource;
}

export interface RenewedOutcome {
  readonly path: string;
  readonly status: 'renewed';
  readonly serial: string;
  readonly newSerial: string;
  readonly notAfter: string;
  readonly rekeyed: boolean;
  readonly keyPath: string | null;
  /** Fingerprint of the replaced CA's intermediate that had issued it (re-issued under the current CA), or null. */
  readonly previousCa: string | null;
  /** The bundle's ca.crt was replaced by the current root. */
  readonly trustAnchorReplaced: boolean;
}

/** Not renewed, and why: not due (with the instant it becomes due), or printed at issue with no file. */
export interface SkippedOutcome {
  readonly path: string;
  readonly status: 'skipped';
  readonly serial: string | null;
  readonly reason: string;
  readonly dueAt: string | null;
}

/** `--all`: the inventory names a file that is gone (a client `generate --force` dropped, an operator's rm); not a failure. */
export interface MissingOutcome {
  readonly path: string;
  readonly status: 'missing';
  readonly serial: string;
  readonly pruned: boolean;
}

/** `--all`: one certificate's refusal, reported while the others go on. */
export interface FailedOutcome {
  readonly path: string;
  readonly status: 'failed';
  readonly serial: string | null;
  readonly error: { readonly code: PkiErrorCode; readonly message: string; readonly hint: string | null };
}

export type RenewOutcome = RenewedOutcome | SkippedOutcome | MissingOutcome | FailedOutcome;

export type RenewIssuer = Awaited<ReturnType<CaHome['loadIssuer']>>;

export interface RenewSession {
  readonly home: CaHome;
  readonly now: Date;
  readonly config: PkiConfig;
  readonly inventory: Inventory;
  readonly settings: RenewSettings;
  /** --san: names added to the renewed certificate (parsed and checked as sign's are). */
  readonly extraSans: readonly San[];
  /** Loads the intermediate once, and only when something is due. */
  readonly issuer: () => Promise<RenewIssuer>;
  /** The intermediate's certificate (no key, no passphrase): what a certificate to renew must be signed by. */
  readonly intermediate: () => CertificateFields;
  /** Where the intermediates' passphrase comes from (a trust domain's intermediate too). */
  readonly passphrase: PassphraseSource;
  /** What the run tells the operator on the side (a killed earlier run's journal settled), in order. */
  readonly warnings: string[];
}

/**
 * The session of a run as the CA that issued a record sees it (issue 14): a trust domain's home (its
 * intermediate signs, its root is the bundles' ca.crt) or a `pki ca add` CA's (its intermediate and policy),
 * over the run's one inventory, that CA loaded once per run. The default intermediate: the run itself.
 */
export function issuerSession(session: RenewSession, ref: IssuingCaRef): RenewSession {
  if (!ref.trustDomain && !ref.name) return session;
  let byCa = domainSessions.get(session);
  if (!byCa) domainSessions.set(session, (byCa = new Map()));
  const key = `${ref.trustDomain ?? ''}/${ref.name ?? ''}`;
  const known = byCa.get(key);
  if (known) return known;
  const home = session.home.homeOf(ref);
  let issuer: Promise<RenewIssuer> | undefined;
  let intermediate: CertificateFields | undefined;
  const scoped: RenewSession = {
    ...session,
    home,
    // A `pki ca add` CA renews under its own policy (name constraints, profiles).
    config: ref.name ? home.readConfig() : session.config,
    issuer: () => (issuer ??= home.loadIssuer(session.passphrase, session.now, session.inventory)),
    intermediate: () => (intermediate ??= parseCertificate(home.readIntermediateCertificate().der)),
  };
  byCa.set(key, scoped);
  return scoped;
}

const domainSessions = new WeakMap<RenewSession, Map<string, RenewSession>>();

/** Opens the inventory for a run; the caller closes `session.inventory`. `sans`: --san, parsed here (a bad one is refused after the home is read). */
export async function openRenewSession(home: CaHome, settings: RenewSettings, context: RenewContext, sans: readonly string[] = []): Promise<RenewSession> {
  const config = home.readConfig();
  const inventory = await openInventory(home);
  let extraSans: San[];
  try {
    extraSans = parseSans([...sans]);
  } catch (e) {
    inventory.close();
    throw e;
  }
  let issuer: Promise<RenewIssuer> | undefined;
  let intermediate: CertificateFields | undefined;
  return {
    home,
    now: context.now,
    config,
    inventory,
    settings,
    extraSans,
    passphrase: context.passphrase,
    issuer: () => (issuer ??= home.loadIssuer(context.passphrase, context.now, inventory)),
    intermediate: () => (intermediate ??= parseCertificate(home.readIntermediateCertificate().der)),
    warnings: [],
  };
}
