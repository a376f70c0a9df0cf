/** Certificate request → typed report. */
import { createPublicKey } from 'node:crypto';
import { parseCsr, verifyCsrSignature } from '../x509/csr.js';
import { PkiError } from '../errors.js';
import { describeKey, type KeyDescription } from '../keys/keys.js';
import type { SanSet } from '../x509/names.js';
import { signatureAlgorithmName } from '../keys/signature.js';
import { decodeBasicConstraints, decodeExtKeyUsage, decodeKeyUsage, decodeSubjectAltName } from '../x509/extension-decoders.js';
import { formatDistinguishedName } from '../x509/name-decoder.js';

export interface CsrReport {
  readonly type: 'csr';
  readonly subject: string;
  readonly sans: SanSet;
  readonly key: KeyDescription | { readonly type: 'unknown' };
  readonly requestedExtensions: string[];
  readonly isCA: boolean;
  readonly keyUsage: string[];
  readonly extKeyUsage: string[];
  readonly signatureAlgorithm: string;
  /** null when the algorithm is one pki refuses (SHA-1…) and so did not check. */
  readonly signatureValid: boolean | null;
}

export function inspectCsr(der: Uint8Array): CsrReport {
  const csr = parseCsr(der);
  let key: CsrReport['key'] = { type: 'unknown' };
  let signatureValid: boolean | null = null;
  try {
    const publicKey = createPublicKey({ key: Buffer.from(csr.spkiDer), format: 'der', type: 'spki' });
    key = describeKey(publicKey);
    signatureValid = verifyCsrSignature(csr, publicKey);
  } catch (e) {
    if (!(e instanceof PkiError) && !(e instanceof Error)) throw e;
  }
  const san = decodeSubjectAltName(csr);
  return {
    type: 'csr',
    subject: formatDistinguishedName(csr.subjectDer),
    sans: { dns: san.dns, ip: san.ip, email: san.email, uri: san.uri },
    key,
    requestedExtensions: csr.extensions.map((e) => e.oid),
    isCA: decodeBasicConstraints(csr).isCA,
    keyUsage: decodeKeyUsage(csr),
    extKeyUsage: decodeExtKeyUsage(csr),
    signatureAlgorithm: signatureAlgorithmName(csr.signatureAlgorithmOid),
    signatureValid,
  };
}
