/**
 * One certificate as path validation sees it: parsed once, and everything derived from it (formatted
 * names, key identifiers, the public key, decoded extensions) computed at most once, on first use — a
 * system bundle of 140 roots costs one parse each, and only the certificates of a candidate path pay for
 * the rest.
 */
import type { KeyObject } from 'node:crypto';
import {
  authorityKeyIdentifierOf,
  findExtension,
  parseCertificate,
  subjectKeyIdentifierOf,
  type CertificateFields,
} from '../x509/certificate-fields.js';
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

export class PathCertificate {
  readonly fields: CertificateFields;
  /** The DER as a string: identity of a certificate (the same bytes given twice are one certificate). */
  readonly identity: string;
  /** Issuer and subject DER as strings, for byte-equal name matching. */
  readonly issuerKey: string;
  readonly subjectKey: string;
  /** A trust anchor: byte-equal to a certificate in --roots. */
  isAnchor: boolean;
  /** Position among the inputs (leaf 0, then roots, then untrusted): the tie-break that keeps results deterministic. */
  readonly order: number;

  readonly subject = memo(() => nameText(this.fields.subjectDer));
  readonly issuer = memo(() => nameText(this.fields.issuerDer));
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

  constructor(fields: CertificateFields, order: number, isAnchor: boolean) {
    this.fields = fields;
    this.identity = bytesKey(fields.der);
    this.issuerKey = bytesKey(fields.issuerDer);
    this.subjectKey = bytesKey(fields.subjectDer);
    this.order = order;
    this.isAnchor = isAnchor;
  }

  /** Self-issued (RFC 5280 §6.1): issuer and subject are the same name. Says nothing about the key. */
  get selfIssued(): boolean {
    return this.issuerKey === this.subjectKey;
  }

  /** Parses DER into a PathCertificate, or returns the reason it cannot be read. */
  static read(der: Uint8Array, order: number, isAnchor: boolean): PathCertificate | Error {
    try {
      return new PathCertificate(parseCertificate(der), order, isAnchor);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return new Error(why.startsWith('not a valid X.509 certificate') ? why : `not a valid X.509 certificate: ${why}`);
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
