/**
 * OpenSSH Key Revocation Lists (PROTOCOL.krl), the file sshd's `RevokedKeys` and `ssh-keygen -Q` read.
 * pki revokes certificates only, by serial (KRL_SECTION_CERT_SERIAL_LIST) and by key id
 * (KRL_SECTION_CERT_KEY_ID), one KRL_SECTION_CERTIFICATES section per CA. KRLs are unsigned: OpenSSH ≥ 9.4
 * refuses KRL signature sections, and the file is distributed by the same channel as sshd_config.
 */
import { PkiError } from '../errors.js';
import { decodeSshPublicKeyBlob } from './public-key.js';
import { encodeSshString, encodeSshUint32, encodeSshUint64, UINT64_MAX } from './wire.js';

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
const KRL_FORMAT_VERSION = 1;
const KRL_SECTION_CERTIFICATES = 1;
const KRL_SECTION_CERT_SERIAL_LIST = 0x20;
const KRL_SECTION_CERT_KEY_ID = 0x23;

export interface KrlCaRevocations {
  /** The CA's public key wire blob (SshPublicKey.blob, or encodeSshPublicKeyBlob(caKey)). */
  readonly caPublicKey: Uint8Array;
  readonly serialsRevoked?: readonly bigint[];
  readonly keyIdsRevoked?: readonly string[];
}

export interface BuildKrlOptions {
  /** Increases each time the KRL changes, so hosts can tell a newer list from an older one. */
  readonly version: bigint;
  readonly generatedAt: Date;
  readonly comment?: string;
  readonly certificates: readonly KrlCaRevocations[];
}

/** True when the bytes start with the KRL magic (for routing in inspect). */
export function looksLikeKrl(data: Uint8Array): boolean {
  return data.length >= KRL_MAGIC.length && Buffer.compare(data.subarray(0, KRL_MAGIC.length), KRL_MAGIC) === 0;
}

/**
 * Builds a KRL. Serials and key ids are sorted and de-duplicated (so the output is deterministic), and
 * revocations for the same CA key are merged into one section. Serial 0 is refused: OpenSSH's KRL code
 * rejects it as "unnumbered".
 */
export function buildKrl(options: BuildKrlOptions): Buffer {
  if (options.version < 0n || options.version > UINT64_MAX) {
    throw new PkiError('ERR_INVALID_OPTION', `KRL version must fit in 64 bits, not ${options.version}`);
  }
  const generated = options.generatedAt.getTime();
  if (Number.isNaN(generated) || generated < 0) throw new PkiError('ERR_INVALID_TIME', 'KRL generatedAt is not a valid time');

  const byCa = new Map<string, { caPublicKey: Uint8Array; serials: Set<bigint>; keyIds: Set<string> }>();
  for (const entry of options.certificates) {
    decodeSshPublicKeyBlob(entry.caPublicKey); // refuse a blob sshd could not parse: it would reject the whole KRL
    const hex = Buffer.from(entry.caPublicKey).toString('hex');
    const merged = byCa.get(hex) ?? { caPublicKey: entry.caPublicKey, serials: new Set(), keyIds: new Set() };
    for (const serial of entry.serialsRevoked ?? []) {
      if (serial <= 0n || serial > UINT64_MAX) {
        throw new PkiError('ERR_INVALID_SERIAL', `a KRL can revoke serials 1 … 2^64-1, not ${serial}`);
      }
      merged.serials.add(serial);
    }
    for (const keyId of entry.keyIdsRevoked ?? []) {
      if (keyId === '') throw new PkiError('ERR_INVALID_OPTION', 'an empty key id cannot be revoked');
      merged.keyIds.add(keyId);
    }
    byCa.set(hex, merged);
  }

  const sections: Buffer[] = [];
  for (const { caPublicKey, serials, keyIds } of byCa.values()) {
    const subsections: Buffer[] = [];
    if (serials.size > 0) {
      const sorted = [...serials].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      subsections.push(section(KRL_SECTION_CERT_SERIAL_LIST, Buffer.concat(sorted.map(encodeSshUint64))));
    }
    if (keyIds.size > 0) {
      const sorted = [...keyIds].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      subsections.push(section(KRL_SECTION_CERT_KEY_ID, Buffer.concat(sorted.map((id) => encodeSshString(id)))));
    }
    if (subsections.length === 0) continue;
    const body = Buffer.concat([encodeSshString(caPublicKey), encodeSshString(''), ...subsections]);
    sections.push(section(KRL_SECTION_CERTIFICATES, body));
  }

  return Buffer.concat([
    KRL_MAGIC,
    encodeSshUint32(KRL_FORMAT_VERSION),
    encodeSshUint64(options.version),
    encodeSshUint64(BigInt(Math.floor(generated / 1000))),
    encodeSshUint64(0n), // flags: none defined
    encodeSshString(''), // reserved
    encodeSshString(options.comment ?? ''),
    ...sections,
  ]);
}

function section(type: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([type]), encodeSshString(data)]);
}
