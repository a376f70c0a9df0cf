/**
 * The OpenSSH CAs on disk, under `<dir>/ssh/` (folder 0700):
 *
 *   ssh_user_ca_key       0600   PKCS#8 PEM, PBES2-encrypted unless `--no-password --insecure`
 *   ssh_user_ca_key.pub   0644   OpenSSH public key line: what sshd's TrustedUserCAKeys reads
 *   ssh_host_ca_key       0600
 *   ssh_host_ca_key.pub   0644   what goes after `@cert-authority <hosts>` in known_hosts
 *   revoked_keys          0644   the KRL (PROTOCOL.krl) that sshd's RevokedKeys reads
 *
 * The private keys use the same PKCS#8 format and passphrase handling as the X.509 CA keys rather than
 * OpenSSH's own `openssh-key-v1` format: one encryption scheme to audit (PBES2, 600k PBKDF2-SHA256), keys
 * that `openssl pkey` can open, and no bcrypt-pbkdf implementation to carry. docs/ssh.md explains it.
 */
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { checkSshCaKey, encodeSshPublicKeyBlob, parseSshPublicKey, type SshCertType, type SshPublicKey } from '../core/ssh/index.js';
import { writeFileAtomic } from './fs/atomic-write.js';
import { ensureHomeFolder, fileExists, FileMode, readText, type CaHome } from './ca-home.js';
import { openCaKeyFile, type PassphraseSource } from './ca-key.js';
import { inventoryExists, openInventory } from './inventory/index.js';
import type { Inventory } from './inventory/index.js';

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
  get krlPath(): string {
    return join(this.dir, 'revoked_keys');
  }

  /** Every CA file that exists already (for the re-init refusal). */
  existingCaFiles(): string[] {
    return SSH_CERT_TYPES.flatMap((t) => [this.keyPath(t), this.publicKeyPath(t)]).filter(fileExists);
  }

  /** Writes one CA: key first, public line second (the .pub marks the CA as complete). */
  writeCa(certType: SshCertType, privateKeyPem: string, publicKeyLine: string, overwrite: boolean): void {
    ensureHomeFolder(this.dir, FileMode.privateFolder);
    writeFileAtomic(this.keyPath(certType), privateKeyPem, { mode: FileMode.privateKey, overwrite });
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
  async loadCaKey(certType: SshCertType, passphrase: PassphraseSource): Promise<KeyObject> {
    const publicKey = this.readPublicKey(certType);
    const key = await openCaKeyFile(this.keyPath(certType), passphrase);
    checkSshCaKey(key);
    if (!encodeSshPublicKeyBlob(key).equals(publicKey.blob)) {
      throw new PkiError('ERR_KEY_MISMATCH', `${this.keyPath(certType)} does not belong to ${this.publicKeyPath(certType)}`, {
        hint: 'restore the matching pair from backup, or re-create the SSH CAs with "pki ssh init --force"',
      });
    }
    return key;
  }

  writeKrl(krl: Uint8Array): void {
    ensureHomeFolder(this.dir, FileMode.privateFolder);
    writeFileAtomic(this.krlPath, krl, { mode: FileMode.public, overwrite: true });
  }

  requireCa(certType: SshCertType): void {
    if (!fileExists(this.publicKeyPath(certType)) || !fileExists(this.keyPath(certType))) {
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
