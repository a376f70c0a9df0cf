/** `pki ca add NAME` (operations/ca-add.ts): a further issuing CA under the root, in ca/NAME/. */
import { PkiError } from '../../core/errors.js';
import { addIssuingCa } from '../../operations/ca-add.js';
import { openHome } from '../home.js';
import { emit, type GlobalOptions } from '../output.js';
import { readExistingPassphrase, resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';

export interface CaAddOptions extends PassphraseOptions {
  readonly permitDns: string[];
  readonly notAfter?: string;
  readonly profileSet?: string;
  readonly crlUrl: string[];
  readonly caIssuersUrl: string[];
}

export async function runCaAdd(name: string, options: CaAddOptions, globals: GlobalOptions, now: Date): Promise<void> {
  if (options.notAfter === '') throw new PkiError('ERR_USAGE', '--not-after needs a lifetime (e.g. 5y) or a date');
  const profiles = options.profileSet?.split(',').map((p) => p.trim());
  if (profiles && profiles.some((p) => p === '')) throw new PkiError('ERR_USAGE', '--profile-set needs comma-separated profile names (e.g. client or server,peer)');
  const home = openHome(globals, ['ca', 'crl']);
  const result = await addIssuingCa(
    home,
    {
      name,
      permitDns: options.permitDns,
      ...(options.notAfter !== undefined ? { notAfter: options.notAfter } : {}),
      ...(profiles ? { profiles } : {}),
      ...(options.crlUrl.length ? { crlDistributionPoints: options.crlUrl } : {}),
      ...(options.caIssuersUrl.length ? { caIssuers: options.caIssuersUrl } : {}),
    },
    {
      now,
      rootPassphrase: () => readExistingPassphrase(options, 'root CA key'),
      protection: () => resolveNewKeyProtection({ ...options, insecure: globals.insecure }),
    },
  );
  emit(globals, result, (r) =>
    [
      `Created issuing CA ${r.name} in ${r.dir} (${r.key}${r.keyEncrypted ? ', key encrypted' : ', key NOT encrypted'}), signed by the root:`,
      `  ${r.certificate.subject}  serial ${r.certificate.serial}  until ${r.certificate.notAfter}`,
      ...(r.permittedDns.length ? [`  name constraints: permitted DNS ${r.permittedDns.join(', ')}`] : []),
      `  profiles: ${r.profiles ? r.profiles.join(', ') : 'all'}`,
      `  CRL ${r.crl.path} (number ${r.crl.crlNumber})`,
      `Issue from it with --ca ${r.name} (pki generate, sign, crl); revoke and renew find it from the inventory.`,
      ...(r.rootKeyPath.startsWith('pkcs11:') ? [] : [`The root key is no longer needed: move ${r.rootKeyPath} offline again.`]),
    ].join('\n'),
  );
}
