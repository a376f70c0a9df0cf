/**
 * `pki generate <service> <variant> [--init]`: a service bundle (operations/generate.ts); with --init on a
 * home without a CA, the CA first (operations/generate-init.ts). The command turns flags into requests,
 * hands the passphrase flags over as sources, and renders the result as text or --json.
 */
import { PkiError } from '../../core/errors.js';
import type { CaHome } from '../../store/ca-home.js';
import { checkGenerateRequest, generateBundle, type GenerateReport, type GenerateRequest, type GenerateResult } from '../../operations/generate.js';
import { generateWithCa } from '../../operations/generate-init.js';
import { DEFAULT_CA, type InitReport } from '../../operations/init.js';
import { ensureTrustDomain } from '../../operations/trust-domain.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome, selectedCaHome } from '../home.js';
import { createdCaText } from '../init-text.js';
import { keySpecFromFlags, parseKeyMode, resolveGroup, type KeyFlags } from '../options.js';
import { passphraseSource, resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';
import { slowKeyLabel, withProgress } from '../progress.js';
import { keySpecFromConfig } from '../../store/config.js';
import { serviceTrustDomain } from '../../store/issuing-ca.js';
import { withTrustDomainUrls } from '../../store/issuing-ca-policy.js';

export interface GenerateOptions extends KeyFlags, PassphraseOptions {
  readonly san: string[];
  readonly client: string[] | false;
  readonly notAfter?: string;
  readonly notBefore?: string;
  readonly out?: string;
  readonly keyMode: string;
  readonly group?: string;
  readonly force?: boolean;
  /** The pki.json profile of the service certificate (default peer). */
  readonly profile?: string;
  /** Create the CA first when the home has none (key and passphrase flags as for init). */
  readonly init?: boolean;
  /** Issue from this trust domain's CA (created on first use, keys protected as the passphrase flags say). */
  readonly trustDomain?: string;
  /** Issue from this `pki ca add` CA (`default`: the default intermediate). */
  readonly ca?: string;
}

/** Without --init, a home without a CA is refused, naming both ways out. */
function requireCa(home: CaHome): void {
  if (home.isInitialized()) return;
  throw new PkiError('ERR_CA_MISSING', `no CA found in ${home.dir} (pki.json is missing)`, {
    hint: `add --init to create it in this run, run "pki init --dir ${home.dir}" first, or pass --dir / set PKI_DIR to the CA's home`,
  });
}

export async function runGenerate(service: string, variant: string, given: GenerateOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals, given.init ? ['ca', 'db'] : []);
  let options = given;
  if (!options.init) {
    requireCa(home);
    // pki.json's trustDomains names the domain a service's bundles come from, as --trust-domain does.
    const trustDomain = serviceTrustDomain(home.readConfig(), service, options);
    if (trustDomain !== undefined) options = { ...options, trustDomain };
    if (options.password === false && options.trustDomain === undefined) throw new PkiError('ERR_USAGE', '--no-password applies to the CA keys --init creates', { hint: 'add --init, or drop --no-password' });
  }
  if (options.ca !== undefined) {
    if (options.init) throw new PkiError('ERR_USAGE', '--init and --ca cannot be combined', { hint: 'create the CA with "pki init" and the issuing CA with "pki ca add" first' });
    if (options.trustDomain === undefined) return runGenerateFrom(selectedCaHome(home, options), service, variant, options, globals, now);
    selectedCaHome(home, options); // refuses --ca with --trust-domain
  }
  if (options.trustDomain !== undefined) {
    if (options.init) throw new PkiError('ERR_USAGE', '--init and --trust-domain cannot be combined', { hint: 'create the CA with "pki init" first, then issue into the trust domain' });
    return runGenerateInDomain(home, service, variant, options, options.trustDomain, globals, now);
  }
  const keyFlagsGiven = options.kty !== undefined || options.crv !== undefined || options.size !== undefined;
  const bundle = bundleRequest(service, variant, options, keyFlagsGiven);
  // RSA-4096 keys take seconds of prime search: a spinner, paused while a passphrase is asked.
  const slow = slowKeyLabel(bundle.keySpec ?? (home.isInitialized() ? keySpecFromConfig(home.readConfig()) : keySpecFromFlags(options)));
  const label = slow && `generating ${slow} keys`;
  const context = { now, passphrase: passphraseSource(options), warn };
  if (!options.init) {
    const result = await withProgress(label, globals, { spinner: true }, (p) => generateBundle(home, bundle, { ...context, passphrase: p.pausing(context.passphrase) }));
    emit(globals, result.report, (r) => bundleText(result, r).join('\n'));
    return;
  }
  const init = { ...DEFAULT_CA, keySpec: keySpecFromFlags(options) };
  const protection = () => resolveNewKeyProtection({ ...options, insecure: globals.insecure });
  const result = await withProgress(label, globals, { spinner: true }, (p) =>
    generateWithCa(home, { init, bundle }, { ...context, passphrase: p.pausing(context.passphrase), protection: p.pausing(protection) }),
  ).catch((e: unknown) => {
    // A half-made CA (files without pki.json): init's --force replaces it; generate's --force re-keys bundles only.
    if (e instanceof PkiError && e.code === 'ERR_CA_EXISTS') throw new PkiError(e.code, e.message, { hint: `run "pki init --force --dir ${home.dir}" to replace it, or choose another --dir` });
    throw e;
  });
  const ca = result.ca;
  emit(globals, { ...result.report, ca: ca?.report ?? null }, (r: GenerateReport & { ca: InitReport | null }) =>
    [...(ca && r.ca ? [...createdCaText(ca.name, r.ca, globals.dir, { next: false }), ''] : []), ...bundleText(result, r)].join('\n'),
  );
}

