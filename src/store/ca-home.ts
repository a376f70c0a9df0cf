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
import { trustAnchorsPem } from './root-transition.js';
import { readIssuingCaPolicy, withIssuingCaPolicy, withTrustDomainUrls } from './issuing-ca-policy.js';
import { loadIssuerOf } from './load-issuer.js';
import { namedFolders } from './fs/named-folders.js';
import { checkCaName, DEFAULT_CA_NAME, DEFAULT_ISSUING_CA, RESERVED_CA_FOLDERS, issuingCaFiles, type IssuingCaFiles, type IssuingCaRef } from './issuing-ca.js';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedIssuer } from '../core/x509/issuer.js';
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
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
  /**
   * Set on a trust domain's home (`domains/NAME/`, CaHome#trustDomain): the home it belongs to, which keeps
   * the one pki.json, inventory and services/ of every domain. Null on a home of its own.
   */
  readonly main: CaHome | null;
  /** The trust domain's name (issue 14); null for the main hierarchy. */
  readonly trustDomainName: string | null;
  /**
   * Set on the view of a further issuing CA (`pki ca add NAME`, CaHome#issuingCaHome): its name. Such a view
   * shares the main home's folder, root, pki.json and inventory; its intermediate is `ca/NAME/`, its CRL
   * `crl/NAME.crl`. Null on the default intermediate's home and on a trust domain's.
   */
  readonly issuingCaName: string | null;

  /** Paths only, nothing checked: commands use CaHome.open. */
  constructor(dir: string, safety?: Pick<HomeCheckOptions, 'insecure' | 'warn'>, view?: { main: CaHome; trustDomain?: string; issuingCa?: string }) {
    this.dir = resolve(dir);
    this.#safety = safety;
    this.main = view?.main ?? null;
    this.trustDomainName = view?.trustDomain ?? null;
    this.issuingCaName = view?.issuingCa ?? null;
  }

  /**
   * The CA home of trust domain `name` (issue 14, `--trust-domain NAME`): a CA layout of its own under
   * `domains/NAME/` (its root, intermediate, keys and CRLs in `ca/` and `crl/`), sharing this home's
   * pki.json, inventory and services/. Every operation that takes a CaHome signs with that domain's CA and
   * publishes its CRLs when given it. Nothing is checked or read.
   */
  trustDomain(name: string): CaHome {
    if (this.main) return this.main.trustDomain(name);
    return new CaHome(join(this.dir, 'domains', checkCaName(name, 'trust domain')), this.#safety, { main: this, trustDomain: name });
  }

  /**
   * The home as issuing CA `name` sees it (issue 14, `pki ca add NAME`, `--ca NAME`): the same folder, root,
   * pki.json and inventory, with `ca/NAME/intermediate_ca.*` as the intermediate and `crl/NAME.crl` as its
   * CRL; `default` is the default intermediate (this home). Every operation that takes a CaHome signs with
   * that CA and publishes its CRL when given it. Nothing is checked or read.
   */
  issuingCaHome(name: string): CaHome {
    if (name === DEFAULT_CA_NAME) return this.main && !this.trustDomainName ? this.main : this;
    if (this.trustDomainName) {
      throw new PkiError('ERR_USAGE', '--ca and --trust-domain cannot be combined', { hint: 'a trust domain has one issuing CA: pass only --trust-domain' });
    }
    const main = this.main ?? this;
    return new CaHome(main.dir, this.#safety, { main, issuingCa: checkCaName(name, 'CA') });
  }

  /** The home of the CA a record names (its `trustDomain` and `ca` columns): where its CRL and renewal belong. */
  homeOf(ref: IssuingCaRef): CaHome {
    const main = this.main ?? this;
    if (ref.trustDomain) return main.trustDomain(ref.trustDomain);
    return ref.name ? main.issuingCaHome(ref.name) : main;
  }

  /** The further issuing CAs that exist (`ca/NAME/intermediate_ca.crt`), by name. */
  issuingCaNames(): string[] {
    return this.trustDomainName ? [] : namedFolders(join((this.main ?? this).dir, 'ca'), 'intermediate_ca.crt').filter((n) => !RESERVED_CA_FOLDERS.has(n));
  }

  /** The trust domains that exist (a `domains/NAME/ca/root_ca.crt`), by name. */
  trustDomainNames(): string[] {
    return namedFolders(join((this.main ?? this).dir, 'domains'), join('ca', 'root_ca.crt'));
  }

  /** The reference of this home's default intermediate: which records and CRLs belong to it. */
  get issuingCaRef(): IssuingCaRef {
    if (this.issuingCaName) return { trustDomain: null, name: this.issuingCaName };
    return this.trustDomainName ? { trustDomain: this.trustDomainName, name: null } : DEFAULT_ISSUING_CA;
  }

  /** The inventory columns of what this home's intermediate issues (store/inventory/record.ts). */
  get recordColumns(): { trustDomain?: string; ca?: string } {
    if (this.issuingCaName) return { ca: this.issuingCaName };
    return this.trustDomainName ? { trustDomain: this.trustDomainName } : {};
  }

  /** True once the CA files of a trust domain are there (always true of an initialised main home). */
  hasCa(): boolean {
    return existsSync(this.rootCertPath) && existsSync(this.intermediateCertPath);
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
      keyPaths: [this.rootKeyPath, this.intermediateKeyPath, ssh('user'), ssh('host'), ...this.issuingCaNames().map((n) => join(this.caDir, n, 'intermediate_ca.key'))],
    };
  }

  /**
   * Refuses a folder inside the home that is reached through a symbolic link (`services/redis -> /tmp/x`),
   * before pki writes into it; a folder outside the home (`--out`) is the operator's and is not checked.
   */
  checkFolderInside(folder: string): void {
    const problem = linkBelowHome((this.main ?? this).dir, resolve(folder));
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
    return this.main ? this.main.configPath : join(this.dir, 'pki.json');
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
  /** The folder of this home's issuing certificate and key: `ca/`, or `ca/NAME/` for a `pki ca add` CA. */
  get intermediateDir(): string {
    return this.issuingCaName ? join(this.caDir, this.issuingCaName) : this.caDir;
  }
  get intermediateCertPath(): string {
    return join(this.intermediateDir, 'intermediate_ca.crt');
  }
  get intermediateKeyPath(): string {
    return join(this.intermediateDir, 'intermediate_ca.key');
  }
  get crlDir(): string {
    return join(this.dir, 'crl');
  }
  get crlPath(): string {
    return join(this.crlDir, this.issuingCaName ? `${this.issuingCaName}.crl` : 'intermediate_ca.crl');
  }
  get dbDir(): string {
    return this.main ? this.main.dbDir : join(this.dir, 'db');
  }
  get dbPath(): string {
    return join(this.dbDir, 'pki.sqlite');
  }
  get sshDir(): string {
    return this.main ? this.main.sshDir : join(this.dir, 'ssh');
  }
  get servicesDir(): string {
    return this.main ? this.main.servicesDir : join(this.dir, 'services');
  }

  /** True once `pki init` has written the config. */
  isInitialized(): boolean {
    return existsSync(this.configPath);
  }

  /** Throws ERR_CA_MISSING with the command that fixes it. */
  requireInitialized(): void {
    if (this.issuingCaName) {
      this.main!.requireInitialized();
      if (!this.hasCa()) {
        throw new PkiError('ERR_CA_MISSING', `there is no issuing CA ${this.issuingCaName} in ${this.dir} (${this.intermediateCertPath} is missing)`, {
          hint: `create it with "pki ca add ${this.issuingCaName}", or choose one of: ${[DEFAULT_CA_NAME, ...this.main!.issuingCaNames()].join(', ')}`,
        });
      }
      return;
    }
    if (this.main) {
      this.main.requireInitialized();
      if (!this.hasCa()) {
        throw new PkiError('ERR_CA_MISSING', `there is no trust domain ${this.trustDomainName} in ${this.main.dir} (${this.intermediateCertPath} is missing)`, {
          hint: `create it with "pki generate <service> <variant> --trust-domain ${this.trustDomainName}"`,
        });
      }
      return;
    }
    if (!this.isInitialized()) {
      throw new PkiError('ERR_CA_MISSING', `no CA found in ${this.dir} (pki.json is missing)`, {
        hint: `run "pki init --dir ${this.dir}" first, or pass --dir / set PKI_DIR to the CA's home`,
      });
    }
  }

  readConfig(): PkiConfig {
    this.requireInitialized();
    const config = parseConfig(readText(this.configPath), this.configPath);
    // A `pki ca add` CA issues under its own policy (store/issuing-ca-policy.ts): its name constraints, its profiles.
    if (this.trustDomainName) return withTrustDomainUrls(config, this.trustDomainName); // its leaves name its own CRL and intermediate
    return this.issuingCaName ? withIssuingCaPolicy(config, this.issuingCaName, readIssuingCaPolicy(this.intermediateDir)) : config;
  }

  /** The token holding the root and intermediate keys (pki.json "kms"), or null when they are key files. */
  caKeysToken(): Pkcs11Uri | null {
    if (this.issuingCaName) return this.main!.caKeysToken(); // the root's token; the CA's own key is a file
    if (this.main) return null; // a trust domain's keys are files of its own (pki.json "kms" is the main hierarchy's)
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
    if (this.issuingCaName) return openCaKeyFile(this.intermediateKeyPath, passphrase);
    const token = this.caKeysToken();
    if (token) return openTokenKey(token, TOKEN_KEY_LABELS.intermediate);
    return openCaKeyFile(this.intermediateKeyPath, passphrase);
  }

  /** The root certificate, PEM. */
  readRootCertificatePem(): string {
    // During a root rotation (store/root-transition.ts) the old root follows the new one: what ca.crt holds.
    return trustAnchorsPem(this.caDir, readText(this.rootCertPath));
  }

  /** The root certificate, DER. */
  readRootCertificateDer(): Uint8Array {
    const block = findPemBlock(this.readRootCertificatePem(), PemLabel.certificate);
    if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${this.rootCertPath} holds no certificate`);
    return block.der;
  }

  /** The intermediate certificate, PEM and DER. */
  readIntermediateCertificate(ref: IssuingCaRef = this.issuingCaRef): { pem: string; der: Uint8Array } {
    const path = this.issuingCa(ref).certPath;
    const pem = readText(path);
    const block = findPemBlock(pem, PemLabel.certificate);
    if (!block) throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${path} holds no certificate`);
    return { pem, der: block.der };
  }

  /** The files of an issuing CA (store/issuing-ca.ts): the default intermediate, a `ca add` CA, a trust domain's. */
  issuingCa(ref: IssuingCaRef = this.issuingCaRef): IssuingCaFiles {
    return issuingCaFiles((this.main ?? this).dir, ref);
  }

  /**
   * The intermediate CA ready to sign: certificate + decrypted key, checked to match and to be valid now.
   * Asks `passphrase` only when the key file is encrypted; refuses a revoked intermediate (store/load-issuer.ts).
   */
  loadIssuer(passphrase: PassphraseSource, now: Date, inventory: Pick<Inventory, 'find'>, ref: IssuingCaRef = this.issuingCaRef): Promise<LoadedIssuer & { certificatePem: string; ref: IssuingCaRef }> {
    return loadIssuerOf(this, passphrase, now, inventory, ref);
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
