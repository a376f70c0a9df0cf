/**
 * The certificates (or CRLs) in a file as operators hand them over: one or more PEM blocks (text around
 * them ignored, as RFC 7468 allows), or one DER structure. Shared by `pki verify`, `pki check --path` and
 * `pki inspect --tls --roots`, so all three accept the same files and refuse a key with the same words.
 */
import { decodePem, looksLikePem, PemLabel } from '../der/pem.js';
import { PkiError } from '../errors.js';
import { parseCertificate } from './certificate-fields.js';

const KEY_LABELS = /PRIVATE KEY|OPENSSH PRIVATE KEY/;

/**
 * Every certificate in `bytes`, in file order, each checked to parse. `what` names the file in messages
 * ("the roots file"). Throws ERR_UNKNOWN_OBJECT for a file holding no certificate (a key, a CSR: the message
 * says which), ERR_MALFORMED_CERTIFICATE/ERR_MALFORMED_PEM for garbage, ERR_EMPTY_INPUT for an empty file.
 */
export function certificatesInFile(bytes: Uint8Array, what: string): Uint8Array[] {
  if (bytes.byteLength === 0) throw new PkiError('ERR_EMPTY_INPUT', `${what} is empty`, { hint: 'give a PEM or DER certificate file' });
  if (!looksLikePem(bytes)) {
    try {
      parseCertificate(bytes);
    } catch (e) {
      throw new PkiError('ERR_MALFORMED_CERTIFICATE', `${what} is neither PEM nor a DER certificate`, { cause: e, hint: 'give a PEM or DER certificate file' });
    }
    return [bytes];
  }
  const blocks = decodePem(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
  const certificates = blocks.filter((b) => b.label === PemLabel.certificate || b.label === 'TRUSTED CERTIFICATE');
  if (certificates.length === 0) {
    const labels = [...new Set(blocks.map((b) => b.label))].join(', ');
    const key = blocks.some((b) => KEY_LABELS.test(b.label));
    throw new PkiError('ERR_UNKNOWN_OBJECT', `${what} holds ${key ? 'a private key' : labels}, not a certificate`, {
      hint: key ? 'give the certificate file (.crt), not the key' : 'give a PEM file with CERTIFICATE blocks',
    });
  }
  return certificates.map((b) => {
    parseCertificate(b.der);
    return b.der;
  });
}

/** Every CRL in `bytes` (PEM `X509 CRL` blocks or one DER CRL), in file order; structure is checked by the verifier. */
export function crlsInFile(bytes: Uint8Array, what: string): Uint8Array[] {
  if (bytes.byteLength === 0) throw new PkiError('ERR_EMPTY_INPUT', `${what} is empty`, { hint: 'give a PEM or DER CRL file' });
  if (!looksLikePem(bytes)) return [bytes];
  const blocks = decodePem(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')).filter((b) => b.label === PemLabel.crl);
  if (blocks.length === 0) throw new PkiError('ERR_UNKNOWN_OBJECT', `${what} holds no X509 CRL block`, { hint: 'give the CRL file, e.g. crl/intermediate_ca.crl' });
  return blocks.map((b) => b.der);
}
