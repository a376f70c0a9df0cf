/**
 * `pki sign <csr-file…>`: signs externally made certification requests with the intermediate
 * (operations/sign.ts). The command checks the flags, says where each certificate goes, hands the
 * passphrase flags over as a source, and renders the result: one request without --out prints the chain.
 */
import { basename, extname, join, resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { signCsrs } from '../../operations/sign.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome, selectedCaHome } from '../home.js';
import { passphraseSource, type PassphraseOptions } from '../passphrase.js';
import { withProgress } from '../progress.js';

export interface SignOptions extends PassphraseOptions {
  readonly profile: string;
  readonly notAfter?: string;
  readonly notBefore?: string;
  readonly san: string[];
  readonly out?: string;
  readonly outDir?: string;
  readonly force?: boolean;
  readonly trustDomain?: string;
  readonly ca?: string;
}

/** `web.csr` → `web.crt` in the output folder. */
function certificateName(csrPath: string): string {
  const base = basename(csrPath);
  const ext = extname(base);
  return `${['.csr', '.req', '.pem', '.der', '.p10'].includes(ext.toLowerCase()) ? base.slice(0, -ext.length) : base}.crt`;
}

export async function runSign(csrFiles: string[], options: SignOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const main = openHome(globals);
  const home = selectedCaHome(main, options);
  home.requireInitialized();
  const profile = options.profile; // a pki.json or built-in profile: operations/sign.ts refuses an unknown one, listing the known
  if (options.out !== undefined && options.outDir !== undefined) throw new PkiError('ERR_USAGE', '--out and --out-dir exclude each other');
  if (csrFiles.length > 1 && options.outDir === undefined) {
    throw new PkiError('ERR_USAGE', `${csrFiles.length} requests need --out-dir DIR (one <name>.crt per request)`, { hint: '--out and standard output take a single request' });
  }
  const outDir = options.outDir !== undefined ? resolve(options.outDir) : undefined;
  const csrs = csrFiles.map((file) => ({
    label: file,
    data: { path: file },
    target: outDir !== undefined ? resolve(join(outDir, certificateName(file))) : options.out !== undefined ? resolve(options.out) : null,
  }));
  const result = await withProgress('signing', globals, {}, (progress) =>
    signCsrs(
      home,
      { csrs, profile, notAfter: options.notAfter, notBefore: options.notBefore, extraSans: options.san, outDir, force: options.force === true },
      { now, passphrase: progress.pausing(passphraseSource(options)), onProgress: progress.update },
    ),
  );
  const results = result.certificates;
  if (csrs[0]!.target === null) {
    // One request to standard output: the chain itself is the output (inside the JSON document with --json).
    const chain = result.chains[0]!;
    if (globals.json) emit(globals, { ...results[0]!, chain }, () => '');
    else process.stdout.write(chain);
    return;
  }
  emit(globals, results, (rs) =>
    rs.length === 1
      ? `Signed ${rs[0]!.request} → ${rs[0]!.path} (${rs[0]!.subject || '(no subject)'}, serial ${rs[0]!.serial}, ${profile}, until ${rs[0]!.notAfter.slice(0, 10)})`
      : [`Signed ${rs.length} requests into ${outDir} (${profile}, until ${result.notAfter.slice(0, 10)})`, ...rs.map((r) => `  ${basename(r.path!)}  serial ${r.serial}  ${r.subject}`)].join('\n'),
  );
}
