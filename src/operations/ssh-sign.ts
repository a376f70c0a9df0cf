/**
 * SSH certificate issuance: a short-lived OpenSSH user or host certificate for a public key, signed by the
 * SSH CA of that type, written to `certificatePath` and recorded in the inventory (so it can be revoked by
 * serial). The certificate's fields are the shape `pki inspect` reports too (core/ssh/certificate-fields.ts).
 */
import { randomBytes } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import {
  computeSshValidity,
  issueSshCertificate,
  sshCertificateFields,
  SSH_CERTIFICATE_PROFILES,
  type SshCertType,
  type SshCertificateFields,
  type SshCriticalOptions,
  type SshPublicKey,
} from '../core/ssh/index.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { FileMode, type CaHome, type PassphraseSource } from '../store/ca-home.js';
import type { Inventory, NewCertificateRecord } from '../store/inventory/index.js';
import { decodeSshRecord, sshCertificateRecord } from '../store/inventory/ssh-record.js';
import { openSshInventory, SshCaFiles } from '../store/ssh-ca.js';
import { removeIfPresent } from '../store/fs/paths.js';
import { compactTimestamp } from '../core/time.js';

export interface SshSignRequest {
  /** The key being certified. */
  readonly publicKey: SshPublicKey;
  readonly certType: SshCertType;
  readonly principals: readonly string[];
  /** Issue without principals: valid for every account or host name the CA is trusted for. */
  readonly anyPrincipal?: boolean | undefined;
  /** Default `<first principal or "any">@<compact time>`. */
  readonly keyId?: string | undefined;
  /** Defaults from the certificate type's profile (core/ssh/profiles.ts). */
  readonly validAfter?: Date | undefined;
  readonly validBefore?: Date | undefined;
  readonly criticalOptions: SshCriticalOptions;
  /** Names of the profile's extensions to leave out (user certificates: permit-pty, …). */
  readonly omitExtensions: readonly string[];
  /** Where the certificate line is written (0644). */
  readonly certificatePath: string;
  /** Replace an existing file at certificatePath. */
  readonly overwrite: boolean;
}

export interface SshSignContext {
  readonly now: Date;
  /** Asked only when the CA key is encrypted. */
  readonly passphrase: PassphraseSource;
}

/** What was issued: `ssh sign`'s --json result. */
export interface SshSignedCertificate extends SshCertificateFields {
  readonly certificate: string;
  readonly publicKeyFingerprint: string;
  readonly signingCaFingerprint: string;
}

export interface SshSignResult {
  readonly signed: SshSignedCertificate;
  /** The certificate line as written (without the newline). */
  readonly line: string;
  /** For stderr, in this order (e.g. a certificate that expired already). */
  readonly warnings: readonly string[];
}

/** A random serial in 1 … 2^64−1: 0 cannot be revoked by serial in a KRL. */
function randomSshSerial(): bigint {
  for (;;) {
    const serial = randomBytes(8).readBigUInt64BE();
    if (serial !== 0n) return serial;
  }
}

/** Signs and records the certificate; the file is written only once every refusal has passed. */
export async function signSshCertificate(home: CaHome, request: SshSignRequest, context: SshSignContext): Promise<SshSignResult> {
  const { now } = context;
  const profile = SSH_CERTIFICATE_PROFILES[request.certType];
  const defaults = computeSshValidity(profile, now);
  const keyId = request.keyId ?? `${request.principals[0] ?? 'any'}@${compactTimestamp(now)}`;
  const caKey = await new SshCaFiles(home).loadCaKey(request.certType, context.passphrase);
  const issued = issueSshCertificate({
    publicKey: request.publicKey,
    caPrivateKey: caKey,
    certType: request.certType,
    serial: randomSshSerial(),
    keyId,
    principals: [...request.principals],
    anyPrincipal: request.anyPrincipal === true,
    validAfter: request.validAfter ?? defaults.validAfter,
    validBefore: request.validBefore ?? defaults.validBefore,
    criticalOptions: request.criticalOptions,
    extensions: profile.extensions.filter((name) => !request.omitExtensions.includes(name)),
    nonce: randomBytes(32),
  });

  const inventory = await openSshInventory(home, false);
  try {
    const record = sshCertificateRecord(issued.line, request.certificatePath);
    refuseRevokedKeyId(inventory, record, now);
    writeFileAtomic(request.certificatePath, `${issued.line}\n`, { mode: FileMode.public, overwrite: request.overwrite });
    recordOrTakeBack(inventory, record, request.certificatePath);
  } finally {
    inventory.close();
  }

  const cert = decodeSshRecord({ pem: issued.line });
  const warnings = cert.validBefore !== 'forever' && cert.validBefore.getTime() <= now.getTime() ? [`the certificate expired already (valid before ${cert.validBefore.toISOString()})`] : [];
  return {
    signed: {
      certificate: request.certificatePath,
      ...sshCertificateFields(cert),
      publicKeyFingerprint: cert.publicKeyFingerprint,
      signingCaFingerprint: cert.signatureKeyFingerprint,
    },
    line: issued.line,
    warnings,
  };
}

/** A key id the KRL revokes outright would make the new certificate dead on arrival. */
function refuseRevokedKeyId(inventory: Inventory, record: NewCertificateRecord, now: Date): void {
  const sameId = (r: { keyId?: string | null; issuer: string }) => r.keyId === record.keyId && r.issuer === record.issuer;
  const revoked = inventory.listRevokedUnexpired('ssh', now).filter(sameId);
  if (revoked.length > 0 && !inventory.list({ kind: 'ssh', status: 'valid' }).some(sameId)) {
    throw new PkiError('ERR_SSH_POLICY', `key id "${record.keyId}" is revoked (certificate serial ${BigInt(`0x${revoked[0]!.serial}`).toString(10)}); sshd would refuse this certificate`, {
      hint: 'choose another --key-id',
    });
  }
}

/** An unrecorded certificate could not be revoked by serial: when recording fails, the file is taken back. */
function recordOrTakeBack(inventory: Inventory, record: NewCertificateRecord, path: string): void {
  try {
    inventory.recordIssued([record]);
  } catch (e) {
    removeIfPresent(path);
    throw e;
  }
}
