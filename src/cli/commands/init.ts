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
  const result = await initCa(
    home,
    {
      name: options.name,
      keySpec: keySpecFromFlags(options),
      rootNotAfter: options.rootNotAfter,
      intermediateNotAfter: options.intermediateNotAfter,
      force: options.force === true,
      permittedDns: options.permitDns ?? [],
      excludedDns: options.excludeDns ?? [],
      permittedIp: options.permitIp ?? [],
      excludedIp: options.excludeIp ?? [],
    },
    { now, protection: () => resolveNewKeyProtection(options), warn },
  );
  emit(globals, result.report, (r) => createdCaText(result.name, r, globals.dir, { next: true }).join('\n'));
}
