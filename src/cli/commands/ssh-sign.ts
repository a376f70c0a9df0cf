/**
 * `pki ssh sign <public-key-file>`: a short-lived OpenSSH user or host certificate for a public key,
 * written as `<key>-cert.pub` next to it (where ssh and sshd look for it) and recorded in the inventory.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import {
  computeSshValidity,
  issueSshCertificate,
  parseSshPublicKey,
  SSH_CERTIFICATE_PROFILES,
  type SshCertType,
  type SshCriticalOptions,
} from '../../core/ssh/index.js';
import { parseTimeSpec } from '../../core/x509/validity.js';
import { writeFileAtomic } from '../../store/fs/atomic-write.js';
import { fileExists, FileMode, readText } from '../../store/ca-home.js';
import { decodeSshRecord, sshCertificateRecord } from '../../store/inventory/ssh-record.js';
import { openSshInventory, SshCaFiles } from '../../store/ssh-ca.js';
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

/** A random serial in 1 … 2^64−1: 0 cannot be revoked by serial in a KRL. */
function randomSshSerial(): bigint {
  for (;;) {
    const serial = randomBytes(8).readBigUInt64BE();
    if (serial !== 0n) return serial;
  }
}

/** 20260101T120000Z: sortable and free of characters sshd logs would escape. */
function compactTime(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
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
  const profile = SSH_CERTIFICATE_PROFILES[certType];
  const removed = EXTENSION_FLAGS.filter(([key]) => options[key] === false);
  if (certType === 'host' && removed.length > 0) {
    throw new PkiError('ERR_USAGE', `${removed.map(([, flag]) => flag).join(', ')} applies to user certificates only`);
  }
  const extensions = profile.extensions.filter((name) => !removed.some(([, , ext]) => ext === name));
  const sourceAddress = options.sourceAddress.flatMap((s) => s.split(',')).map((s) => s.trim());
  const criticalOptions: SshCriticalOptions = {
    ...(options.forceCommand !== undefined ? { forceCommand: options.forceCommand } : {}),
    ...(options.sourceAddress.length > 0 ? { sourceAddress } : {}),
  };
  const defaults = computeSshValidity(profile, now);
  const validAfter = options.notBefore !== undefined ? parseTimeSpec(options.notBefore, now) : defaults.validAfter;
  const validBefore = options.notAfter !== undefined ? parseTimeSpec(options.notAfter, now) : defaults.validBefore;
  const principals = [...options.principal];
  const keyId = options.keyId ?? `${principals[0] ?? 'any'}@${compactTime(now)}`;

  const inputPath = resolve(publicKeyFile);
  const publicKey = parseSshPublicKey(readText(inputPath));
  const outPath = resolve(options.out ?? certificatePathFor(inputPath));
  if (outPath === inputPath) throw new PkiError('ERR_USAGE', `--out ${options.out} would overwrite the public key itself`);
  if (!options.force && fileExists(outPath)) {
    throw new PkiError('ERR_FILE_EXISTS', `${outPath} already exists`, { hint: 'pass --force to replace it, or --out to write elsewhere' });
  }

  const home = openHome(globals);
  const files = new SshCaFiles(home);
  const caKey = await files.loadCaKey(certType, (check) => readExistingPassphrase(options, `SSH ${certType} CA key`, check));
  const serial = randomSshSerial();
  const issued = issueSshCertificate({
    publicKey,
    caPrivateKey: caKey,
    certType,
    serial,
    keyId,
    principals,
    anyPrincipal: options.anyPrincipal === true,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    nonce: randomBytes(32),
  });

  const inventory = await openSshInventory(home, false);
  try {
    const record = sshCertificateRecord(issued.line, outPath);
    // A key id the KRL revokes outright would make the new certificate dead on arrival.
    const revoked = inventory.listRevokedUnexpired('ssh', now).filter((r) => r.keyId === keyId && r.issuer === record.issuer);
    if (revoked.length > 0 && !inventory.list({ kind: 'ssh', status: 'valid' }).some((r) => r.keyId === keyId && r.issuer === record.issuer)) {
      throw new PkiError('ERR_SSH_POLICY', `key id "${keyId}" is revoked (certificate serial ${BigInt(`0x${revoked[0]!.serial}`).toString(10)}); sshd would refuse this certificate`, {
        hint: 'choose another --key-id',
      });
    }
    writeFileAtomic(outPath, `${issued.line}\n`, { mode: FileMode.public, overwrite: options.force === true });
    try {
      inventory.recordIssued([record]);
    } catch (e) {
      // An unrecorded certificate could not be revoked by serial: take it back.
      try {
        unlinkSync(outPath);
      } catch {
        /* already gone */
      }
      throw e;
    }
  } finally {
    inventory.close();
  }

  const cert = decodeSshRecord({ pem: issued.line });
  if (cert.validBefore !== 'forever' && cert.validBefore.getTime() <= now.getTime()) {
    warn(`the certificate expired already (valid before ${cert.validBefore.toISOString()})`);
  }
  const result = {
    certificate: outPath,
    certType,
    keyId: cert.keyId,
    serial: cert.serial,
    principals: cert.principals,
    validAfter: cert.validAfter.toISOString(),
    validBefore: cert.validBefore === 'forever' ? 'forever' : cert.validBefore.toISOString(),
    criticalOptions: cert.criticalOptions,
    extensions: cert.extensions,
    publicKeyFingerprint: cert.publicKeyFingerprint,
    signingCaFingerprint: cert.signatureKeyFingerprint,
  };
  emit(globals, result, (r) =>
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
