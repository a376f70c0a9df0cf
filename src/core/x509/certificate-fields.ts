/**
 * Certificate DER → its fields, with the bounded DER reader. Shared by issuance (the issuer's subject is
 * copied byte for byte into every certificate it signs), renewal and inspect.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  childrenOf,
  contentOf,
  DerTag,
  encodingOf,
  expectTag,
  readBitString,
  readBoolean,
  readIntegerHex,
  readOctetString,
  readOid,
  readRootTlv,
  readTime,
  readTlv,
  type DerElement,
} from '../der/reader.js';
import { PkiError } from '../errors.js';
import { ExtensionOid } from './extensions.js';

export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  readonly value: Uint8Array;
}

export interface CertificateFields {
  readonly der: Uint8Array;
  readonly tbsDer: Uint8Array;
  readonly version: number;
  /** Upper-case hex, as the INTEGER's content octets (a leading 00 sign octet dropped). */
  readonly serial: string;
  readonly signatureAlgorithmOid: string;
  /** DER of the outer signatureAlgorithm's parameters element (RSASSA-PSS-params, NULL…); undefined when absent. */
  readonly signatureAlgorithmParameters?: Uint8Array;
  /** DER of the outer signatureAlgorithm and of the tbsCertificate's signature field, which RFC 5280 §4.1.1.2 requires equal. */
  readonly signatureAlgorithmDer?: Uint8Array;
  readonly tbsSignatureAlgorithmDer?: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Uint8Array;
  readonly extensions: readonly CertificateExtension[];
  readonly signature: Uint8Array;
}

function malformedCertificate(message: string, cause?: unknown): PkiError {
  return new PkiError('ERR_MALFORMED_CERTIFICATE', `not a valid X.509 certificate: ${message}`, { cause });
}

