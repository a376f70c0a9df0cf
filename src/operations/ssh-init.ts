/**
 * SSH CA creation: the OpenSSH user CA (trusted by sshd to vouch for users) and host CA (trusted by clients
 * to vouch for servers), plus an empty KRL so `RevokedKeys` can be configured from day one. The X.509 CA
 * is not required: the SSH CAs live in the same home and inventory but stand on their own.
 */
import { PkiError } from '../core/errors.js';
import { encryptPrivateKeyPem } from '../core/keys/encryption.js';
import { exportPrivateKeyPem } from '../core/keys/keys.js';
import { encodeSshPublicKey, fingerprintSshPublicKey, encodeSshPublicKeyBlob, generateSshCaKey, type SshCaKeySpec, type SshCertType } from '../core/ssh/index.js';
import { ensureFolder, type CaHome } from '../store/ca-home.js';
import { openSshInventory, SshCaFiles } from '../store/ssh-ca.js';
import { publishKrl, type PublishedKrl } from './ssh-krl.js';
import type { NewKeyProtection } from './key-protection.js';

/** The key type asked for, in JWK terms as `--kty/--crv/--size` spell it (size as text, checked here). */
export interface SshCaKeyRequest {
  readonly kty?: string | undefined;
  readonly crv?: string | undefined;
  readonly size?: string | undefined;
}

export interface SshInitRequest extends SshCaKeyRequest {
  /** Replace existing SSH CAs (every certificate issued so far stops being trusted). */
  readonly force?: boolean | undefined;
}

/** How the new CA keys are stored: encrypted with a passphrase (wiped after use), or in the clear (CI only). */

export interface SshInitContext {
  readonly now: Date;
  /** Asked once every refusal has passed, so a refused run never prompts. */
  readonly newKeyProtection: () => Promise<NewKeyProtection>;
}

export interface CreatedSshCa {
  readonly key: string;
  readonly publicKey: string;
  /** The `.pub` file's line: what TrustedUserCAKeys and @cert-authority name. */
  readonly publicKeyLine: string;
  readonly fingerprint: string;
}

export interface SshInitResult {
  readonly dir: string;
  /** The CA keys' SSH type, e.g. `ssh-ed25519`. */
  readonly keyType: string;
  readonly keysEncrypted: boolean;
  readonly user: CreatedSshCa;
  readonly host: CreatedSshCa;
  readonly krl: PublishedKrl;
}

const KEY_HINT = 'use --kty OKP (Ed25519, the default), --kty EC --crv P-256|P-384|P-521, or --kty RSA --size 3072|4096';

/** Key request → spec. Ed25519 unless told otherwise: small, fast, and every OpenSSH since 6.5 has it. */
export function sshCaKeySpecOf(request: SshCaKeyRequest): SshCaKeySpec {
  const kty = (request.kty ?? (request.crv === undefined || request.crv === 'Ed25519' ? (request.size !== undefined ? 'RSA' : 'OKP') : 'EC')).toUpperCase();
  if (request.size !== undefined && kty !== 'RSA') throw new PkiError('ERR_INVALID_OPTION', '--size applies to RSA keys only', { hint: KEY_HINT });
  if (request.crv !== undefined && kty === 'RSA') throw new PkiError('ERR_INVALID_OPTION', '--crv does not apply to RSA keys', { hint: KEY_HINT });
  switch (kty) {
    case 'OKP':
      if (request.crv !== undefined && request.crv !== 'Ed25519') throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported OKP curve "${request.crv}"`, { hint: KEY_HINT });
      return { kty: 'OKP', crv: 'Ed25519' };
    case 'EC': {
      const crv = request.crv ?? 'P-256';
      if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported EC curve "${crv}"`, { hint: KEY_HINT });
      return { kty: 'EC', crv };
    }
    case 'RSA': {
      if (request.size !== undefined && !/^\d+$/.test(request.size)) throw new PkiError('ERR_USAGE', `--size "${request.size}" is not a number`, { hint: KEY_HINT });
      const spec: SshCaKeySpec = request.size === undefined ? { kty: 'RSA' } : { kty: 'RSA', size: Number(request.size) };
      if (spec.size !== undefined && spec.size % 8 !== 0) throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported RSA key size ${spec.size}`, { hint: KEY_HINT });
      return spec;
    }
    default:
      throw new PkiError('ERR_UNSUPPORTED_KEY', `unknown key type "${request.kty}"`, { hint: KEY_HINT });
  }
}

/** Creates both SSH CAs and the first KRL. One init at a time: two at once would leave one run's user CA beside the other's host CA and KRL. */
export async function initSshCas(home: CaHome, request: SshInitRequest, context: SshInitContext): Promise<SshInitResult> {
  return home.withLock(() => initSshCasLocked(home, request, context));
}

async function initSshCasLocked(home: CaHome, request: SshInitRequest, context: SshInitContext): Promise<SshInitResult> {
  const files = new SshCaFiles(home);
  // Refusals first: nothing is written until every check has passed.
  if (files.existingCaFiles().length > 0 && !request.force) {
    throw new PkiError('ERR_CA_EXISTS', `SSH CAs already exist in ${files.dir}`, {
      hint: 'pass --force to replace them (every host and user certificate issued so far stops being trusted)',
    });
  }
  const spec = sshCaKeySpecOf(request);
  const protection = await context.newKeyProtection();

  const [user, host] = await Promise.all([generateSshCaKey(spec), generateSshCaKey(spec)]);
  const pairs = { user, host };
  const pems = protection.encrypt
    ? await Promise.all([encryptPrivateKeyPem(user.privateKey, { passphrase: protection.passphrase }), encryptPrivateKeyPem(host.privateKey, { passphrase: protection.passphrase })])
    : [exportPrivateKeyPem(user.privateKey), exportPrivateKeyPem(host.privateKey)];
  if (protection.encrypt) protection.passphrase.fill(0);

  ensureFolder(home.dir);
  const overwrite = request.force === true;
  const lines = {
    user: encodeSshPublicKey(user.publicKey, 'pki-ssh-user-ca'),
    host: encodeSshPublicKey(host.publicKey, 'pki-ssh-host-ca'),
  };
  files.writeCa('user', pems[0]!, lines.user, overwrite);
  files.writeCa('host', pems[1]!, lines.host, overwrite);

  // An empty KRL right away: sshd refuses every public key login when RevokedKeys names a missing file.
  const inventory = await openSshInventory(home, true);
  let krl: PublishedKrl;
  try {
    krl = inventory.exclusive(() => publishKrl(files, inventory, context.now));
  } finally {
    inventory.close();
  }

  const describe = (t: SshCertType): CreatedSshCa => ({
    key: files.keyPath(t),
    publicKey: files.publicKeyPath(t),
    publicKeyLine: lines[t],
    fingerprint: fingerprintSshPublicKey(encodeSshPublicKeyBlob(pairs[t].publicKey)),
  });
  return { dir: files.dir, keyType: lines.user.split(' ', 1)[0]!, keysEncrypted: protection.encrypt, user: describe('user'), host: describe('host'), krl };
}