/** The bundle the flags ask for. */
function bundleRequest(service: string, variant: string, options: GenerateOptions, keyFlagsGiven: boolean): GenerateRequest {
  return {
    service,
    variant,
    extraSans: options.san,
    clients: options.client === false ? [] : options.client.length ? options.client : ['client'],
    keySpec: keyFlagsGiven ? keySpecFromFlags(options) : undefined, // else pki.json's
    notAfter: options.notAfter,
    notBefore: options.notBefore,
    out: options.out,
    keyMode: parseKeyMode(options.keyMode),
    gid: options.group ? resolveGroup(options.group) : undefined,
    force: options.force === true,
    profile: options.profile,
  };
}

/** `--ca NAME`: the bundle from that issuing CA (its root is the same ca.crt). */
async function runGenerateFrom(home: CaHome, service: string, variant: string, options: GenerateOptions, globals: GlobalOptions, now: Date): Promise<void> {
  home.requireInitialized();
  const keyFlagsGiven = options.kty !== undefined || options.crv !== undefined || options.size !== undefined;
  const bundle = bundleRequest(service, variant, options, keyFlagsGiven);
  const passphrase = passphraseSource(options);
  const result = await withProgress(null, globals, { spinner: true }, (p) => generateBundle(home, bundle, { now, passphrase: p.pausing(passphrase), warn }));
  emit(globals, { ...result.report, issuingCa: home.issuingCaName }, (r) => bundleText(result, r).join('\n'));
}

/** `--trust-domain NAME`: the bundle from the domain's CA, the domain created first when this is its first bundle. */
async function runGenerateInDomain(main: CaHome, service: string, variant: string, options: GenerateOptions, name: string, globals: GlobalOptions, now: Date): Promise<void> {
  const keyFlagsGiven = options.kty !== undefined || options.crv !== undefined || options.size !== undefined;
  const bundle = bundleRequest(service, variant, options, keyFlagsGiven);
  // The passphrase just chosen for a new domain opens its intermediate too: asked once.
  let secret: Uint8Array | undefined;
  const protection = async () => {
    const chosen = await resolveNewKeyProtection({ ...options, insecure: globals.insecure });
    if (chosen.encrypt) secret = Uint8Array.from(chosen.passphrase);
    return chosen;
  };
  try {
    // A new domain is made only for a request that can be issued: bad input leaves nothing behind.
    checkGenerateRequest(withTrustDomainUrls(main.readConfig(), name), bundle, now); // the domain's view of pki.json, before its files exist
    const result = await withProgress(null, globals, { spinner: true }, async (p) => {
      const domain = await ensureTrustDomain(main, name, { now, protection: p.pausing(protection) });
      const passphrase = secret ? async () => Uint8Array.from(secret!) : p.pausing(passphraseSource(options));
      return { domain, bundle: await generateBundle(domain.home, bundle, { now, passphrase, warn }) };
    });
    const created = result.domain.created;
    emit(globals, { ...result.bundle.report, trustDomain: name, createdTrustDomain: created }, (r) =>
      [...(created ? [`Created trust domain ${name} in ${created.dir} (${created.key}${created.keysEncrypted ? ', keys encrypted' : ', keys NOT encrypted'}): its own root and intermediate`, ''] : []), ...bundleText(result.bundle, r)].join('\n'),
    );
  } finally {
    secret?.fill(0);
  }
}

/** The human report; `r` is `result.report` as emit escaped it. */
function bundleText(result: GenerateResult, r: GenerateReport): string[] {
  const { service, variant } = result.request;
  const fileLines = r.files.map((f) => `  ${f.path.slice(r.folder.length + 1).padEnd(24)} ${f.role}${f.serial ? `  serial ${f.serial}` : ''}`);
  if (r.status === 'up-to-date') return [`${r.folder} is up to date; nothing changed.`];
  if (r.status === 'updated') return [`Updated ${service}/${variant} in ${r.folder} (${r.changes.join('; ')}); other files and keys unchanged:`, ...fileLines];
  const sans = result.report.status === 'issued' ? result.report.sans : r.sans; // the SANs as given, as the line has always shown them
  return [`Issued ${service}/${variant} (${r.key}, valid until ${r.notAfter.slice(0, 10)}) in ${r.folder}`, ...fileLines, `  SANs: ${[...sans.dns, ...sans.ip, ...sans.email, ...sans.uri].join(', ')}`];
}
