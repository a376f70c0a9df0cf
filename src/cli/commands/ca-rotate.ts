/**
 * `pki ca rotate [NAME]` (operations/ca-rotate.ts): a new intermediate key and certificate, the old one
 * retired but still signing its CRL; `pki ca rotate-root [--finish]` (operations/ca-rotate-root.ts).
 */
import { PkiError } from '../../core/errors.js';
import { rotateIntermediate } from '../../operations/ca-rotate.js';
import { finishRootRotation, rotateRoot } from '../../operations/ca-rotate-root.js';
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

export interface CaRotateRootOptions extends PassphraseOptions {
  readonly finish?: boolean;
  readonly notAfter?: string;
  readonly trustDomain?: string;
}

export async function runCaRotateRoot(options: CaRotateRootOptions, globals: GlobalOptions, now: Date): Promise<void> {
  const home = openHome(globals);
  const domain = options.trustDomain !== undefined ? { trustDomain: options.trustDomain } : {};
  if (options.finish) {
    if (options.notAfter !== undefined) throw new PkiError('ERR_USAGE', '--not-after does not apply to --finish');
    const done = await finishRootRotation(home, domain, { now });
    emit(globals, done, (r) => `Finished the root rotation: the old root and the cross certificates are set aside in ${r.archived}.\nBundles get the new root alone as ca.crt from their next "pki renew --force". Snapshot ${r.snapshot} taken first.\nHosts that trusted both roots: "pki trust uninstall --root ${r.archived}/old_root_ca.crt" takes the old one out.`);
    return;
  }
  const result = await rotateRoot(home, { ...domain, ...(options.notAfter !== undefined ? { notAfter: options.notAfter } : {}) }, { now, passphrase: passphraseSource(options), rootPassphrase: () => readExistingPassphrase(options, 'root CA key') });
  emit(globals, result, (r) =>
    [
      `Rotated the root: new root ${r.rootCertificatePath} (serial ${r.serial}, valid until ${r.notAfter}), the intermediate re-certified by it`,
      `  cross certificates: ${r.newWithOld} (new key, signed by the old root), ${r.oldWithNew}`,
      `  old root kept as ${r.oldRoot.certificatePath}; its key ${r.oldRoot.keyPath} belongs offline now, as does the new one`,
      'Until "pki ca rotate-root --finish": new and renewed bundles carry both roots in ca.crt and the cross certificate in their chain.',
      'Next: "pki renew --all --force", deploy the bundles, then finish.',
      `Snapshot ${r.snapshot} taken first ("pki ca rollback" restores it).`,
    ].join('\n'),
  );
}
