/**
 * OpenSSH Key Revocation Lists (PROTOCOL.krl), the file sshd's `RevokedKeys` and `ssh-keygen -Q` read.
 * pki revokes certificates only, by serial (KRL_SECTION_CERT_SERIAL_LIST) and by key id
 * (KRL_SECTION_CERT_KEY_ID), one KRL_SECTION_CERTIFICATES section per CA. KRLs are unsigned: OpenSSH ≥ 9.4
 * refuses KRL signature sections, and the file is distributed by the same channel as sshd_config.
 */
import { PkiError } from '../errors.js';
import { decodeSshPublicKeyBlob } from './public-key.js';
import { encodeSshString, encodeSshUint32, encodeSshUint64, SshReader, UINT64_MAX } from './wire.js';

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

const KRL_SECTION_EXPLICIT_KEY = 2;
const KRL_SECTION_FINGERPRINT_SHA1 = 3;
const KRL_SECTION_SIGNATURE = 4;
const KRL_SECTION_FINGERPRINT_SHA256 = 5;
const KRL_SECTION_CERT_SERIAL_RANGE = 0x21;
const KRL_SECTION_CERT_SERIAL_BITMAP = 0x22;
/** A bitmap subsection may name at most this many serials in a report (a 64 MiB file could name 2^29). */
const MAX_BITMAP_SERIALS = 1_000_000;

/** What one KRL_SECTION_CERTIFICATES section revokes, for one CA key (null: any CA). */
export interface DecodedKrlCertificates {
  readonly caPublicKey: Uint8Array | null;
  readonly serials: readonly bigint[];
  readonly serialRanges: readonly { readonly from: bigint; readonly to: bigint }[];
  readonly keyIds: readonly string[];
}

export interface DecodedKrl {
  readonly formatVersion: number;
  readonly version: bigint;
  readonly generatedAt: Date;
  readonly flags: bigint;
  readonly comment: string;
  readonly certificates: readonly DecodedKrlCertificates[];
  /** Plain public keys revoked outright (KRL_SECTION_EXPLICIT_KEY), as wire blobs. */
  readonly explicitKeys: readonly Uint8Array[];
  readonly sha1Fingerprints: readonly Uint8Array[];
  readonly sha256Fingerprints: readonly Uint8Array[];
  /** Signature sections (OpenSSH ≥ 9.4 refuses signed KRLs; reported, not verified). */
  readonly signatureCount: number;
}

/**
 * Reads a KRL (PROTOCOL.krl) as `ssh-keygen -Q -l` does: pki's own and ssh-keygen's (serial ranges and
 * bitmaps included). Every length is bounds-checked by SshReader; an unknown section is malformed, as
 * it is for sshd, which refuses the whole file.
 */
export function decodeKrl(data: Uint8Array): DecodedKrl {
  if (!looksLikeKrl(data)) throw new PkiError('ERR_MALFORMED_SSH', 'not an OpenSSH KRL (no SSHKRL magic)');
  const r = new SshReader(data.subarray(KRL_MAGIC.length), 'OpenSSH KRL');
  const formatVersion = r.readUint32('format version');
  if (formatVersion !== KRL_FORMAT_VERSION) throw new PkiError('ERR_MALFORMED_SSH', `unsupported KRL format version ${formatVersion}`);
  const version = r.readUint64('KRL version');
  const generatedSeconds = r.readUint64('generated date');
  const flags = r.readUint64('flags');
  r.readString('reserved');
  const comment = r.readText('comment');
  const certificates: DecodedKrlCertificates[] = [];
  const explicitKeys: Uint8Array[] = [];
  const sha1Fingerprints: Uint8Array[] = [];
  const sha256Fingerprints: Uint8Array[] = [];
  let signatureCount = 0;
  while (r.remaining > 0) {
    const type = r.readByte('section type');
    const body = new SshReader(r.readString('section'), 'OpenSSH KRL section');
    switch (type) {
      case KRL_SECTION_CERTIFICATES:
        certificates.push(decodeCertificatesSection(body));
        break;
      case KRL_SECTION_EXPLICIT_KEY:
        while (body.remaining > 0) explicitKeys.push(body.readString('revoked key'));
        break;
      case KRL_SECTION_FINGERPRINT_SHA1:
        while (body.remaining > 0) sha1Fingerprints.push(body.readString('SHA-1 fingerprint'));
        break;
      case KRL_SECTION_FINGERPRINT_SHA256:
        while (body.remaining > 0) sha256Fingerprints.push(body.readString('SHA-256 fingerprint'));
        break;
      case KRL_SECTION_SIGNATURE:
        signatureCount++;
        break;
      default:
        throw new PkiError('ERR_MALFORMED_SSH', `malformed OpenSSH KRL: unknown section type ${type}`);
    }
  }
  if (generatedSeconds > BigInt(Number.MAX_SAFE_INTEGER) / 1000n) throw new PkiError('ERR_MALFORMED_SSH', 'malformed OpenSSH KRL: generated date out of range');
  return {
    formatVersion,
    version,
    generatedAt: new Date(Number(generatedSeconds) * 1000),
    flags,
    comment,
    certificates,
    explicitKeys,
    sha1Fingerprints,
    sha256Fingerprints,
    signatureCount,
  };
}

function decodeCertificatesSection(body: SshReader): DecodedKrlCertificates {
  const caBlob = body.readString('CA key');
  body.readString('reserved');
  const serials: bigint[] = [];
  const serialRanges: { from: bigint; to: bigint }[] = [];
  const keyIds: string[] = [];
  while (body.remaining > 0) {
    const type = body.readByte('subsection type');
    const sub = new SshReader(body.readString('subsection'), 'OpenSSH KRL certificate subsection');
    switch (type) {
      case KRL_SECTION_CERT_SERIAL_LIST:
        while (sub.remaining > 0) serials.push(sub.readUint64('serial'));
        break;
      case KRL_SECTION_CERT_SERIAL_RANGE:
        while (sub.remaining > 0) serialRanges.push({ from: sub.readUint64('range start'), to: sub.readUint64('range end') });
        break;
      case KRL_SECTION_CERT_SERIAL_BITMAP:
        while (sub.remaining > 0) serials.push(...bitmapSerials(sub.readUint64('bitmap start'), sub.readMpint('bitmap')));
        break;
      case KRL_SECTION_CERT_KEY_ID:
        while (sub.remaining > 0) keyIds.push(sub.readText('key id'));
        break;
      default:
        throw new PkiError('ERR_MALFORMED_SSH', `malformed OpenSSH KRL: unknown certificate subsection type ${type}`);
    }
  }
  return { caPublicKey: caBlob.length === 0 ? null : caBlob, serials, serialRanges, keyIds };
}

/** Bit i of the (big-endian) bitmap set → serial start + i. */
function bitmapSerials(start: bigint, bitmap: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let byte = bitmap.length - 1, bit = 0; byte >= 0; byte--) {
    if (bitmap[byte] === 0) {
      bit += 8; // a long run of zero bytes costs one step each, not eight
      continue;
    }
    for (let i = 0; i < 8; i++, bit++) {
      if ((bitmap[byte]! & (1 << i)) === 0) continue;
      if (out.length >= MAX_BITMAP_SERIALS) throw new PkiError('ERR_MALFORMED_SSH', `malformed OpenSSH KRL: a serial bitmap names more than ${MAX_BITMAP_SERIALS} serials`);
      out.push(start + BigInt(bit));
    }
  }
  return out;
}
