/**
 * `pki ssh init`: the OpenSSH user CA (trusted by sshd to vouch for users) and host CA (trusted by clients
 * to vouch for servers), plus an empty KRL so `RevokedKeys` can be configured from day one. The X.509 CA
 * is not required: the SSH CAs live in the same home and inventory but stand on their own.
 */
import { PkiError } from '../../core/errors.js';
import { encryptPrivateKeyPem } from '../../core/keys/encryption.js';
import { exportPrivateKeyPem } from '../../core/keys/keys.js';
import { encodeSshPublicKey, fingerprintSshPublicKey, encodeSshPublicKeyBlob, generateSshCaKey, type SshCaKeySpec } from '../../core/ssh/index.js';
import { ensureFolder, type CaHome } from '../../store/ca-home.js';
import { openSshInventory, SshCaFiles } from '../../store/ssh-ca.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import type { KeyFlags } from '../options.js';
import { resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';
import { publishKrl } from './ssh-krl.js';

export interface SshInitOptions extends KeyFlags, PassphraseOptions {
  readonly force?: boolean;
}

const KEY_HINT = 'use --kty OKP (Ed25519, the default), --kty EC --crv P-256|P-384|P-521, or --kty RSA --size 3072|4096';

/** SSH CA key flags → spec. Ed25519 unless told otherwise: small, fast, and every OpenSSH since 6.5 has it. */
export function sshCaKeySpecFromFlags(flags: KeyFlags): SshCaKeySpec {
  const kty = (flags.kty ?? (flags.crv === undefined || flags.crv === 'Ed25519' ? (flags.size !== undefined ? 'RSA' : 'OKP') : 'EC')).toUpperCase();
  if (flags.size !== undefined && kty !== 'RSA') throw new PkiError('ERR_INVALID_OPTION', '--size applies to RSA keys only', { hint: KEY_HINT });
  if (flags.crv !== undefined && kty === 'RSA') throw new PkiError('ERR_INVALID_OPTION', '--crv does not apply to RSA keys', { hint: KEY_HINT });
  switch (kty) {
    case 'OKP':
      if (flags.crv !== undefined && flags.crv !== 'Ed25519') throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported OKP curve "${flags.crv}"`, { hint: KEY_HINT });
      return { kty: 'OKP', crv: 'Ed25519' };
    case 'EC': {
      const crv = flags.crv ?? 'P-256';
      if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported EC curve "${crv}"`, { hint: KEY_HINT });
      return { kty: 'EC', crv };
    }
    case 'RSA': {
      if (flags.size !== undefined && !/^\d+$/.test(flags.size)) throw new PkiError('ERR_USAGE', `--size "${flags.size}" is not a number`, { hint: KEY_HINT });
      return flags.size === undefined ? { kty: 'RSA' } : { kty: 'RSA', size: Number(flags.size) };
    }
    default:
      throw new PkiError('ERR_UNSUPPORTED_KEY', `unknown key type "${flags.kty}"`, { hint: KEY_HINT });
  }
}

export async function runSshInit(options: SshInitOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const home = openHome(globals, ['ssh', 'db']);
  // One init at a time: two at once would leave one run's user CA beside the other's host CA and KRL.
  await home.withLock(() => sshInitLocked(home, options, globals, now));
}

async function sshInitLocked(home: CaHome, options: SshInitOptions, globals: GlobalOptions, now: Date): Promise<void> {
  const files = new SshCaFiles(home);
  // Refusals first: nothing is written until every check has passed.
  const existing = files.existingCaFiles();
  if (existing.length > 0 && !options.force) {
    throw new PkiError('ERR_CA_EXISTS', `SSH CAs already exist in ${files.dir}`, {
      hint: 'pass --force to replace them (every host and user certificate issued so far stops being trusted)',
    });
  }
  const spec = sshCaKeySpecFromFlags(options);
  if (spec.kty === 'RSA' && spec.size !== undefined && spec.size % 8 !== 0) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', `unsupported RSA key size ${spec.size}`, { hint: KEY_HINT });
  }
  const protection = await resolveNewKeyProtection(options);

  const [user, host] = await Promise.all([generateSshCaKey(spec), generateSshCaKey(spec)]);
  const pairs = { user, host };
  const pems = protection.encrypt
    ? await Promise.all([encryptPrivateKeyPem(user.privateKey, { passphrase: protection.passphrase }), encryptPrivateKeyPem(host.privateKey, { passphrase: protection.passphrase })])
    : [exportPrivateKeyPem(user.privateKey), exportPrivateKeyPem(host.privateKey)];
  if (protection.encrypt) protection.passphrase.fill(0);

  ensureFolder(home.dir);
  const overwrite = options.force === true;
  const lines = {
    user: encodeSshPublicKey(user.publicKey, 'pki-ssh-user-ca'),
    host: encodeSshPublicKey(host.publicKey, 'pki-ssh-host-ca'),
  };
  files.writeCa('user', pems[0]!, lines.user, overwrite);
  files.writeCa('host', pems[1]!, lines.host, overwrite);

  // An empty KRL right away: sshd refuses every public key login when RevokedKeys names a missing file.
  const inventory = await openSshInventory(home, true);
  let krl: Awaited<ReturnType<typeof publishKrl>>;
  try {
    krl = inventory.exclusive(() => publishKrl(files, inventory, now));
  } finally {
    inventory.close();
  }

  const describe = (t: 'user' | 'host') => ({
    key: files.keyPath(t),
    publicKey: files.publicKeyPath(t),
    publicKeyLine: lines[t],
    fingerprint: fingerprintSshPublicKey(encodeSshPublicKeyBlob(pairs[t].publicKey)),
  });
  const result = {
    dir: files.dir,
    keyType: lines.user.split(' ', 1)[0]!,
    keysEncrypted: protection.encrypt,
    user: describe('user'),
    host: describe('host'),
    krl: krl.path,
    sshdConfig: [`TrustedUserCAKeys /etc/ssh/ssh_user_ca.pub`, `RevokedKeys /etc/ssh/revoked_keys`],
    knownHosts: `@cert-authority *.example.com ${lines.host}`,
  };
  emit(globals, result, (r) =>
    [
      `Created SSH CAs in ${r.dir} (${r.keyType}${r.keysEncrypted ? ', keys encrypted' : ', KEYS UNENCRYPTED (--insecure)'})`,
      `  user CA  ${r.user.publicKey}  ${r.user.fingerprint}`,
      `  host CA  ${r.host.publicKey}  ${r.host.fingerprint}`,
      `  KRL      ${r.krl}`,
      '',
      'On every server: copy the user CA public key and the KRL, then add to /etc/ssh/sshd_config:',
      `  install -m 0644 ${r.user.publicKey} /etc/ssh/ssh_user_ca.pub    # contains: ${r.user.publicKeyLine}`,
      `  install -m 0644 ${r.krl} /etc/ssh/revoked_keys`,
      ...r.sshdConfig.map((l) => `  ${l}`),
      '',
      'On every client: add to ~/.ssh/known_hosts (or /etc/ssh/ssh_known_hosts), with your host name pattern:',
      `  ${r.knownHosts}`,
      '',
      `Next: pki ssh sign --user --principal <account> ~/.ssh/id_ed25519.pub${globals.dir !== './pki' ? ` --dir ${globals.dir}` : ''}`,
    ].join('\n'),
  );
}
