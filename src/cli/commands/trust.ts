/**
 * `pki trust install|uninstall|status` (docs/trust.md): the CA's root in this host's trust stores. The
 * operation plans; this command decides whether the plan runs — as root, without --dry-run, on this host's
 * own platform — or is printed as a shell script (exit 0: printing is the answer without privileges).
 * `status` exits 0 when the root is in every store asked for, 1 otherwise.
 */
import { PkiError } from '../../core/errors.js';
import { applyTrustPlan, isPlatformName, planTrustRoots, PLATFORMS, type PlatformName, type TrustAction, type TrustPlan, type TrustStoreReport } from '../../operations/trust.js';
import { ExitCode, ExitError } from '../errors.js';
import { emit, emitData, type GlobalOptions } from '../output.js';

export interface TrustOptions {
  readonly root?: string;
  readonly nss?: boolean;
  readonly java?: boolean;
  readonly javaKeystore?: string;
  readonly platform?: string;
  readonly dryRun?: boolean;
}

/** Why a plan was printed instead of carried out. */
type PrintReason = 'dry-run' | 'not-root' | 'other-platform';

type StoreState = 'installed' | 'already-installed' | 'removed' | 'not-installed' | 'would-install' | 'would-remove' | 'unknown';

interface TrustDocument {
  readonly action: TrustAction;
  readonly platform: PlatformName;
  readonly executed: boolean;
  readonly reason: PrintReason | null;
  readonly root: TrustPlan['root'];
  readonly installed?: boolean;
  readonly stores: readonly { store: string; location: string; installed: boolean | null; state: StoreState; commands: readonly string[] }[];
  /** During a root rotation (until `pki ca rotate-root --finish`): the same for the old root, which hosts keep trusting meanwhile. */
  readonly oldRoot?: TrustDocument;
}

function parsePlatform(text: string | undefined): PlatformName | undefined {
  if (text === undefined) return undefined;
  if (isPlatformName(text)) return text;
  throw new PkiError('ERR_USAGE', `--platform "${text}" is not one of ${PLATFORMS.join(', ')}`, { hint: 'leave it out to use this host\'s own store' });
}

/** Root privileges decide between running and printing (process.getuid is absent on Windows: never root there). */
function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function stateOf(action: TrustAction, s: TrustStoreReport, executed: boolean): StoreState {
  const changes = s.steps.length > 0;
  if (action === 'status') return s.installed === null ? 'unknown' : s.installed ? 'installed' : 'not-installed';
  if (action === 'install') return !changes ? 'already-installed' : executed ? 'installed' : 'would-install';
  return !changes ? 'not-installed' : executed ? 'removed' : 'would-remove';
}

function documentOf(plan: TrustPlan, executed: boolean, reason: PrintReason | null): TrustDocument {
  const stores = plan.stores.map((s) => {
    const installed = executed ? plan.action === 'install' : s.installed;
    return { store: s.store, location: s.location, installed, state: stateOf(plan.action, s, executed), commands: s.commands };
  });
  const all = plan.action === 'status' ? { installed: stores.every((s) => s.installed === true) } : {};
  return { action: plan.action, platform: plan.platform, executed, reason, root: plan.root, ...all, stores };
}

const STATE_TEXT: Record<StoreState, string> = {
  installed: 'installed',
  'already-installed': 'already installed',
  removed: 'removed',
  'not-installed': 'not installed',
  'would-install': 'would install',
  'would-remove': 'would remove',
  unknown: 'unknown (cannot be checked here: another platform, or its tool is missing)',
};

function renderStores(doc: TrustDocument): string {
  const head = `${doc.root.label} (${doc.root.subject}, SHA-256 ${doc.root.sha256})`;
  return [head, ...doc.stores.map((s) => `${s.store}: ${STATE_TEXT[s.state]} ${s.location}`)].join('\n');
}

const REASON_TEXT: Record<PrintReason, string> = {
  'dry-run': 'dry run, nothing was changed',
  'not-root': `not running as root, nothing was changed; run these as root (or pipe this into sudo sh)`,
  'other-platform': 'another platform than this host, nothing was changed; run these there as root',
};

/** The plan as a shell script: a comment per store, then its commands. */
function renderScript(doc: TrustDocument): string {
  const lines = [`# pki trust ${doc.action} (${doc.platform}): ${REASON_TEXT[doc.reason ?? 'dry-run']}`, `# root: ${doc.root.label} (${doc.root.subject})`];
  for (const s of doc.stores) {
    const now = s.installed === null ? 'not checked (not this host)' : s.installed ? 'installed' : 'not installed';
    lines.push(`# ${s.store} ${s.location}: ${now}${s.commands.length === 0 ? ', nothing to do' : ''}`, ...s.commands);
  }
  return lines.join('\n');
}

export async function runTrust(action: TrustAction, opts: TrustOptions, g: GlobalOptions, now: Date): Promise<void> {
  const platform = parsePlatform(opts.platform);
  if (opts.javaKeystore !== undefined && !opts.java) throw new PkiError('ERR_USAGE', '--java-keystore needs --java', { hint: 'add --java' });
  const plans = planTrustRoots({
    action,
    homeDir: g.dir,
    nss: opts.nss === true,
    java: opts.java === true,
    now,
    ...(opts.root !== undefined ? { rootFile: opts.root } : {}),
    ...(opts.javaKeystore !== undefined ? { javaKeystore: opts.javaKeystore } : {}),
    ...(platform ? { platform } : {}),
    ...(process.env.HOME ? { userHome: process.env.HOME } : {}),
    ...(process.env.JAVA_HOME ? { javaHome: process.env.JAVA_HOME } : {}),
  });
  // The current root's document, with the old root's beside it during a root rotation.
  const documents = (make: (plan: TrustPlan) => TrustDocument): TrustDocument => {
    const [main, old] = plans.map(make);
    return old ? { ...main!, ...(main!.installed !== undefined ? { installed: main!.installed && old.installed === true } : {}), oldRoot: old } : main!;
  };
  const render = (one: (doc: TrustDocument) => string) => (doc: TrustDocument) => [one(doc), ...(doc.oldRoot ? ['', one(doc.oldRoot)] : [])].join('\n');
  if (action === 'status') {
    const doc = documents((plan) => documentOf(plan, false, null));
    emitData(g, doc, render(renderStores));
    if (!doc.installed) throw new ExitError(ExitCode.failure);
    return;
  }
  const changes = plans.some((plan) => plan.stores.some((s) => s.steps.length > 0));
  const reason: PrintReason | null = opts.dryRun ? 'dry-run' : !changes ? null : plans[0]!.otherPlatform ? 'other-platform' : !isRoot() ? 'not-root' : null;
  if (reason) {
    emitData(g, documents((plan) => documentOf(plan, false, reason)), render(renderScript));
    return;
  }
  for (const plan of plans) if (plan.stores.some((s) => s.steps.length > 0)) applyTrustPlan(plan);
  emit(g, documents((plan) => documentOf(plan, plan.stores.some((s) => s.steps.length > 0), null)), render(renderStores));
}