/** Parses the Extensions SEQUENCE shared by certificates and CSR extension requests. */
export function parseExtensions(der: Uint8Array, extensionsSeq: DerElement): CertificateExtension[] {
  const out: CertificateExtension[] = [];
  const seen = new Set<string>();
  for (const ext of childrenOf(der, expectTag(extensionsSeq, DerTag.sequence, 'Extensions'))) {
    const parts = childrenOf(der, expectTag(ext, DerTag.sequence, 'Extension'));
    if (parts.length < 2 || parts.length > 3) throw malformedCertificate('an extension has the wrong number of fields');
    const oid = readOid(der, expectTag(parts[0]!, DerTag.objectIdentifier, 'extnID'));
    const critical = parts.length === 3 ? readBoolean(der, expectTag(parts[1]!, DerTag.boolean, 'critical')) : false;
    const value = readOctetString(der, expectTag(parts[parts.length - 1]!, DerTag.octetString, 'extnValue'));
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) throw malformedCertificate(`extension ${oid} appears twice`);
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

/** Parses a DER certificate. Throws ERR_MALFORMED_CERTIFICATE (or ERR_MALFORMED_DER) on any deviation. */
export function parseCertificate(der: Uint8Array): CertificateFields {
  const root = expectTag(readRootTlv(der), DerTag.sequence, 'Certificate');
  const top = childrenOf(der, root);
  if (top.length !== 3) throw malformedCertificate('expected tbsCertificate, signatureAlgorithm, signatureValue');
  const [tbsEl, sigAlgEl, sigEl] = top as [DerElement, DerElement, DerElement];
  const tbs = childrenOf(der, expectTag(tbsEl, DerTag.sequence, 'tbsCertificate'));
  let i = 0;
  let version = 1;
  if (tbs[0]?.tag === 0xa0) {
    const v = readTlv(der, tbs[0].start + tbs[0].headerLength, tbs[0].end);
    version = Number.parseInt(readIntegerHex(der, expectTag(v, DerTag.integer, 'version')), 16) + 1;
    i = 1;
  }
  if (tbs.length < i + 6) throw malformedCertificate('tbsCertificate is missing fields');
  const serial = readIntegerHex(der, expectTag(tbs[i]!, DerTag.integer, 'serialNumber'));
  const issuerEl = expectTag(tbs[i + 2]!, DerTag.sequence, 'issuer');
  const validity = childrenOf(der, expectTag(tbs[i + 3]!, DerTag.sequence, 'validity'));
  if (validity.length !== 2) throw malformedCertificate('validity must hold notBefore and notAfter');
  const subjectEl = expectTag(tbs[i + 4]!, DerTag.sequence, 'subject');
  const spkiEl = expectTag(tbs[i + 5]!, DerTag.sequence, 'subjectPublicKeyInfo');
  let extensions: CertificateExtension[] = [];
  for (const el of tbs.slice(i + 6)) {
    if (el.tag === 0xa3) {
      if (version !== 3) throw malformedCertificate('extensions in a certificate that is not version 3');
      extensions = parseExtensions(der, readTlv(der, el.start + el.headerLength, el.end));
    } else if (el.tag !== 0x81 && el.tag !== 0x82) {
      throw malformedCertificate(`unexpected field with tag 0x${el.tag.toString(16)} in tbsCertificate`);
    }
  }
  const sigAlgChildren = childrenOf(der, expectTag(sigAlgEl, DerTag.sequence, 'signatureAlgorithm'));
  if (sigAlgChildren.length === 0) throw malformedCertificate('empty signatureAlgorithm');
  return {
    der,
    tbsDer: encodingOf(der, tbsEl),
    version,
    serial,
    signatureAlgorithmOid: readOid(der, expectTag(sigAlgChildren[0]!, DerTag.objectIdentifier, 'algorithm')),
    ...(sigAlgChildren[1] ? { signatureAlgorithmParameters: encodingOf(der, sigAlgChildren[1]) } : {}),
    signatureAlgorithmDer: encodingOf(der, sigAlgEl),
    tbsSignatureAlgorithmDer: encodingOf(der, tbs[i + 1]!),
    issuerDer: encodingOf(der, issuerEl),
    subjectDer: encodingOf(der, subjectEl),
    notBefore: readTime(der, validity[0]!),
    notAfter: readTime(der, validity[1]!),
    spkiDer: encodingOf(der, spkiEl),
    extensions,
    signature: readBitString(der, expectTag(sigEl, DerTag.bitString, 'signatureValue')).bytes,
  };
}

/** The certificate's public key as a Node KeyObject. */
export function certificatePublicKey(fields: Pick<CertificateFields, 'spkiDer'>): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(fields.spkiDer), format: 'der', type: 'spki' });
  } catch (e) {
    throw new PkiError('ERR_UNSUPPORTED_KEY', 'the certificate holds a public key pki cannot read', { cause: e });
  }
}

export function findExtension(fields: Pick<CertificateFields, 'extensions'>, oid: string): CertificateExtension | undefined {
  return fields.extensions.find((e) => e.oid === oid);
}

/** SubjectKeyIdentifier bytes, if present. */
export function subjectKeyIdentifierOf(fields: Pick<CertificateFields, 'extensions'>): Uint8Array | undefined {
  const ext = findExtension(fields, ExtensionOid.subjectKeyIdentifier);
  return ext ? readOctetString(ext.value, expectTag(readRootTlv(ext.value), DerTag.octetString, 'SubjectKeyIdentifier')) : undefined;
}

/** AuthorityKeyIdentifier keyIdentifier bytes, if present. */
export function authorityKeyIdentifierOf(fields: Pick<CertificateFields, 'extensions'>): Uint8Array | undefined {
  const ext = findExtension(fields, ExtensionOid.authorityKeyIdentifier);
  if (!ext) return undefined;
  const seq = expectTag(readRootTlv(ext.value), DerTag.sequence, 'AuthorityKeyIdentifier');
  const keyId = childrenOf(ext.value, seq).find((c) => c.tag === 0x80);
  return keyId ? contentOf(ext.value, keyId) : undefined;
}
