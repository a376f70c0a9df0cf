/**
 * The PKCS#12 password (`pki export --p12`, `pki inspect FILE.p12`): `--password-file FILE`, else the
 * PKI_P12_PASSWORD environment variable, else a prompt on the terminal without echo (asked twice when a new
 * file is written). Never argv. It is separate from PKI_PASSWORD on purpose: the CA passphrase must not
 * become the password of a file that is handed to other people and hosts.
 */
import { PkiError } from '../core/errors.js';
import { promptHidden, readPasswordFile } from './passphrase.js';

export const P12_PASSWORD_ENV = 'PKI_P12_PASSWORD';

export interface Pkcs12PasswordOptions {
  readonly passwordFile?: string | undefined;
  /** true when writing: a prompt asks twice and the two must match. */
  readonly confirm: boolean;
}

/** The password as UTF-8 bytes; the caller wipes it after use. */
export async function readPkcs12Password(options: Pkcs12PasswordOptions): Promise<Uint8Array> {
  if (options.passwordFile) return readPasswordFile(options.passwordFile);
  const env = process.env[P12_PASSWORD_ENV];
  if (env) return new TextEncoder().encode(env);
  if (!process.stdin.isTTY) {
    throw new PkiError('ERR_PASSWORD_REQUIRED', 'a PKCS#12 password is needed and there is no terminal to ask on', {
      hint: `pass --password-file FILE or set ${P12_PASSWORD_ENV}`,
    });
  }
  const first = await promptHidden('PKCS#12 password: ');
  if (!options.confirm) return first;
  const second = await promptHidden('PKCS#12 password again: ');
  const same = first.length === second.length && first.every((b, i) => b === second[i]);
  second.fill(0);
  if (!same) {
    first.fill(0);
    throw new PkiError('ERR_BAD_PASSWORD', 'the two PKCS#12 passwords differ', { hint: 'run the command again and type the same password twice' });
  }
  return first;
}
