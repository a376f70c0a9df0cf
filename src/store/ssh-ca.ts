/**
 * The OpenSSH CAs on disk, under `<dir>/ssh/` (folder 0700):
 *
 *   ssh_user_ca_key       0600   PKCS#8 PEM, PBES2-encrypted unless `--no-password --insecure`
 *   ssh_user_ca_key.pub   0644   OpenSSH public key line: what sshd's TrustedUserCAKeys reads
 *   ssh_host_ca_key       0600
 *   ssh_host_ca_key.pub   0644   what goes after `@cert-authority <hosts>` in known_hosts
 *   revoked_keys          0644   the KRL (PROTOCOL.krl) that sshd's RevokedKeys reads
 *   ssh_user_ca_key.pkcs11 0644  instead of ssh_user_ca_key, with `pki ssh init --kms`: the PKCS#11 URI of
 *                                the key on the token (`pkcs11:token=…;object=pki-ssh-user?…`, no PIN)
 *
 * The private keys use the same PKCS#8 format and passphrase handling as the X.509 CA keys rather than
 * OpenSSH's own `openssh-key-v1` format: one encryption scheme to audit (PBES2, 600k PBKDF2-SHA256), keys
 * that `openssl pkey` can open, and no bcrypt-pbkdf implementation to carry. docs/ssh.md explains it.
 */
import { join } from 'node:path';
import { publicKeyOf, type SigningKey } from '../core/keys/signing-key.js';
import { PkiError } from '../core/errors.js';
import { checkSshCaKey, encodeSshPublicKeyBlob, parseSshPublicKey, type SshCertType, type SshPublicKey } from '../core/ssh/index.js';
import { writeFileAtomic } from './fs/atomic-write.js';
import { ensureHomeFolder, fileExists, FileMode, readText, type CaHome } from './ca-home.js';
import { openCaKeyFile, type PassphraseSource } from './ca-key.js';
import { inventoryExists, openInventory } from './inventory/index.js';
import type { Inventory } from './inventory/index.js';
import { openTokenKey } from './pkcs11/token.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/uri.js';

export const SSH_CERT_TYPES: readonly SshCertType[] = ['user', 'host'];

/** Paths of the SSH CA files of a CA home. */
export class SshCaFiles {
  readonly dir: string;

  constructor(home: CaHome) {
    this.dir = home.sshDir;
  }

  keyPath(certType: SshCertType): string {
    return join(this.dir, `ssh_${certType}_ca_key`);
  }
  publicKeyPath(certType: SshCertType): string {
    return join(this.dir, `ssh_${certType}_ca_key.pub`);
  }
  /** Where a CA whose key is on a PKCS#11 token names it (its URI), in place of the key file. */
  tokenKeyPath(certType: SshCertType): string {
    return join(this.dir, `ssh_${certType}_ca_key.pkcs11`);
  }
  get krlPath(): string {
    return join(this.dir, 'revoked_keys');
  }

  /** Every CA file that exists already (for the re-init refusal). */
  existingCaFiles(): string[] {
    return SSH_CERT_TYPES.flatMap((t) => [this.keyPath(t), this.tokenKeyPath(t), this.publicKeyPath(t)]).filter(fileExists);
  }

  /**
   * Writes one CA: key (PEM, or the URI of its object on a token) first, public line second (the .pub
   * marks the CA as complete).
   */
  writeCa(certType: SshCertType, key: { readonly pem: string } | { readonly token: Pkcs11Uri }, publicKeyLine: string, overwrite: boolean): void {
    ensureHomeFolder(this.dir, FileMode.privateFolder);
    if ('pem' in key) writeFileAtomic(this.keyPath(certType), key.pem, { mode: FileMode.privateKey, overwrite });
    else writeFileAtomic(this.tokenKeyPath(certType), `${formatPkcs11Uri(key.token)}\n`, { mode: FileMode.public, overwrite });
    writeFileAtomic(this.publicKeyPath(certType), `${publicKeyLine}\n`, { mode: FileMode.public, overwrite });
  }

  /** The CA's public key, as sshd and known_hosts will see it. */
  readPublicKey(certType: SshCertType): SshPublicKey {
    this.requireCa(certType);
    return parseSshPublicKey(readText(this.publicKeyPath(certType)));
  }

  /**
   * The CA private key, ready to sign: decrypted (asking `passphrase` only when encrypted), checked against
   * the SSH CA policy, and checked to match the .pub file that hosts trust.
   */
  async loadCaKey(certType: SshCertType, passphrase: PassphraseSource): Promise<SigningKey> {
    const publicKey = this.readPublicKey(certType);
    const onToken = fileExists(this.tokenKeyPath(certType));
    const key = onToken ? await this.openTokenCaKey(certType) : await openCaKeyFile(this.keyPath(certType), passphrase);
    checkSshCaKey(key);
    if (!encodeSshPublicKeyBlob(publicKeyOf(key)).equals(publicKey.blob)) {
      throw new PkiError('ERR_KEY_MISMATCH', `${onToken ? `the token key ${this.tokenKeyPath(certType)} names` : this.keyPath(certType)} does not belong to ${this.publicKeyPath(certType)}`, {
        hint: 'restore the matching pair from backup, or re-create the SSH CAs with "pki ssh init --force"',
      });
    }
    return key;
  }

  /** The key a `.pkcs11` file names on its token. */
  private async openTokenCaKey(certType: SshCertType): Promise<SigningKey> {
    const path = this.tokenKeyPath(certType);
    const uri = parsePkcs11Uri(readText(path).trim(), this.dir);
    if (uri.object === undefined) throw new PkiError('ERR_INVALID_CONFIG', `${path} names no key object (object=…)`, { hint: 're-create the SSH CAs with "pki ssh init --kms …"' });
    return openTokenKey(uri, uri.object);
  }

  writeKrl(krl: Uint8Array): void {
    ensureHomeFolder(this.dir, FileMode.privateFolder);
    writeFileAtomic(this.krlPath, krl, { mode: FileMode.public, overwrite: true });
  }

  requireCa(certType: SshCertType): void {
    if (!fileExists(this.publicKeyPath(certType)) || !(fileExists(this.keyPath(certType)) || fileExists(this.tokenKeyPath(certType)))) {
      throw new PkiError('ERR_SSH_CA_MISSING', `no SSH ${certType} CA in ${this.dir}`, {
        hint: 'run "pki ssh init" (with the same --dir) first',
      });
    }
  }
}

/**
 * The inventory for SSH commands. SSH CAs do not need the X.509 CA: in a home without pki.json, `pki ssh
 * init` creates the inventory (`create`) and later commands require it to exist.
 */
export async function openSshInventory(home: CaHome, create: boolean): Promise<Inventory> {
  if (home.isInitialized()) return openInventory(home, create ? 'create-if-missing' : 'existing');
  if (!create && !inventoryExists(home)) {
    throw new PkiError('ERR_INVENTORY_MISSING', `${home.dir} has no inventory database (${home.dbPath} is missing)`, {
      hint: `run "pki ssh init --dir ${home.dir}" first`,
    });
  }
  return openInventory(home, 'create-if-missing');
}
