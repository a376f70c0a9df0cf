/**
 * `pki init`: a root CA and an intermediate CA signed by it (operations/init.ts). The command turns flags
 * into an InitRequest, hands the passphrase flags over as a NewKeyProtection source, and renders the result.
 */
import { initCa } from '../../operations/init.js';
import { createdCaText } from '../init-text.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { keySpecFromFlags, type KeyFlags } from '../options.js';
import { resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';
import { slowKeyLabel, withProgress } from '../progress.js';

export interface InitOptions extends KeyFlags, PassphraseOptions {
  readonly name: string;
  readonly rootNotAfter: string;
  readonly intermediateNotAfter: string;
  readonly force?: boolean;
  readonly permitDns?: string[];
  readonly excludeDns?: string[];
  readonly permitIp?: string[];
  readonly excludeIp?: string[];
}

export async function runInit(options: InitOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
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
    },
    { now, protection: progress.pausing(() => resolveNewKeyProtection(options)), warn },
  ));
  emit(globals, result.report, (r) => createdCaText(result.name, r, globals.dir, { next: true }).join('\n'));
}
