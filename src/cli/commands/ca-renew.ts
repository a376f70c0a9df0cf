/**
 * `pki ca renew [NAME]` (operations/ca-renew.ts): the intermediate's new certificate, signed by the root;
 * prints the old and new notAfter. `pki ca rollback` (operations/ca-rollback.ts) restores the snapshot it
 * takes first.
 */
import { PkiError } from '../../core/errors.js';
import { renewIntermediateCertificate } from '../../operations/ca-renew.js';
import { caSnapshots, rollbackCa } from '../../operations/ca-rollback.js';
import { openHome } from '../home.js';
import { emit, type GlobalOptions } from '../output.js';
import { readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';

export interface CaRenewOptions extends PassphraseOptions {
  readonly notAfter?: string;
  readonly trustDomain?: string;
}

export async function runCaRenew(name: string | undefined, options: CaRenewOptions, globals: GlobalOptions, now: Date): Promise<void> {
  if (options.notAfter === '') throw new PkiError('ERR_USAGE', '--not-after needs a lifetime (e.g. 5y) or a date');
  const result = await renewIntermediateCertificate(
    openHome(globals),
    {
      ...(name !== undefined ? { name } : {}),
      ...(options.notAfter !== undefined ? { notAfter: options.notAfter } : {}),
      ...(options.trustDomain !== undefined ? { trustDomain: options.trustDomain } : {}),
    },
    { now, rootPassphrase: () => readExistingPassphrase(options, 'root CA key') },
  );
  emit(globals, result, (r) =>
    [
      `Renewed the intermediate ${r.certificatePath} (same key): serial ${r.serial}`,
      `  notAfter ${r.previousNotAfter} -> ${r.notAfter}`,
      'Service bundles carry the new chain from their next "pki renew".',
      `Snapshot ${r.snapshot} taken first ("pki ca rollback" restores it).`,
      // A root key on a token stays there: nothing to move.
      ...(r.rootKeyPath.startsWith('pkcs11:') ? [] : [`The root key is no longer needed: move ${r.rootKeyPath} offline again.`]),
    ].join('\n'),
  );
}

export interface CaRollbackOptions {
  readonly snapshot?: string;
  readonly list?: boolean;
  readonly force?: boolean;
  readonly trustDomain?: string;
}

export async function runCaRollback(options: CaRollbackOptions, globals: GlobalOptions, _now: Date): Promise<void> {
  const main = openHome(globals);
  const home = options.trustDomain !== undefined ? main.trustDomain(options.trustDomain) : main;
  if (options.list) {
    emit(globals, caSnapshots(home), (list) => (list.length === 0 ? 'No snapshots.' : list.map((s) => `${s.id}  ${s.path}`).join('\n')));
    return;
  }
  const restored = await rollbackCa(home, { ...(options.snapshot !== undefined ? { snapshot: options.snapshot } : {}), force: options.force === true });
  emit(globals, restored, (s) => `Restored the CA home from snapshot ${s.id} (${s.path}): ca/, pki.json and the inventory.`);
}
