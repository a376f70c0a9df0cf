/**
 * PKCS#10 certification requests (RFC 2986): parsing with the bounded DER reader, self-signature
 * verification, and building (for `pki` clients that make their own key and request).
 */
import type { KeyObject } from 'node:crypto';
import { parseExtensions, type CertificateExtension } from './certificate-fields.js';
import { signStructure } from './certificate.js';
import { childrenOf, DerTag, encodingOf, expectTag, readBitString, readIntegerHex, readOid, readRootTlv, type DerElement } from '../der/reader.js';
import { integer, octetString, oid, sequence, set, tlv } from '../der/writer.js';
import { PkiError } from '../errors.js';
import { ExtensionOid } from './extensions.js';
import { spkiDer } from '../keys/keys.js';
import { encodeGeneralName, encodeSubjectName, type San, type SubjectName } from './names.js';
import { signatureAlgorithmFor, verifySignature } from '../keys/signature.js';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

export interface CsrFields {
  readonly der: Uint8Array;
  readonly infoDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly spkiDer: Uint8Array;
  /** Extensions asked for in the extensionRequest attribute (RFC 2985 §5.4.2). */
  readonly extensions: readonly CertificateExtension[];
  /** OIDs of other attributes (challengePassword…), which pki ignores. */
  readonly otherAttributes: readonly string[];
  readonly signatureAlgorithmOid: string;
  readonly signature: Uint8Array;
}

function malformedCsr(message: string): PkiError {
  return new PkiError('ERR_MALFORMED_CSR', `not a valid certificate request: ${message}`);
}

export function parseCsr(der: Uint8Array): CsrFields {
  const root = expectTag(readRootTlv(der), DerTag.sequence, 'CertificationRequest');
  const top = childrenOf(der, root);
  if (top.length !== 3) throw malformedCsr('expected certificationRequestInfo, signatureAlgorithm, signature');
  const [infoEl, algEl, sigEl] = top as [DerElement, DerElement, DerElement];
  const info = childrenOf(der, expectTag(infoEl, DerTag.sequence, 'certificationRequestInfo'));
  if (info.length !== 4) throw malformedCsr('certificationRequestInfo must have 4 fields');
  if (readIntegerHex(der, expectTag(info[0]!, DerTag.integer, 'version')) !== '00') throw malformedCsr('version must be 0 (v1)');
  const extensions: CertificateExtension[] = [];
  const otherAttributes: string[] = [];
  for (const attr of childrenOf(der, expectTag(info[3]!, 0xa0, 'attributes'))) {
    const [typeEl, valuesEl] = childrenOf(der, expectTag(attr, DerTag.sequence, 'Attribute'));
    if (!typeEl || !valuesEl) throw malformedCsr('an attribute is incomplete');
    const type = readOid(der, typeEl);
    if (type === OID_EXTENSION_REQUEST) {
      const values = childrenOf(der, expectTag(valuesEl, DerTag.set, 'extensionRequest values'));
      if (values.length !== 1) throw malformedCsr('extensionRequest must have exactly one value');
      extensions.push(...parseExtensions(der, values[0]!));
    } else {
      otherAttributes.push(type);
    }
  }
  const alg = childrenOf(der, expectTag(algEl, DerTag.sequence, 'signatureAlgorithm'));
  if (alg.length === 0) throw malformedCsr('empty signatureAlgorithm');
  return {
    der,
    infoDer: encodingOf(der, infoEl),
    subjectDer: encodingOf(der, expectTag(info[1]!, DerTag.sequence, 'subject')),
    spkiDer: encodingOf(der, expectTag(info[2]!, DerTag.sequence, 'subjectPKInfo')),
    extensions,
    otherAttributes,
    signatureAlgorithmOid: readOid(der, alg[0]!),
    signature: readBitString(der, expectTag(sigEl, DerTag.bitString, 'signature')).bytes,
  };
}

/** Checks the request's self-signature: proof that the requester holds the private key. */
export function verifyCsrSignature(csr: CsrFields, publicKey: KeyObject): boolean {
  return verifySignature(csr.signatureAlgorithmOid, csr.infoDer, csr.signature, publicKey);
}

/** Builds and signs a CSR whose extensionRequest carries the SANs. */
export function buildCsr(options: { subject: SubjectName; sans: readonly San[]; privateKey: KeyObject }): Buffer {
  const attributes: Buffer[] = [];
  if (options.sans.length > 0) {
    const san = sequence(oid(ExtensionOid.subjectAltName), octetString(sequence(...options.sans.map(encodeGeneralName))));
    attributes.push(sequence(oid(OID_EXTENSION_REQUEST), set(sequence(san))));
  }
  const info = sequence(integer(0), encodeSubjectName(options.subject), spkiDer(options.privateKey), tlv(0xa0, Buffer.concat(attributes)));
  return signStructure(info, signatureAlgorithmFor(options.privateKey), options.privateKey);
}
