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
import type { KeyObject } from 'node:crypto';
import { TOKEN_KEY_LABELS } from '../store/ca-home.js';
import { existingTokenKeys, generateTokenKey, type TokenKeySpec } from '../store/pkcs11/token.js';
import { formatPkcs11Uri, keyObjectUri, type Pkcs11Uri } from '../store/pkcs11/uri.js';
import { checkSshCaKey, MIN_RSA_CA_BITS } from '../core/ssh/ca-key.js';

/** The key type asked for, in JWK terms as `--kty/--crv/--size` spell it (size as text, checked here). */
export interface SshCaKeyRequest {
  readonly kty?: string | undefined;
  readonly crv?: string | undefined;
  readonly size?: string | undefined;
}

export interface SshInitRequest extends SshCaKeyRequest {
  /** Replace existing SSH CAs (every certificate issued so far stops being trusted). */
  readonly force?: boolean | undefined;
  /** Generate both CA keys on this PKCS#11 token (`--kms`) as pki-ssh-user and pki-ssh-host; no key files, no passphrase. */
  readonly kms?: Pkcs11Uri | undefined;
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
  const { kms } = request;
  if (kms && request.force) throw new PkiError('ERR_USAGE', '--kms does not replace existing SSH CAs (--force) in this version', { hint: 'create the token SSH CAs in a new, empty --dir' });
  if (kms && (kms.object !== undefined || kms.id !== undefined)) {
    throw new PkiError('ERR_USAGE', `--kms names the token only: pki creates the SSH CA keys there as "${TOKEN_KEY_LABELS.sshUser}" and "${TOKEN_KEY_LABELS.sshHost}"`, { hint: 'leave object= and id= out of the URI' });
  }
  // Tokens rarely make Ed25519 keys: with --kms the default is ECDSA P-256, which every OpenSSH since 5.7 accepts.
  const spec = sshCaKeySpecOf(kms && request.kty === undefined && request.crv === undefined && request.size === undefined ? { kty: 'EC' } : request);
  const protection: NewKeyProtection = kms ? { encrypt: false } : await context.newKeyProtection();

  const pairs = kms ? await generateSshCaKeysOnToken(kms, spec) : await generateSshCaKeysInMemory(spec, protection);

  ensureFolder(home.dir);
  const overwrite = request.force === true;
  const lines = {
    user: encodeSshPublicKey(pairs.user.publicKey, 'pki-ssh-user-ca'),
    host: encodeSshPublicKey(pairs.host.publicKey, 'pki-ssh-host-ca'),
  };
  files.writeCa('user', pairs.user.stored, lines.user, overwrite);
  files.writeCa('host', pairs.host.stored, lines.host, overwrite);

  // An empty KRL right away: sshd refuses every public key login when RevokedKeys names a missing file.
  const inventory = await openSshInventory(home, true);
  let krl: PublishedKrl;
  try {
    krl = inventory.exclusive(() => publishKrl(files, inventory, context.now));
  } finally {
    inventory.close();
  }

  const describe = (t: SshCertType): CreatedSshCa => ({
    key: kms ? formatPkcs11Uri(keyObjectUri(kms, t === 'user' ? TOKEN_KEY_LABELS.sshUser : TOKEN_KEY_LABELS.sshHost)) : files.keyPath(t),
    publicKey: files.publicKeyPath(t),
    publicKeyLine: lines[t],
    fingerprint: fingerprintSshPublicKey(encodeSshPublicKeyBlob(pairs[t].publicKey)),
  });
  return { dir: files.dir, keyType: lines.user.split(' ', 1)[0]!, keysEncrypted: protection.encrypt, user: describe('user'), host: describe('host'), krl };
}

/** One new SSH CA key: its public key, and how it is stored (PEM, or the URI of its object on the token). */
interface NewSshCaKey {
  readonly publicKey: KeyObject;
  readonly stored: { readonly pem: string } | { readonly token: Pkcs11Uri };
}

async function generateSshCaKeysInMemory(spec: SshCaKeySpec, protection: NewKeyProtection): Promise<Record<SshCertType, NewSshCaKey>> {
  const [user, host] = await Promise.all([generateSshCaKey(spec), generateSshCaKey(spec)]);
  const pems = protection.encrypt
    ? await Promise.all([encryptPrivateKeyPem(user.privateKey, { passphrase: protection.passphrase }), encryptPrivateKeyPem(host.privateKey, { passphrase: protection.passphrase })])
    : [exportPrivateKeyPem(user.privateKey), exportPrivateKeyPem(host.privateKey)];
  if (protection.encrypt) protection.passphrase.fill(0);
  return { user: { publicKey: user.publicKey, stored: { pem: pems[0]! } }, host: { publicKey: host.publicKey, stored: { pem: pems[1]! } } };
}

/** Both SSH CA keys on the token, refused when its labels are taken (another CA's keys, or an earlier run's). */
async function generateSshCaKeysOnToken(kms: Pkcs11Uri, spec: SshCaKeySpec): Promise<Record<SshCertType, NewSshCaKey>> {
  const labels = { user: TOKEN_KEY_LABELS.sshUser, host: TOKEN_KEY_LABELS.sshHost };
  const taken = await existingTokenKeys(kms, [labels.user, labels.host]);
  if (taken.length > 0) {
    throw new PkiError('ERR_CA_EXISTS', `token "${kms.token}" already holds ${taken.map((l) => `"${l}"`).join(' and ')}`, {
      hint: `use another token, or delete the old SSH CA keys from it first (pkcs11-tool --delete-object --type privkey --label ${taken[0]} …, and the pubkey)`,
    });
  }
  const tokenSpec: TokenKeySpec = spec.kty === 'RSA' ? { kty: 'RSA', size: spec.size ?? MIN_RSA_CA_BITS } : spec.kty === 'EC' ? { kty: 'EC', crv: spec.crv ?? 'P-256' } : { kty: 'OKP' };
  const made = async (t: SshCertType): Promise<NewSshCaKey> => {
    const key = await generateTokenKey(kms, labels[t], tokenSpec);
    checkSshCaKey(key);
    return { publicKey: key.publicKey, stored: { token: keyObjectUri(kms, labels[t]) } };
  };
  return { user: await made('user'), host: await made('host') };
}
