/**
 * `pki ca rotate [NAME]` (operations/ca-rotate.ts): a new intermediate key and certificate, the old one
 * retired but still signing its CRL. `pki ca rotate-root` is not built yet.
 */
import { PkiError } from '../../core/errors.js';
import { rotateIntermediate } from '../../operations/ca-rotate.js';
import { openHome } from '../home.js';
import { emit, type GlobalOptions } from '../output.js';
import { passphraseSource, readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';

export interface CaRotateOptions extends PassphraseOptions {
  readonly notAfter?: string;
  readonly trustDomain?: string;
}

export async function runCaRotate(name: string | undefined, options: CaRotateOptions, globals: GlobalOptions, now: Date): Promise<void> {
  if (options.notAfter === '') throw new PkiError('ERR_USAGE', '--not-after needs a lifetime (e.g. 5y) or a date');
  const result = await rotateIntermediate(
    openHome(globals),
    {
      ...(name !== undefined ? { name } : {}),
      ...(options.notAfter !== undefined ? { notAfter: options.notAfter } : {}),
      ...(options.trustDomain !== undefined ? { trustDomain: options.trustDomain } : {}),
    },
    { now, passphrase: passphraseSource(options), rootPassphrase: () => readExistingPassphrase(options, 'root CA key') },
  );
  emit(globals, result, (r) =>
    [
      `Rotated the intermediate ${r.certificatePath}: new ${r.key} key ${r.keyId}, serial ${r.serial}, valid until ${r.notAfter}`,
      `  retired ${r.retired.keyId} (serial ${r.retired.serial}) to ${r.retired.certificatePath}; it signs ${r.retired.crlPath} until ${r.retired.notAfter}`,
      'New certificates are issued by the new key now; service bundles carry the new chain from their next "pki renew".',
      `Snapshot ${r.snapshot} taken first ("pki ca rollback" restores it).`,
      `The root key is no longer needed: move ${r.rootKeyPath} offline again.`,
    ].join('\n'),
  );
}

export async function runCaRotateRoot(_options: Record<string, unknown>, _globals: GlobalOptions, _now: Date): Promise<void> {
  throw new PkiError('ERR_USAGE', 'pki ca rotate-root is not available in this version', { hint: 'see docs/operations.md, "Rotating the root"' });
}
