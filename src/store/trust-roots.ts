/**
 * Where `pki verify` and `pki inspect --tls` find their trust anchors when no --roots is given: the CA
 * home's root when a CA home exists at --dir / PKI_DIR / ./pki, else the system bundle (Debian's
 * /etc/ssl/certs/ca-certificates.crt, as curl and openssl use it). Reading only: no lock, no home check.
 */
import { join } from 'node:path';
import { certificatesInFile } from '../core/x509/certificate-file.js';
import { PkiError } from '../core/errors.js';
import { fileExists, readBytes } from './fs/read-file.js';

export const SYSTEM_TRUST_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** A trust-anchor file is at most this large (the Debian bundle is about 220 KB). */
const MAX_ROOTS_BYTES = 16 * 1024 * 1024;

export interface TrustRoots {
  /** The files the anchors came from, for messages and --json. */
  readonly sources: readonly string[];
  readonly certificates: readonly Uint8Array[];
}

/** Certificates of one file given on the command line (--roots, --untrusted, the leaf file). */
export function readCertificateFile(path: string, what: string): Uint8Array[] {
  return certificatesInFile(readBytes(path, { maxBytes: MAX_ROOTS_BYTES, what }), `${what} ${path}`);
}

/** --roots files when given, else the default anchors described above. */
export function loadTrustRoots(rootFiles: readonly string[], homeDir: string): TrustRoots {
  if (rootFiles.length > 0) {
    return { sources: rootFiles, certificates: rootFiles.flatMap((f) => readCertificateFile(f, 'the roots file')) };
  }
  const homeRoot = join(homeDir, 'ca', 'root_ca.crt');
  if (fileExists(join(homeDir, 'pki.json')) && fileExists(homeRoot)) {
    return { sources: [homeRoot], certificates: readCertificateFile(homeRoot, 'the CA home root') };
  }
  if (fileExists(SYSTEM_TRUST_BUNDLE)) {
    return { sources: [SYSTEM_TRUST_BUNDLE], certificates: readCertificateFile(SYSTEM_TRUST_BUNDLE, 'the system trust bundle') };
  }
  throw new PkiError('ERR_FILE_NOT_FOUND', `no trust anchors: no CA home at ${homeDir} and no ${SYSTEM_TRUST_BUNDLE}`, {
    hint: 'give --roots FILE, or --dir for the CA home',
  });
}
