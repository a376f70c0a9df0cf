/**
 * An OpenSSH KRL (`<dir>/ssh/revoked_keys` from `pki ssh revoke`/`pki ssh krl`, or ssh-keygen -k) → a
 * report of what `ssh-keygen -Q -l` lists: version, generation date, and per CA the revoked serials
 * (decimal, as ssh-keygen -L prints them), serial ranges and key ids, plus keys revoked outright.
 */
import { decodeKrl, fingerprintSshPublicKey } from '../ssh/index.js';
import { SshReader } from '../ssh/wire.js';

export interface SshKrlReport {
  readonly type: 'sshKrl';
  readonly formatVersion: number;
  /** Decimal; goes up with every rewrite. */
  readonly version: string;
  readonly generatedAt: string;
  readonly comment: string;
  readonly certificates: readonly {
    /** null: the section applies to certificates of any CA. */
    readonly ca: { readonly keyType: string; readonly fingerprint: string } | null;
    readonly serials: readonly string[];
    readonly serialRanges: readonly { readonly from: string; readonly to: string }[];
    readonly keyIds: readonly string[];
  }[];
  readonly revokedKeys: readonly { readonly keyType: string; readonly fingerprint: string }[];
  readonly revokedFingerprints: readonly string[];
  readonly signed: boolean;
}

/** Key type and `SHA256:…` of a wire blob, without importing the key (a KRL may name DSA keys). */
function describeBlob(blob: Uint8Array): { keyType: string; fingerprint: string } {
  let keyType = 'unknown';
  try {
    keyType = new SshReader(blob, 'SSH public key').readText('key type');
  } catch {
    // The fingerprint still identifies the key.
  }
  return { keyType, fingerprint: fingerprintSshPublicKey(blob) };
}

export function inspectKrl(data: Uint8Array): SshKrlReport {
  const krl = decodeKrl(data);
  return {
    type: 'sshKrl',
    formatVersion: krl.formatVersion,
    version: krl.version.toString(10),
    generatedAt: krl.generatedAt.toISOString(),
    comment: krl.comment,
    certificates: krl.certificates.map((c) => ({
      ca: c.caPublicKey ? describeBlob(c.caPublicKey) : null,
      serials: c.serials.map((s) => s.toString(10)),
      serialRanges: c.serialRanges.map((r) => ({ from: r.from.toString(10), to: r.to.toString(10) })),
      keyIds: [...c.keyIds],
    })),
    revokedKeys: krl.explicitKeys.map(describeBlob),
    revokedFingerprints: [
      ...krl.sha1Fingerprints.map((f) => `SHA1:${Buffer.from(f).toString('base64').replace(/=+$/, '')}`),
      ...krl.sha256Fingerprints.map((f) => `SHA256:${Buffer.from(f).toString('base64').replace(/=+$/, '')}`),
    ],
    signed: krl.signatureCount > 0,
  };
}

