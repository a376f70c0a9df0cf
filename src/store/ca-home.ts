/**
 * The CA home on disk (`--dir`, `PKI_DIR`, default `./pki`): where each file lives, its mode, and
 * loading the CA material. Layout:
 *
 *   pki.json                       config
 *   ca/root_ca.crt          0644   self-signed root
 *   ca/root_ca.key          0600   belongs offline once the intermediate exists
 *   ca/intermediate_ca.crt  0644
 *   ca/intermediate_ca.key  0600   the online issuing key
 *   crl/intermediate_ca.crl 0644
 *   crl/root_ca.crl         0644   the root's CRL; crl/chain.crl.pem 0644 both (store/crl-publication.ts)
 *   db/pki.sqlite           0600   inventory
 *   db/journal/             0700   inventory journals of writes in flight (store/inventory/journal.ts)
 *   ssh/                           OpenSSH CAs
 *   services/<service>/<variant>/certs/   bundles from `pki generate`
 */
import { DEFAULT_ISSUING_CA, describeIssuingCa, issuingCaFiles, sameIssuingCa, type IssuingCaFiles, type IssuingCaRef } from './issuing-ca.js';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { issuerFromCertificate, type LoadedIssuer } from '../core/x509/issuer.js';
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
import { parseCertificate } from '../core/x509/certificate-fields.js';
import { normalizeSerial } from '../core/x509/serial.js';
import type { Inventory } from './inventory/index.js';
import { parseConfig, type PkiConfig } from './config.js';
import { readText } from './fs/read-file.js';
import { checkHome, linkBelowHome, reportProblems, type HomeCheckOptions } from './home-check.js';
import { withFolderLockAsync } from './fs/folder-lock.js';
import { openCaKeyFile, type PassphraseSource } from './ca-key.js';
import { ensureFolder } from './fs/home-folder.js';
import type { SigningKey } from '../core/keys/signing-key.js';
import { openTokenKey } from './pkcs11/token.js';
import { formatPkcs11Uri, keyObjectUri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/uri.js';

/** The labels of pki's key objects on a PKCS#11 token (docs/operations.md, "CA keys on a PKCS#11 token"). */
export const TOKEN_KEY_LABELS = { root: 'pki-root', intermediate: 'pki-intermediate', sshUser: 'pki-ssh-user', sshHost: 'pki-ssh-host' } as const;

export { ensureFolder, ensureHomeFolder, FileMode } from './fs/home-folder.js';

export { openCaKey, type PassphraseCheck, type PassphraseSource } from './ca-key.js';

/** How a command opens the home: `--insecure` turns refusals of an unsafe home into warnings. */
export type HomeOpenOptions = HomeCheckOptions;

/** The folders of a home a command (re)creates, for HomeOpenOptions.narrows. */
export type HomeFolder = 'ca' | 'crl' | 'db' | 'ssh';

export class CaHome {
  readonly dir: string;
  readonly #safety: Pick<HomeCheckOptions, 'insecure' | 'warn'> | undefined;

  /** Paths only, nothing checked: commands use CaHome.open. */
  constructor(dir: string, safety?: Pick<HomeCheckOptions, 'insecure' | 'warn'>) {
    this.dir = resolve(dir);
    this.#safety = safety;
  }

  /**
   * Opens the home at `dir` for a command: refuses (or with --insecure, warns about) folders writable by
   * others or owned by another user, CA keys or an inventory readable by others, and symbolic links inside
   * the home (store/home-check.ts). A few lstat calls; nothing is read or written.
   */
  static open(dir: string, options: HomeOpenOptions): CaHome {
    const home = new CaHome(dir, options);
    checkHome(home.checkedPaths(), options);
    return home;
  }

  /** Folder paths for HomeOpenOptions.narrows. */
  folderPath(folder: HomeFolder): string {
    return { ca: this.caDir, crl: this.crlDir, db: this.dbDir, ssh: this.sshDir }[folder];
  }

  private checkedPaths() {
    const ssh = (t: string) => join(this.sshDir, `ssh_${t}_ca_key`);
    return {
      dir: this.dir,
      caDir: this.caDir,
      crlDir: this.crlDir,
      dbDir: this.dbDir,
      sshDir: this.sshDir,
      servicesDir: this.servicesDir,
      dbPath: this.dbPath,
      keyPaths: [this.rootKeyPath, this.intermediateKeyPath, ssh('user'), ssh('host')],
    };
  }

  /**
   * Refuses a folder inside the home that is reached through a symbolic link (`services/redis -> /tmp/x`),
   * before pki writes into it; a folder outside the home (`--out`) is the operator's and is not checked.
   */
  checkFolderInside(folder: string): void {
    const problem = linkBelowHome(this.dir, resolve(folder));
    if (problem) reportProblems([problem], this.#safety ?? { insecure: false, warn: () => {} });
  }

  /**
   * Runs `fn` holding the home's lock (`<dir>/..lock`): `pki init` and `pki ssh init` replace several files
   * that must belong together (keys and their certificates). A second run at the same time gets ERR_LOCKED
   * at once rather than waiting to replace what the first one made. Creates the home when missing, and
   * removes it again (when still empty) if `fn` fails, so a refused init leaves nothing behind.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const created = !existsSync(this.dir);
    ensureFolder(this.dir);
    try {
      return await withFolderLockAsync(this.dir, fn, 0);
    } catch (e) {
      if (created) removeIfEmpty(this.dir);
      throw e;
    }
  }

  get configPath(): string {
    return join(this.dir, 'pki.json');
  }
  get caDir(): string {
    return join(this.dir, 'ca');
  }
  get rootCertPath(): string {
    return join(this.caDir, 'root_ca.crt');
  }
  get rootKeyPath(): string {
    return join(this.caDir, 'root_ca.key');
  }
  get intermediateCertPath(): string {
    return join(this.caDir, 'intermediate_ca.crt');
  }
  get intermediateKeyPath(): string {
    return join(this.caDir, 'intermediate_ca.key');
  }
  get crlDir(): string {
    return join(this.dir, 'crl');
  }
  get crlPath(): string {
    return join(this.crlDir, 'intermediate_ca.crl');
  }
  get dbDir(): string {
    return join(this.dir, 'db');
  }
  get dbPath(): string {
    return join(this.dbDir, 'pki.sqlite');
  }
  get sshDir(): string {
    return join(this.dir, 'ssh');
  }
  get servicesDir(): string {
    return join(this.dir, 'services');
  }

  /** True once `pki init` has written the config. */
  isInitialized(): boolean {
    return existsSync(this.configPath);
  }

  /** Throws ERR_CA_MISSING with the command that fixes it. */
  requireInitialized(): void {
    if (!this.isInitialized()) {
      throw new PkiError('ERR_CA_MISSING', `no CA found in ${this.dir} (pki.json is missing)`, {
        hint: `run "pki init --dir ${this.dir}" first, or pass --dir / set PKI_DIR to the CA's home`,
      });
    }
  }

  readConfig(): PkiConfig {
    this.requireInitialized();
    return parseConfig(readText(this.configPath), this.configPath);
  }

  /** The token holding the root and intermediate keys (pki.json "kms"), or null when they are key files. */
  caKeysToken(): Pkcs11Uri | null {
    const { kms } = this.readConfig();
    return kms === undefined ? null : parsePkcs11Uri(kms, this.dir);
  }

  /** True when the root key can sign here: on the CA's token, or its key file brought back into the home. */
  rootKeyAvailable(): boolean {
    return this.caKeysToken() !== null || existsSync(this.rootKeyPath);
  }

  /** Where the root key is, for messages: its key file's path, or its object's PKCS#11 URI on the CA's token. */
  rootKeyLocation(): string {
    const token = this.caKeysToken();
    return token ? formatPkcs11Uri(keyObjectUri(token, TOKEN_KEY_LABELS.root)) : this.rootKeyPath;
  }

  /** The default intermediate's key: on the token when pki.json names one, else its key file (asking `passphrase` when encrypted). */
  async openIntermediateKey(passphrase: PassphraseSource): Promise<SigningKey> {
    const token = this.caKeysToken();
    if (token) return openTokenKey(token, TOKEN_KEY_LABELS.intermediate);
    return openCaKeyFile(this.intermediateKeyPath, passphrase);
  }

  /** The root certificate, PEM. */
  readRootCertificatePem(): string {
    return readText(this.rootCertPath);
  }

  /** The root certificate, DER. */
  readRootCertificateDer(): Uint8Array {
    const block = findPemBlock(this.readRootCertificatePem(), PemLabel.certificate);
    if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${this.rootCertPath} holds no certificate`);
    return block.der;
  }

  /** The intermediate certificate, PEM and DER. */
  readIntermediateCertificate(ref: IssuingCaRef = DEFAULT_ISSUING_CA): { pem: string; der: Uint8Array } {
    const path = this.issuingCa(ref).certPath;
    const pem = readText(path);
    const block = findPemBlock(pem, PemLabel.certificate);
    if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${path} holds no certificate`);
    return { pem, der: block.der };
  }

  /** The files of an issuing CA (store/issuing-ca.ts): the default intermediate, a `ca add` CA, a trust domain's. */
  issuingCa(ref: IssuingCaRef = DEFAULT_ISSUING_CA): IssuingCaFiles {
    return issuingCaFiles(this.dir, ref);
  }

  /**
   * The intermediate CA ready to sign: certificate + decrypted key, checked to match and to be valid now.
   * Asks `passphrase` only when the key file is encrypted. An intermediate the inventory records as revoked
   * (`pki revoke` of its serial) is refused before the passphrase is asked: it must not sign again.
   */
  async loadIssuer(
    passphrase: PassphraseSource,
    now: Date,
    inventory: Pick<Inventory, 'find'>,
    ref: IssuingCaRef = DEFAULT_ISSUING_CA,
  ): Promise<LoadedIssuer & { certificatePem: string; ref: IssuingCaRef }> {
    this.requireInitialized();
    const files = this.issuingCa(ref);
    if (ref !== DEFAULT_ISSUING_CA && !existsSync(files.certPath)) {
      throw new PkiError('ERR_CA_MISSING', `there is no ${describeIssuingCa(ref)} CA in ${this.dir} (${files.certPath} is missing)`, {
        hint: ref.trustDomain ? `create it with "pki generate … --trust-domain ${ref.trustDomain}" or list the domains in pki.json` : `create it with "pki ca add ${ref.name}"`,
      });
    }
    const { pem, der } = this.readIntermediateCertificate(ref);
    const serial = normalizeSerial(parseCertificate(der).serial);
    const record = inventory.find('x509', serial);
    if (record?.status === 'revoked') {
      throw new PkiError('ERR_ISSUER_REVOKED', `the intermediate CA (serial ${serial}) was revoked on ${record.revokedAt} (${record.revocationReason}); it no longer issues certificates or CRLs`, {
        hint: 'create a new CA with "pki init --force" and redeploy its root',
      });
    }
    // Only the main hierarchy's default intermediate lives on the token; `ca add` CAs keep key files.
    const key = sameIssuingCa(ref, DEFAULT_ISSUING_CA) ? await this.openIntermediateKey(passphrase) : await openCaKeyFile(files.keyPath, passphrase);
    return { ...issuerFromCertificate(der, key, now), certificatePem: pem, ref };
  }
}

export { readText, readBytes, fileExists, isRegularFile } from './fs/read-file.js';
export { DEFAULT_ISSUING_CA, type IssuingCaFiles, type IssuingCaRef } from './issuing-ca.js';

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    /* not ours to clean any more */
  }
}
