/**
 * `pki ssh init`: the OpenSSH user and host CAs plus an empty KRL (operations/ssh-init.ts), and the lines
 * to deploy them with.
 */
import { initSshCas } from '../../operations/ssh-init.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import type { KeyFlags } from '../options.js';
import { resolveNewKeyProtection, type PassphraseOptions } from '../passphrase.js';
import { parsePkcs11Uri } from '../../store/pkcs11/uri.js';

export interface SshInitOptions extends KeyFlags, PassphraseOptions {
  readonly force?: boolean;
  /** `--kms pkcs11:…`: the token the SSH CA keys are generated on. */
  readonly kms?: string;
}

export async function runSshInit(options: SshInitOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  // Parsed before the home is touched: a URI with pin-value is refused with nothing written.
  const kms = options.kms !== undefined ? parsePkcs11Uri(options.kms, process.cwd()) : undefined;
  const home = openHome(globals, ['ssh', 'db']);
  const created = await initSshCas(home, { kty: options.kty, crv: options.crv, size: options.size, force: options.force, kms }, { now, newKeyProtection: () => resolveNewKeyProtection(options) });
  const result = {
    dir: created.dir,
    keyType: created.keyType,
    keysEncrypted: created.keysEncrypted,
    user: created.user,
    host: created.host,
    krl: created.krl.path,
    sshdConfig: [`TrustedUserCAKeys /etc/ssh/ssh_user_ca.pub`, `RevokedKeys /etc/ssh/revoked_keys`],
    knownHosts: `@cert-authority *.example.com ${created.host.publicKeyLine}`,
  };
  emit(globals, result, (r) =>
    [
      `Created SSH CAs in ${r.dir} (${r.keyType}${kms ? ', keys on the PKCS#11 token' : r.keysEncrypted ? ', keys encrypted' : ', KEYS UNENCRYPTED (--insecure)'})`,
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
