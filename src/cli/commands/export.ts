/**
 * `pki export`: a bundle (`<service> <variant>`, `--client NAME`) or a `--cert F --key F` pair in one
 * consumer's format (issue 12; docs/export.md is its manual). The flags are checked here — exactly one
 * format, one source, no flag of another format — as usage errors (exit 2); the operation reads, checks and
 * writes. The PKCS#12 password is read (cli/p12-password.ts) only when the operation asks for it.
 */
import { PkiError } from '../../core/errors.js';
import { exportCertificate, type ExportFormat, type ExportResult, type ExportSource } from '../../operations/export.js';
import { openHome } from '../home.js';
import { emit, emitData, warn, type GlobalOptions } from '../output.js';
import { readPkcs12Password } from '../p12-password.js';

export interface ExportOptions {
  readonly client?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly p12?: string;
  readonly k8sSecret?: boolean;
  readonly fullchain?: string;
  readonly chain?: string;
  readonly haproxy?: string;
  readonly der?: string;
  readonly passwordFile?: string;
  readonly legacy?: boolean;
  readonly withRoot?: boolean;
  readonly name?: string;
  readonly namespace?: string;
  readonly force?: boolean;
}

const FORMAT_FLAGS = { p12: '--p12', k8sSecret: '--k8s-secret', fullchain: '--fullchain', chain: '--chain', haproxy: '--haproxy', der: '--der' } as const;
/** Flags that mean something for one format only. */
const FORMAT_ONLY: readonly [keyof ExportOptions, string, keyof typeof FORMAT_FLAGS][] = [
  ['passwordFile', '--password-file', 'p12'],
  ['legacy', '--legacy', 'p12'],
  ['withRoot', '--with-root', 'p12'],
  ['name', '--name', 'k8sSecret'],
  ['namespace', '--namespace', 'k8sSecret'],
];

const usage = (message: string, hint: string) => new PkiError('ERR_USAGE', message, { hint });
const FORMAT_HINT = 'give exactly one of --p12 FILE, --k8s-secret, --fullchain FILE, --chain FILE, --haproxy FILE, --der FILE';

/** The one format asked for; none or two are usage errors, as is a flag that belongs to another format. */
export function parseExportFormat(opts: ExportOptions): ExportFormat {
  const given = (Object.keys(FORMAT_FLAGS) as (keyof typeof FORMAT_FLAGS)[]).filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (given.length !== 1) {
    throw usage(given.length === 0 ? 'pki export needs a format' : `pki export writes one format per call, got ${given.map((k) => FORMAT_FLAGS[k]).join(' and ')}`, FORMAT_HINT);
  }
  const kind = given[0]!;
  for (const [flag, text, owner] of FORMAT_ONLY) {
    if (opts[flag] !== undefined && opts[flag] !== false && owner !== kind) throw usage(`${text} applies to ${FORMAT_FLAGS[owner]} only`, `drop ${text}, or export with ${FORMAT_FLAGS[owner]}`);
  }
  if (kind === 'k8sSecret') {
    if (opts.force) throw usage('--force applies to the formats that write a file; --k8s-secret prints the Secret on stdout', 'drop --force');
    return { kind: 'k8s-secret', ...(opts.name !== undefined ? { name: opts.name } : {}), ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) };
  }
  if (kind === 'p12') return { kind: 'p12', path: opts.p12!, legacy: opts.legacy === true, withRoot: opts.withRoot === true };
  return { kind, path: opts[kind]! };
}

/** A bundle, or a --cert/--key pair: one of the two, whole. */
export function parseExportSource(service: string | undefined, variant: string | undefined, opts: ExportOptions): ExportSource {
  if (opts.cert !== undefined || opts.key !== undefined) {
    if (service !== undefined) throw usage('pki export takes a bundle (<service> <variant>) or --cert/--key, not both', 'drop the bundle names, or --cert and --key');
    if (opts.client !== undefined) throw usage('--client names a client of a bundle; it does not go with --cert', 'export the client from its bundle: pki export <service> <variant> --client NAME …');
    if (opts.cert === undefined) throw usage('--key needs --cert', 'give the certificate too: --cert FILE --key FILE');
    if (opts.key === undefined) throw usage('--cert needs --key', 'give the private key too: --cert FILE --key FILE');
    return { kind: 'pair', certFile: opts.cert, keyFile: opts.key };
  }
  if (service === undefined || variant === undefined) {
    throw usage('pki export needs a bundle (<service> <variant>) or --cert FILE --key FILE', 'e.g. pki export redis main --fullchain redis-fullchain.pem');
  }
  return { kind: 'bundle', service, variant, ...(opts.client !== undefined ? { client: opts.client } : {}) };
}

function wroteLine(r: Omit<ExportResult, 'secret' | 'yaml'>): string {
  const holds = [r.certificate.subject, ...r.chain].map((n) => `"${n}"`).join(' + ');
  const what = r.format === 'chain' ? r.chain.map((n) => `"${n}"`).join(' + ') : r.format === 'haproxy' ? `${holds} + key` : r.format === 'p12' ? `key, ${holds}${r.root ? ` + "${r.root}"` : ''}` : holds;
  return `Wrote ${r.path} (${r.format}: ${what}; mode 0${r.mode!.toString(8)})`;
}

export async function runExport(service: string | undefined, variant: string | undefined, opts: ExportOptions, g: GlobalOptions, now: Date): Promise<void> {
  const source = parseExportSource(service, variant, opts);
  const format = parseExportFormat(opts);
  if (source.kind === 'pair' && format.kind === 'k8s-secret' && format.name === undefined) throw usage('--k8s-secret with --cert needs --name', 'name the Secret, e.g. --name web-tls');
  const result = await exportCertificate(openHome(g), { source, format, force: opts.force === true }, {
    now,
    p12Password: () => readPkcs12Password({ passwordFile: opts.passwordFile, confirm: true }),
  });
  for (const line of result.warnings) warn(line);
  if (result.secret) {
    emitData(g, result.secret, () => result.yaml!);
    return;
  }
  const { secret: _secret, yaml: _yaml, ...report } = result;
  emit(g, report, wroteLine);
}
