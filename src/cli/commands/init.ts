/**
 * `pki init`: a root CA and an intermediate CA signed by it (operations/init.ts), or with --import-ca the
 * adoption of an existing CA as the root, with a new intermediate under it (operations/import-ca.ts). The
 * command turns flags into a request, hands the passphrase flags over as a NewKeyProtection source, and
 * renders the result.
 */
import { PkiError } from '../../core/errors.js';
import { importCa } from '../../operations/import-ca.js';
import { initCa } from '../../operations/init.js';
import { createdCaText } from '../init-text.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { keySpecFromFlags, type KeyFlags } from '../options.js';
import { readExistingPassphrase, resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';
import { slowKeyLabel, withProgress } from '../progress.js';
import { parsePkcs11Uri } from '../../store/pkcs11/uri.js';

export interface InitOptions extends KeyFlags, PassphraseOptions {
  readonly name: string;
  readonly rootNotAfter: string;
  readonly intermediateNotAfter: string;
  readonly force?: boolean;
  readonly permitDns?: string[];
  readonly excludeDns?: string[];
  readonly permitIp?: string[];
  readonly excludeIp?: string[];
  readonly importCa?: string;
  readonly importKey?: string;
  readonly importIndex?: string;
  /** `--kms pkcs11:…`: the token the CA keys are generated on. */
  readonly kms?: string;
  /** The flags given on the command line rather than left at their defaults (program.ts reads commander's sources). */
  readonly given?: { readonly name: boolean; readonly rootNotAfter: boolean };
}

export async function runInit(options: InitOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  if (options.importCa !== undefined || options.importKey !== undefined || options.importIndex !== undefined) {
    if (options.kms !== undefined) throw new PkiError('ERR_USAGE', '--kms does not apply to --import-ca: the imported root keeps its key file', { hint: 'leave out --kms' });
    return runImport(options, globals, now);
  }
  // Parsed before the home is touched: a URI with pin-value is refused with nothing written.
  const kms = options.kms !== undefined ? parsePkcs11Uri(options.kms, process.cwd()) : undefined;
  const home = openHome(globals, ['ca', 'db']);
  const keySpec = keySpecFromFlags(options);
  const slow = slowKeyLabel(keySpec); // RSA-4096: seconds of prime search, so a spinner (paused while the passphrase is asked)
  const result = await withProgress(slow && `generating 2 ${slow} keys`, globals, { spinner: true }, (progress) => initCa(
    home,
    {
      name: options.name,
      keySpec,
      rootNotAfter: options.rootNotAfter,
      intermediateNotAfter: options.intermediateNotAfter,
      force: options.force === true,
      permittedDns: options.permitDns ?? [],
      excludedDns: options.excludeDns ?? [],
      permittedIp: options.permitIp ?? [],
      excludedIp: options.excludeIp ?? [],
      ...(kms ? { kms } : {}),
    },
    { now, protection: progress.pausing(() => resolveNewKeyProtection(options)), warn },
  ));
  emit(globals, result.report, (r) => createdCaText(result.name, r, globals.dir, { next: true }).join('\n'));
}

/** The flag combinations an import refuses, before the home is touched. */
function checkImportFlags(options: InitOptions): { certificate: string; key: string } {
  if (options.importCa === undefined || options.importKey === undefined) {
    throw new PkiError('ERR_USAGE', options.importCa === undefined ? `${options.importIndex !== undefined && options.importKey === undefined ? '--import-index' : '--import-key'} needs --import-ca` : '--import-ca needs --import-key', {
      hint: 'pki init --import-ca ca.crt --import-key ca.key [--import-index index.txt]',
    });
  }
  if (options.force) throw new PkiError('ERR_USAGE', '--import-ca does not replace an existing CA (--force)', { hint: 'import into a new, empty --dir' });
  if (options.given?.rootNotAfter) throw new PkiError('ERR_USAGE', '--root-not-after does not apply to --import-ca: the imported root keeps its own dates');
  return { certificate: options.importCa, key: options.importKey };
}

async function runImport(options: InitOptions, globals: GlobalOptions, now: Date): Promise<void> {
  const files = checkImportFlags(options);
  const home = openHome(globals, ['ca', 'db']);
  const result = await importCa(
    home,
    {
      certificatePath: files.certificate,
      keyPath: files.key,
      indexPath: options.importIndex,
      name: options.given?.name ? options.name : undefined,
      keySpec: keySpecFromFlags(options),
      intermediateNotAfter: options.intermediateNotAfter,
      permittedDns: options.permitDns ?? [],
      excludedDns: options.excludeDns ?? [],
      permittedIp: options.permitIp ?? [],
      excludedIp: options.excludeIp ?? [],
    },
    {
      now,
      importPassphrase: (check) => readExistingPassphrase(options, `imported CA key ${files.key}`, check),
      protection: () => resolveNewKeyProtection(options),
    },
  );
  for (const w of result.report.warnings) warn(w);
  emit(globals, result.report, (r) => {
    const i = r.imported;
    const history = i.index ? [`  taken over       ${i.certificates} certificates from ${i.index} (${i.fromFiles} read from newcerts/, ${i.fromIndexOnly} from the index alone; ${i.revoked} revoked, listed in the root's CRL)`] : [];
    const lines = createdCaText(result.name, r, globals.dir, { next: true });
    return [`Imported ${i.certificate} (${i.rootKey}) as the root CA: certificates it issued keep chaining to it, new ones are issued by a new intermediate.`, ...history, ...lines].join('\n');
  });
}
