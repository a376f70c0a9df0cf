/**
 * One certificate as path validation sees it. A candidate issuer is read in two steps: its issuer and
 * subject names at once (enough to index it), the full parse when it first matches a name — so a system
 * bundle of 140 roots costs 140 name reads, not 140 parses. Everything derived (formatted names, key
 * identifiers, the public key, decoded extensions) is computed at most once, on first use.
 */
import type { KeyObject } from 'node:crypto';
import {
  authorityKeyIdentifierOf,
  findExtension,
  parseCertificate,
  subjectKeyIdentifierOf,
  type CertificateFields,
} from '../x509/certificate-fields.js';
import { childrenOf, DerTag, encodingOf, expectTag, readRootTlv } from '../der/reader.js';
import { decodeBasicConstraints, decodeExtKeyUsage, decodeKeyUsage } from '../x509/extension-decoders.js';
import { ExtensionOid } from '../x509/extensions.js';
import { formatDistinguishedName } from '../x509/name-decoder.js';
import type { KeyUsage } from '../x509/usages.js';
import { describeSpki, publicKeyFromSpki } from './spki-key.js';

/** Where a certificate came from: the one to validate, --untrusted (or the rest of the leaf's file), --roots. */
export type CertificateSource = 'leaf' | 'untrusted' | 'root';

const bytesKey = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function memo<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}

const notACertificate = (e: unknown): Error => {
  const why = e instanceof Error ? e.message : String(e);
  return new Error(why.startsWith('not a valid X.509 certificate') ? why : `not a valid X.509 certificate: ${why}`);
};

/** The issuer and subject Names of a certificate, read without parsing the rest (a bundle of roots costs ~0.5 µs each). */
function namesOf(der: Uint8Array): { issuerDer: Uint8Array; subjectDer: Uint8Array } {
  const [tbsEl] = childrenOf(der, expectTag(readRootTlv(der), DerTag.sequence, 'Certificate'));
  if (!tbsEl) throw new Error('no tbsCertificate');
  const tbs = childrenOf(der, expectTag(tbsEl, DerTag.sequence, 'tbsCertificate'));
  const i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = tbs[i + 2];
  const subject = tbs[i + 4];
  if (!issuer || !subject) throw new Error('tbsCertificate is missing fields');
  return { issuerDer: encodingOf(der, expectTag(issuer, DerTag.sequence, 'issuer')), subjectDer: encodingOf(der, expectTag(subject, DerTag.sequence, 'subject')) };
}

export class PathCertificate {
  readonly der: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** The DER as a string: identity of a certificate (the same bytes given twice are one certificate). */
  readonly identity: string;
  /** Issuer and subject DER as strings, for byte-equal name matching. */
  readonly issuerKey: string;
  readonly subjectKey: string;
  /** A trust anchor: byte-equal to a certificate in --roots. */
  isAnchor: boolean;
  /** Position among the inputs (leaf 0, then roots, then untrusted): the tie-break that keeps results deterministic. */
  readonly order: number;
  /** Where it came from, for notes: `certificate 3 of the roots`. */
  readonly label: string;

  private readonly parsed: () => CertificateFields | Error;
  readonly subject = memo(() => nameText(this.subjectDer));
  readonly issuer = memo(() => nameText(this.issuerDer));
  readonly subjectKeyId = memo(() => optionalHex(() => subjectKeyIdentifierOf(this.fields)));
  readonly authorityKeyId = memo(() => optionalHex(() => authorityKeyIdentifierOf(this.fields)));
  /** The public key (imported only for certificates that sign something in a path), or why pki cannot read it. */
  readonly publicKey = memo((): KeyObject | Error => {
    try {
      return publicKeyFromSpki(this.fields.spkiDer);
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  });
  /** `EC P-256`, `RSA 2048`… read from the DER, no KeyObject needed; throws on a malformed key. */
  readonly keyDescription = memo(() => describeSpki(this.fields.spkiDer));
  readonly basicConstraints = memo(() => decodeBasicConstraints(this.fields));
  /** null when the certificate has no keyUsage extension (every usage allowed). */
  readonly keyUsage = memo((): KeyUsage[] | null => (findExtension(this.fields, ExtensionOid.keyUsage) ? decodeKeyUsage(this.fields) : null));
  /** null when the certificate has no extKeyUsage extension (every purpose allowed, RFC 5280 §4.2.1.12). */
  readonly extKeyUsage = memo((): string[] | null => (findExtension(this.fields, ExtensionOid.extKeyUsage) ? decodeExtKeyUsage(this.fields) : null));

  private constructor(der: Uint8Array, names: { issuerDer: Uint8Array; subjectDer: Uint8Array }, order: number, isAnchor: boolean, label: string, fields?: CertificateFields) {
    this.der = der;
    this.issuerDer = names.issuerDer;
    this.subjectDer = names.subjectDer;
    this.identity = bytesKey(der);
    this.issuerKey = bytesKey(names.issuerDer);
    this.subjectKey = bytesKey(names.subjectDer);
    this.order = order;
    this.isAnchor = isAnchor;
    this.label = label;
    this.parsed = memo(() => {
      if (fields) return fields;
      try {
        return parseCertificate(der);
      } catch (e) {
        return notACertificate(e);
      }
    });
  }

  /** The parsed certificate; only for certificates that `readable()` (the leaf always is). */
  get fields(): CertificateFields {
    const f = this.parsed();
    if (f instanceof Error) throw f;
    return f;
  }

  /** Parses fully on first call: false (and `unreadableReason`) for a certificate parseCertificate refuses. */
  readable(): boolean {
    return !(this.parsed() instanceof Error);
  }

  unreadableReason(): string | undefined {
    const f = this.parsed();
    return f instanceof Error ? f.message : undefined;
  }

  /** Self-issued (RFC 5280 §6.1): issuer and subject are the same name. Says nothing about the key. */
  get selfIssued(): boolean {
    return this.issuerKey === this.subjectKey;
  }

  /** The leaf: parsed at once, or the reason it cannot be read. */
  static parse(der: Uint8Array, order: number, isAnchor: boolean, label: string): PathCertificate | Error {
    try {
      const fields = parseCertificate(der);
      return new PathCertificate(der, fields, order, isAnchor, label, fields);
    } catch (e) {
      return notACertificate(e);
    }
  }

  /** A candidate issuer: only its names are read now, the rest when it becomes a candidate. */
  static candidate(der: Uint8Array, order: number, isAnchor: boolean, label: string): PathCertificate | Error {
    try {
      return new PathCertificate(der, namesOf(der), order, isAnchor, label);
    } catch (e) {
      return notACertificate(e);
    }
  }
}

/** RFC 4514 text of a Name; one pki cannot decode prints as `#` and its DER in hex (RFC 4514 §2.4's form for values). */
function nameText(der: Uint8Array): string {
  try {
    return formatDistinguishedName(der);
  } catch {
    return `#${Buffer.from(der).toString('hex')}`;
  }
}

/** A key identifier as hex, undefined when absent or unreadable (a malformed AKI/SKI does not stop path building). */
function optionalHex(read: () => Uint8Array | undefined): string | undefined {
  try {
    const bytes = read();
    return bytes ? Buffer.from(bytes).toString('hex') : undefined;
  } catch {
    return undefined;
  }
}
