/**
 * What `pki verify` and `pki inspect --tls` read besides the certificate itself: trust anchors and CRLs.
 * Trust anchors when no --roots is given: the CA home's root when a CA home exists at --dir / PKI_DIR /
 * ./pki, else the system bundle (Debian's /etc/ssl/certs/ca-certificates.crt, as curl and openssl use it).
 * CRLs with --crl-check: the CA home's own, as `pki crl` publishes them. Reading only: no lock, no home
 * check, and nothing that loads the inventory or the pki.json schema (verify must start fast).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodePem, looksLikePem, PemLabel } from '../core/der/pem.js';
import { certificatesInFile, crlsInFile } from '../core/x509/certificate-file.js';
import { PkiError } from '../core/errors.js';
import { fileExists, readBytes } from './fs/read-file.js';

export const SYSTEM_TRUST_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** A certificate or CRL file is at most this large (the Debian bundle is about 220 KB). */
const MAX_ROOTS_BYTES = 16 * 1024 * 1024;
/** A CRL of 100,000 revoked serials is about 4 MB; 64 MiB leaves room for any CA's. */
const MAX_CRL_BYTES = 64 * 1024 * 1024;

export interface TrustRoots {
  /** The files the anchors came from, for messages and --json. */
  readonly sources: readonly string[];
  readonly certificates: readonly Uint8Array[];
}

/** The file's bytes; a folder is refused with its own words (reading one fails with a bare EISDIR). */
function readInputFile(path: string, maxBytes: number, what: string): Buffer {
  if (isFolder(path)) throw new PkiError('ERR_IS_DIRECTORY', `${what} ${path} is a folder`, { hint: 'give one file of it' });
  return readBytes(path, { maxBytes, what });
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // readBytes reports the missing file
  }
}

/**
 * A certificate in the file that does not parse: the parser's message does not say which file it was
 * in, and a verify run reads several.
 */
function naming(e: unknown, what: string, path: string): unknown {
  if (e instanceof PkiError && !e.message.includes(path)) return new PkiError(e.code, `${what} ${path}: ${e.message}`, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
  return e;
}

/** Certificates of one file given on the command line (--roots, --untrusted, the leaf file). */
export function readCertificateFile(path: string, what: string): Uint8Array[] {
  const bytes = readInputFile(path, MAX_ROOTS_BYTES, what);
  try {
    return certificatesInFile(bytes, `${what} ${path}`);
  } catch (e) {
    throw naming(e, what, path);
  }
}

/** The CRLs of one file (--crl, the CA home's CRL files). */
export function readCrlFile(path: string, what: string): Uint8Array[] {
  const bytes = readInputFile(path, MAX_CRL_BYTES, what);
  try {
    return crlsInFile(bytes, `${what} ${path}`);
  } catch (e) {
    throw naming(e, what, path);
  }
}

/**
 * The operating system's bundle, its CERTIFICATE blocks as they are, without parsing each one: the
 * validator reads candidates lazily and skips one it cannot parse, so a single odd certificate among the
 * ~140 of the distribution's bundle does not fail every verification, and the 140 parses (~30 ms in a
 * fresh process) are not paid for the one or two roots a path uses. A bundle with no certificate at all
 * is refused as certificatesInFile refuses any file.
 */
function readSystemBundle(path: string): Uint8Array[] {
  const what = 'the system trust bundle';
  const bytes = readInputFile(path, MAX_ROOTS_BYTES, what);
  const blocks = looksLikePem(bytes) ? decodePem(bytes.toString('latin1')).filter((b) => b.label === PemLabel.certificate) : [];
  return blocks.length > 0 ? blocks.map((b) => b.der) : readCertificateFile(path, what);
}

/** Whether `homeDir` holds a CA home (its pki.json), without reading or checking it. */
export function isCaHome(homeDir: string): boolean {
  return fileExists(join(homeDir, 'pki.json'));
}

/** --roots files when given, else the default anchors described above. */
export function loadTrustRoots(rootFiles: readonly string[], homeDir: string): TrustRoots {
  if (rootFiles.length > 0) {
    return { sources: rootFiles, certificates: rootFiles.flatMap((f) => readCertificateFile(f, 'the roots file')) };
  }
  const homeRoot = join(homeDir, 'ca', 'root_ca.crt');
  if (isCaHome(homeDir) && fileExists(homeRoot)) {
    return { sources: [homeRoot], certificates: readCertificateFile(homeRoot, 'the CA home root') };
  }
  if (fileExists(SYSTEM_TRUST_BUNDLE)) {
    return { sources: [SYSTEM_TRUST_BUNDLE], certificates: readSystemBundle(SYSTEM_TRUST_BUNDLE) };
  }
  throw new PkiError('ERR_FILE_NOT_FOUND', `no trust anchors: no CA home at ${homeDir} and no ${SYSTEM_TRUST_BUNDLE}`, {
    hint: 'give --roots FILE, or --dir for the CA home',
  });
}

/**
 * The CA home's own CRLs for --crl-check: the intermediates' (of leaves) — the default one, each `pki ca
 * add` CA's, those retired intermediates still sign and each trust domain's — and for `all` also the
 * roots' (of intermediates; the old root's during a root rotation). The verifier picks each certificate's
 * CRL by its issuer, so the others are only read. None when there is no CA home; a CA home whose CRL file
 * is gone gives none for it, and the verdict then says the CRL is missing (ERR_CRL_MISSING), which is the
 * truth for a relying party.
 */
export function caHomeCrlFiles(homeDir: string, mode: 'leaf' | 'all'): string[] {
  if (!isCaHome(homeDir)) return [];
  const roots = new Set(['root_ca.crl', 'old_root_ca.crl']);
  const crlsIn = (dir: string) => {
    try {
      return readdirSync(dir).filter((n) => n.endsWith('.crl') && (mode === 'all' || !roots.has(n))).sort().map((n) => join(dir, n));
    } catch {
      return [];
    }
  };
  const retired = (crlDir: string) => [crlsIn(join(crlDir, 'retired')), ...listFolders(join(crlDir, 'retired')).map((n) => crlsIn(join(crlDir, 'retired', n)))].flat();
  const domains = listFolders(join(homeDir, 'domains')).map((d) => join(homeDir, 'domains', d, 'crl'));
  return [join(homeDir, 'crl'), ...domains].flatMap((crlDir) => [...crlsIn(crlDir), ...retired(crlDir)]).filter(fileExists);
}

function listFolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}
