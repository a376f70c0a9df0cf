/**
 * `pki ssh sign <public-key-file>`: a short-lived OpenSSH user or host certificate for a public key,
 * written as `<key>-cert.pub` next to it (where ssh and sshd look for it) and recorded in the inventory
 * (operations/ssh-sign.ts).
 */
import { basename, dirname, join, resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { parseSshPublicKey, type SshCertType, type SshCriticalOptions } from '../../core/ssh/index.js';
import { parseTimeSpec } from '../../core/x509/validity.js';
import { fileExists, readText } from '../../store/ca-home.js';
import { signSshCertificate } from '../../operations/ssh-sign.js';
import { emit, warn, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { readExistingPassphrase, type PassphraseOptions } from '../passphrase.js';

export interface SshSignOptions extends PassphraseOptions {
  readonly user?: boolean;
  readonly host?: boolean;
  readonly principal: readonly string[];
  readonly anyPrincipal?: boolean;
  readonly keyId?: string;
  readonly notAfter?: string;
  readonly notBefore?: string;
  readonly forceCommand?: string;
  readonly sourceAddress: readonly string[];
  /** false with --no-pty etc. (commander's negatable flags default to true). */
  readonly pty: boolean;
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly userRc: boolean;
  readonly out?: string;
  readonly force?: boolean;
}

/** The user-certificate extension each `--no-…` flag removes. */
const EXTENSION_FLAGS = [
  ['pty', '--no-pty', 'permit-pty'],
  ['portForwarding', '--no-port-forwarding', 'permit-port-forwarding'],
  ['agentForwarding', '--no-agent-forwarding', 'permit-agent-forwarding'],
  ['x11Forwarding', '--no-x11-forwarding', 'permit-X11-forwarding'],
  ['userRc', '--no-user-rc', 'permit-user-rc'],
] as const;

/** id_ed25519.pub → id_ed25519-cert.pub, as ssh-keygen -s names it and ssh looks for it. */
export function certificatePathFor(publicKeyPath: string): string {
  const name = basename(publicKeyPath);
  const stem = name.endsWith('.pub') ? name.slice(0, -4) : name;
  return join(dirname(publicKeyPath), `${stem}-cert.pub`);
}

function certTypeOf(options: SshSignOptions): SshCertType {
  if (options.user === options.host || (options.user !== true && options.host !== true)) {
    throw new PkiError('ERR_USAGE', 'say which kind of certificate: exactly one of --user or --host');
  }
  return options.user ? 'user' : 'host';
}

export async function runSshSign(publicKeyFile: string, options: SshSignOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  // Refusals first, in the order an operator fixes them: the command line, the input file, the CA.
  const certType = certTypeOf(options);
  const removed = EXTENSION_FLAGS.filter(([key]) => options[key] === false);
  if (certType === 'host' && removed.length > 0) {
    throw new PkiError('ERR_USAGE', `${removed.map(([, flag]) => flag).join(', ')} applies to user certificates only`);
  }
  const sourceAddress = options.sourceAddress.flatMap((s) => s.split(',')).map((s) => s.trim());
  const criticalOptions: SshCriticalOptions = {
    ...(options.forceCommand !== undefined ? { forceCommand: options.forceCommand } : {}),
    ...(options.sourceAddress.length > 0 ? { sourceAddress } : {}),
  };
  const validAfter = options.notBefore !== undefined ? parseTimeSpec(options.notBefore, now) : undefined;
  const validBefore = options.notAfter !== undefined ? parseTimeSpec(options.notAfter, now) : undefined;

  const inputPath = resolve(publicKeyFile);
  const publicKey = parseSshPublicKey(readText(inputPath));
  const outPath = resolve(options.out ?? certificatePathFor(inputPath));
  if (outPath === inputPath) throw new PkiError('ERR_USAGE', `--out ${options.out} would overwrite the public key itself`);
  if (!options.force && fileExists(outPath)) {
    throw new PkiError('ERR_FILE_EXISTS', `${outPath} already exists`, { hint: 'pass --force to replace it, or --out to write elsewhere' });
  }

  const { signed, warnings } = await signSshCertificate(
    openHome(globals),
    {
      publicKey,
      certType,
      principals: options.principal,
      anyPrincipal: options.anyPrincipal,
      keyId: options.keyId,
      validAfter,
      validBefore,
      criticalOptions,
      omitExtensions: removed.map(([, , extension]) => extension),
      certificatePath: outPath,
      overwrite: options.force === true,
    },
    { now, passphrase: (check) => readExistingPassphrase(options, `SSH ${certType} CA key`, check) },
  );
  for (const message of warnings) warn(message);
  emit(globals, signed, (r) =>
    [
      `Signed ${r.certType} certificate ${r.certificate}`,
      `  key id      ${r.keyId}`,
      `  serial      ${r.serial}`,
      `  principals  ${r.principals.length ? r.principals.join(', ') : '(any)'}`,
      `  valid       ${r.validAfter} → ${r.validBefore}`,
      ...Object.entries(r.criticalOptions).map(([k, v]) => `  ${k.padEnd(11)} ${v}`),
      ...(r.certType === 'user' ? [`  extensions  ${r.extensions.join(', ') || '(none)'}`] : []),
    ].join('\n'),
  );
}
