/**
 * Opening a CA private key file — X.509 root and intermediate, SSH user and host CAs alike: read it, ask
 * for the passphrase only when the file is encrypted (so a no-op run never prompts), decrypt, and wipe the
 * passphrase. One place, so both kinds of CA keys get the same retry and the same wiping.
 */
import type { KeyObject } from 'node:crypto';
import { importPrivateKey } from '../core/keys/keys.js';
import { isEncryptedPrivateKey } from '../core/keys/encryption.js';
import { PkiError } from '../core/errors.js';
import { readText } from './fs/read-file.js';

/**
 * Where a CA key's passphrase comes from. The store passes `check` (does this secret open the key?) so an
 * interactive source can ask again after a typo, and any source can say which one gave the wrong secret.
 */
export type PassphraseSource = (check?: PassphraseCheck) => Promise<Uint8Array>;
export type PassphraseCheck = (secret: Uint8Array) => boolean;

/**
 * Decrypts a CA key (plain keys need no passphrase). The key opened by the source's check is kept, so the
 * PBKDF2 work is done once per try.
 */
export async function openCaKey(keyText: string, passphrase: PassphraseSource): Promise<KeyObject> {
  const { key, secret } = await openCaKeyKeepingPassphrase(keyText, passphrase);
  secret?.fill(0);
  return key;
}

/**
 * As openCaKey, but the passphrase (null for a plain key) is handed back instead of wiped: `pki ca rotate`
 * encrypts the new key with it, so scripts keep their passphrase. The caller wipes it.
 */
export async function openCaKeyKeepingPassphrase(keyText: string, passphrase: PassphraseSource): Promise<{ key: KeyObject; secret: Uint8Array | null }> {
  if (!isEncryptedPrivateKey(keyText)) return { key: importPrivateKey(keyText), secret: null };
  let opened: KeyObject | undefined;
  const secret = await passphrase((candidate) => {
    try {
      opened = importPrivateKey(keyText, candidate);
      return true;
    } catch (e) {
      if (e instanceof PkiError && e.code === 'ERR_BAD_PASSWORD') return false;
      throw e;
    }
  });
  try {
    return { key: opened ?? importPrivateKey(keyText, secret), secret };
  } catch (e) {
    secret.fill(0);
    throw e;
  }
}

/** openCaKey of the key file at `path`. */
export function openCaKeyFile(path: string, passphrase: PassphraseSource): Promise<KeyObject> {
  return openCaKey(readText(path), passphrase);
}
