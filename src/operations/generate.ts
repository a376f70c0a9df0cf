/**
 * Issuing a service bundle (`pki generate <service> <variant>`): the eight openssl commands of a mutual-TLS
 * setup in one step — trust anchor, service certificate + key, one certificate + key per client. Convergent:
 * a second run with the same request changes nothing; a request that adds clients or changes SANs or
 * notAfter is applied by issuing only what changed (operations/generate-update.ts; the other keys stay);
 * only `force` re-keys the whole bundle.
 */
import { parseCertificate } from '../core/x509/certificate-fields.js';
import type { KeyPair } from '../core/keys/keys.js';
import { bundleFiles, buildBundleRequest, compareBundle, type BundleFile, type BundleRequest, type BundleState } from '../core/lifecycle/bundle.js';
import { PkiError } from '../core/errors.js';
import { exportPrivateKeyPem, formatKeySpec, generateKeyPair, type KeySpec } from '../core/keys/keys.js';
import { groupSans, type SanSet } from '../core/x509/names.js';
import { encodePem, PemLabel } from '../core/der/pem.js';
import type { LeafProfile } from '../core/x509/profile-config.js';
import { resolveValidity, type Validity } from '../core/x509/validity.js';
import { FileMode, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import { clockSkewMs, keySpecFromConfig, type PkiConfig } from '../store/config.js';
import { bundleFolder, readExistingBundle, recoverBundle, writeBundle } from '../store/service-bundle.js';
import { openInventory, type Inventory } from '../store/inventory/index.js';
import { certificateRecord } from '../store/inventory/record.js';
import { describeSettled, hasBundleJournal, settleBundleJournal } from '../store/inventory/journal.js';
import { issueLeafCertificate, leafNames, leafProfile } from './issue-leaf.js';
import { updateBundle } from './generate-update.js';
import { bundlePath, issuedFiles, type BundleFileOut, type IssuedFile } from './generate-files.js';

export type { IssuedFile } from './generate-files.js';

export interface GenerateRequest {
  readonly service: string;
  readonly variant: string;
  /** SANs beyond the defaults (`<service>`, localhost, 127.0.0.1, ::1). */
  readonly extraSans: readonly string[];
  readonly clients: readonly string[];
  /** Key type of new keys; undefined: pki.json's. */
  readonly keySpec?: KeySpec | undefined;
  /** Lifetime (duration or RFC 3339 time); undefined: pki.json's validity.leaf, and a changed one is not a reason to re-issue. */
  readonly notAfter?: string | undefined;
  readonly notBefore?: string | undefined;
  /** Parent folder of `<service>/<variant>/certs` (default `<home>/services`). */
  readonly out?: string | undefined;
  /** Permission bits and group of the private keys. */
  readonly keyMode: number;
  readonly gid?: number | undefined;
  /** Re-issue the whole bundle with new keys (clients not listed are dropped). */
  readonly force?: boolean;
  /** The pki.json profile of the service certificate (default `peer`); clients always get `client`. */
  readonly profile?: string | undefined;
}

/** The profiles of a bundle's certificates: the service's (`--profile`, default peer) and the clients' (`client`). */
export interface BundleProfiles {
  readonly service: LeafProfile;
  readonly client: LeafProfile;
}

export interface GenerateContext {
  readonly now: Date;
  /** Asked only when the intermediate's key is encrypted and something is to be issued. */
  readonly passphrase: PassphraseSource;
  /** Told as things happen: a killed earlier run's journal settled (before any prompt, and before a later refusal). */
  readonly warn: (message: string) => void;
  /** An inventory already open (`generate --init`'s, from init): used instead of opening one, and left open. */
  readonly inventory?: Inventory;
}

/** Runs `use` with the context's inventory, else with one opened (refusing when missing) and closed after. */
async function withInventory<T>(home: CaHome, context: GenerateContext, use: (inventory: Inventory) => T | Promise<T>): Promise<T> {
  if (context.inventory) return use(context.inventory);
  const inventory = await openInventory(home);
  try {
    return await use(inventory);
  } finally {
    inventory.close();
  }
}

/** What `pki generate --json` prints. */
export type GenerateReport =
  | { readonly folder: string; readonly status: 'up-to-date'; readonly files: readonly IssuedFile[] }
  | { readonly folder: string; readonly status: 'updated'; readonly changes: readonly string[]; readonly files: readonly IssuedFile[] }
  | {
      readonly folder: string;
      readonly status: 'issued';
      readonly key: string;
      readonly notAfter: string;
      readonly sans: SanSet;
      readonly clients: readonly string[];
      readonly files: readonly IssuedFile[];
    };

export interface GenerateResult {
  /** The validated request (names, SANs with the defaults, clients, key spec). */
  readonly request: BundleRequest;
  readonly report: GenerateReport;
}

/** What generate knows once the request is read against pki.json and the disk. */
interface GeneratePlan {
  readonly config: PkiConfig;
  readonly request: BundleRequest;
  readonly validity: Validity;
  readonly folder: string;
  readonly rootPem: string;
  readonly state: BundleState;
  readonly profiles: BundleProfiles;
}

/**
 * What pki.json and the request alone decide — profiles, names, validity — refused before any prompt or
 * file: `generate --trust-domain` checks it before creating a new domain, so bad input creates nothing.
 */
export function checkGenerateRequest(config: PkiConfig, input: GenerateRequest, now: Date): Pick<GeneratePlan, 'request' | 'validity' | 'profiles'> {
  const profiles = { service: leafProfile(config, input.profile ?? 'peer'), client: leafProfile(config, 'client') };
  // The service profile's extra SANs are part of the request, so a second run compares them too.
  const extraSans = [...input.extraSans, ...profiles.service.sans.map((s) => s.value)];
  const keySpec = input.keySpec ?? profiles.service.keySpec ?? keySpecFromConfig(config);
  const request = buildBundleRequest({ service: input.service, variant: input.variant, extraSans, clients: input.clients, keySpec });
  leafNames(config, profiles.service, { commonName: request.service }, request.sans); // required SAN patterns etc., before any prompt
  const validity = resolveValidity({ now, notAfter: input.notAfter ?? profiles.service.notAfter ?? config.validity.leaf, notBefore: input.notBefore, skewMs: clockSkewMs(config) });
  return { request, validity, profiles };
}

async function planGenerate(home: CaHome, input: GenerateRequest, context: GenerateContext): Promise<GeneratePlan> {
  const config = home.readConfig();
  const { request, validity, profiles } = checkGenerateRequest(config, input, context.now);
  const folder = bundleFolder(input.out ?? home.servicesDir, request);
  home.checkFolderInside(folder); // services/… reached through a link would write outside the home
  const rootPem = home.readRootCertificatePem();
  recoverBundle(folder); // a killed earlier run's leftovers must not count as bundle files
  if (hasBundleJournal(folder, { path: home.dbPath })) {
    // A run killed between switching this bundle and recording it: record what is live (one existsSync otherwise).
    await withInventory(home, context, (inventory) => {
      const settled = settleBundleJournal(folder, inventory);
      if (settled?.recorded.length) context.warn(describeSettled(settled));
    });
  }
  const issuerSubject = parseCertificate(home.readIntermediateCertificate().der).subjectDer;
  const state = compareBundle(request, readExistingBundle(folder, request, rootPem, issuerSubject), input.notAfter !== undefined ? validity : undefined);
  return { config, request, validity, folder, rootPem, state, profiles };
}

/** The refusals of a bundle that is there but is not what was asked for (without force). */
function refuseExisting(folder: string, state: BundleState): void {
  if (state.state === 'different') {
    throw new PkiError('ERR_BUNDLE_MISMATCH', `${folder} exists but differs from the request: ${state.differences.join('; ')}`, {
      hint: state.differences.some((d) => d.startsWith('ca.crt'))
        ? 'run "pki renew --all" to re-issue it under the current CA (it replaces ca.crt), or --force to re-issue the whole bundle with new keys'
        : state.differences.some((d) => d.includes('--ca'))
          ? 'pass --force to re-issue the whole bundle from that CA with new keys, or the --ca it was issued with'
          : 'list every client the bundle has (--client, repeatable) to add one, or pass --force to re-issue the whole bundle with new keys',
    });
  }
  if (state.state === 'partial') {
    throw new PkiError('ERR_BUNDLE_PARTIAL', `${folder} is incomplete: missing ${state.missing.join(', ')}`, {
      hint: 'pass --force to re-issue the whole bundle with new keys (the remaining files would not match new ones)',
    });
  }
}

/**
 * Issues or converges the bundle `input` names in `home` (pki.json must exist). Returns what was issued,
 * updated or found up to date, with every file written and its serial.
 */
export async function generateBundle(home: CaHome, input: GenerateRequest, context: GenerateContext): Promise<GenerateResult> {
  const plan = await planGenerate(home, input, context);
  const { request, folder, state } = plan;
  if (!input.force && state.state === 'update') {
    const files = await updateBundle({ home, config: plan.config, profiles: plan.profiles, request, folder, validity: plan.validity, keyMode: input.keyMode, gid: input.gid, state, ...context });
    return { request, report: { folder, status: 'updated', changes: state.changes, files } };
  }
  if (!input.force) {
    if (state.state === 'up-to-date') return { request, report: { folder, status: 'up-to-date', files: [] } };
    refuseExisting(folder, state);
  }
  const files = await issueWholeBundle(home, plan, input, context);
  return {
    request,
    report: { folder, status: 'issued', key: formatKeySpec(request.keySpec), notAfter: plan.validity.notAfter.toISOString(), sans: groupSans(request.sans), clients: request.clients, files },
  };
}

/** A whole new bundle (absent, or --force): every key new, every certificate issued, one version switch. */
async function issueWholeBundle(home: CaHome, plan: GeneratePlan, input: GenerateRequest, context: GenerateContext): Promise<IssuedFile[]> {
  const { request, folder, validity, config } = plan;
  // refuses (before any write) when the database is missing
  return withInventory(home, context, async (inventory) => {
    const issuer = await home.loadIssuer(context.passphrase, context.now, inventory);
    const certificates = bundleFiles(request).filter((f) => f.role === 'service-certificate' || f.role === 'client-certificate');
    // All keys of the bundle at once: generateKeyPair runs on the libuv pool, one RSA prime search per core.
    const keys = await Promise.all(certificates.map(() => generateKeyPair(request.keySpec)));
    const keyOwner = input.gid !== undefined ? { gid: input.gid } : {};
    const files: BundleFileOut[] = [{ name: 'ca.crt', content: plan.rootPem, mode: FileMode.public, role: 'trust-anchor' }];
    certificates.forEach((f, i) => files.push(...issuedPair(f, keys[i]!, { request, config, profiles: plan.profiles, issuer, validity, keyMode: input.keyMode, keyOwner })));
    // One inventory transaction for the bundle, once its files are in place.
    const records = files
      .filter((f) => f.serial !== undefined)
      .map((f) => {
        const profile = f.role === 'service-certificate' ? plan.profiles.service : plan.profiles.client;
        return certificateRecord(f.content, { profile: profile.role, profileName: profile.name, certificatePath: bundlePath(folder, f.name), keyPath: bundlePath(folder, f.name.replace(/\.crt$/, '.key')), ...home.recordColumns });
      });
    // One version of the whole bundle, switched in one rename: --force never shows a new cert beside an old key.
    // The folder's inventory journal makes the switch and the inventory record one step even across a kill.
    const settled = writeBundle(folder, files.map(({ role: _role, serial: _serial, ...f }) => f), input.force === true, records, inventory, context.now);
    if (settled?.recorded.length) context.warn(describeSettled(settled));
    // --force with fewer clients: the dropped ones' files are gone, so their records must stop being valid
    // (else `renew --all` would look for them forever).
    retireDropped(inventory, folder, new Set(records.map((r) => r.certificatePath!)));
    return issuedFiles(folder, files);
  });
}

interface PairContext {
  readonly request: BundleRequest;
  readonly config: PkiConfig;
  readonly profiles: BundleProfiles;
  readonly issuer: Awaited<ReturnType<CaHome['loadIssuer']>>;
  readonly validity: Validity;
  readonly keyMode: number;
  readonly keyOwner: { gid?: number };
}

/** A certificate of the bundle and its new key, the key listed first (as the bundle's report always has). */
function issuedPair(file: BundleFile, keys: KeyPair, c: PairContext): BundleFileOut[] {
  const isService = file.role === 'service-certificate';
  const leaf = issueLeafCertificate({
    issuer: c.issuer,
    config: c.config,
    profile: isService ? c.profiles.service : c.profiles.client,
    subject: { commonName: isService ? c.request.service : file.client! },
    sans: isService ? c.request.sans : [],
    publicKey: keys.publicKey,
    validity: c.validity,
  });
  return [
    { name: file.name.replace(/\.crt$/, '.key'), content: exportPrivateKeyPem(keys.privateKey), mode: c.keyMode, ...c.keyOwner, role: isService ? 'service-key' : 'client-key' },
    { name: file.name, content: encodePem(PemLabel.certificate, leaf.der) + c.issuer.certificatePem, mode: FileMode.public, role: file.role, serial: leaf.serial },
  ];
}

/** Marks superseded the valid records of files in `folder` that the new version does not hold. */
function retireDropped(inventory: Inventory, folder: string, written: ReadonlySet<string>): void {
  const prefix = `${folder}/`;
  const dropped = inventory
    .listSummaries({ kind: 'x509', status: 'valid' })
    .filter((r) => r.certificatePath !== null && r.certificatePath.startsWith(prefix) && !written.has(r.certificatePath) && !r.certificatePath.slice(prefix.length).includes('/'))
    .map((r) => r.serial);
  inventory.retire('x509', dropped);
}
