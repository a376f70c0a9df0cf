/**
 * Bytes of any file an operator may hand to `pki inspect` → one typed report per object, in file order.
 * PEM is routed by label; DER is tried as certificate, CSR, CRL, then key, because DER carries no label.
 */
import { PkiError } from '../errors.js';
import { decodePem, looksLikePem } from '../der/pem.js';
import { inspectCertificate, type CertificateReport } from './certificate.js';
import { inspectCrl, type CrlReport } from './crl.js';
import { inspectCsr, type CsrReport } from './csr.js';
import { inspectKey, type KeyReport } from './key.js';
import { inspectKrl, type SshKrlReport } from './krl.js';
import { inspectPkcs12, looksLikePkcs12, type Pkcs12Report } from './pkcs12.js';
import { looksLikeKrl } from '../ssh/index.js';
import { inspectSshText, looksLikeSshText, type SshCertificateReport, type SshPublicKeyReport } from './ssh.js';

export type InspectReport = CertificateReport | CsrReport | CrlReport | KeyReport | SshPublicKeyReport | SshCertificateReport | SshKrlReport | Pkcs12Report;

function inspectPemBlock(label: string, der: Uint8Array): InspectReport {
  switch (label) {
    case 'CERTIFICATE':
    case 'TRUSTED CERTIFICATE':
      return inspectCertificate(der);
    case 'CERTIFICATE REQUEST':
    case 'NEW CERTIFICATE REQUEST':
      return inspectCsr(der);
    case 'X509 CRL':
    case 'CRL':
      return inspectCrl(der);
    case 'PRIVATE KEY':
    case 'ENCRYPTED PRIVATE KEY':
    case 'RSA PRIVATE KEY':
    case 'EC PRIVATE KEY':
    case 'PUBLIC KEY':
    case 'RSA PUBLIC KEY':
      return inspectKey(label, der);
    case 'OPENSSH PRIVATE KEY':
      throw new PkiError('ERR_UNKNOWN_OBJECT', 'this is an OpenSSH private key; pki does not read those', {
        hint: 'inspect the public key (.pub) or the certificate (-cert.pub) instead',
      });
    default:
      throw new PkiError('ERR_UNKNOWN_OBJECT', `unsupported PEM block "${label}"`, {
        hint: 'pki inspects certificates, certificate requests, CRLs, keys and OpenSSH keys and certificates',
      });
  }
}

const DER_ATTEMPTS: readonly ((der: Uint8Array) => InspectReport)[] = [
  inspectCertificate,
  inspectCsr,
  inspectCrl,
  (der) => inspectKey('PRIVATE KEY', der),
  (der) => inspectKey('PUBLIC KEY', der),
];

/** What some files need to be read: the password of a PKCS#12 file. */
export interface InspectOptions {
  readonly pkcs12Password?: Uint8Array | undefined;
}

function inspectDer(der: Uint8Array, options: InspectOptions): InspectReport {
  if (der.length === 0) throw new PkiError('ERR_EMPTY_INPUT', 'the file is empty');
  if (der[0] !== 0x30) {
    throw new PkiError('ERR_UNKNOWN_OBJECT', 'not PEM and not DER: the file holds no certificate, request, CRL or key', {
      hint: 'check that you passed the right file',
    });
  }
  if (looksLikePkcs12(der)) {
    if (!options.pkcs12Password) {
      throw new PkiError('ERR_PASSWORD_REQUIRED', 'this is a PKCS#12 file; its password is needed to read it', { hint: 'pass --password-file FILE or set PKI_P12_PASSWORD' });
    }
    return inspectPkcs12(der, options.pkcs12Password);
  }
  let firstError: unknown;
  for (const attempt of DER_ATTEMPTS) {
    try {
      return attempt(der);
    } catch (e) {
      if (!(e instanceof PkiError)) throw e;
      firstError ??= e;
      // A structural DER error means no other reading can succeed either.
      if (e.code === 'ERR_MALFORMED_DER') break;
    }
  }
  const cause = firstError instanceof PkiError ? firstError.message : 'unknown structure';
  throw new PkiError('ERR_UNKNOWN_OBJECT', `DER input is not a certificate, request, CRL or key (${cause})`, {
    hint: 'check that the file is complete and of a supported type',
  });
}

/** Every object in the file, in order. Throws a PkiError for empty, malformed or unsupported input. */
export function inspectBytes(data: Uint8Array, options: InspectOptions = {}): InspectReport[] {
  if (data.length === 0) throw new PkiError('ERR_EMPTY_INPUT', 'the file is empty', { hint: 'check that you passed the right file' });
  // A KRL is binary with its own magic (`SSHKRL\n\0`), as `pki ssh krl` and `ssh-keygen -k` write it.
  if (looksLikeKrl(data)) return [inspectKrl(data)];
  // OpenSSH lines (`ssh-ed25519 AAAA…`, `…-cert-v01@openssh.com AAAA…`) are text and carry their type up front.
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 4096)).toString('latin1');
  if (looksLikeSshText(head)) return inspectSshText(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  if (looksLikePem(data)) {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
    return decodePem(text).map((b) => inspectPemBlock(b.label, b.der));
  }
  return [inspectDer(data, options)];
}

export { looksLikePkcs12 };
export type { CertificateReport, CsrReport, CrlReport, KeyReport, Pkcs12Report, SshCertificateReport, SshKrlReport, SshPublicKeyReport };
