/**
 * `pki verify`: gathers the files of one path validation (the leaf file, --untrusted, the trust anchors,
 * the CRLs), hands them to the pure validator (core/verify/path-validation.ts) and returns its verdict with
 * what was read. An unreadable input (missing, empty, garbage, a key) is a PkiError: the question could
 * not be asked. An invalid certificate is not: it is the answer, in `result`.
 */
import { validateCertificatePath } from '../core/verify/path-validation.js';
import type { CrlCheckMode, PathValidationResult, VerifyPurpose } from '../core/verify/types.js';
import { chainCommonNames } from '../core/verify/chain-names.js';
import { caHomeCrlFiles, loadTrustRoots, readCertificateFile, readCrlFile } from '../store/trust-roots.js';

export interface VerifyRequest {
  /** The leaf is its first certificate; the others count as untrusted intermediates. */
  readonly certificateFile: string;
  readonly untrustedFiles: readonly string[];
  /** --roots; empty: the CA home root, else the system bundle (store/trust-roots.ts). */
  readonly rootFiles: readonly string[];
  /** The CA home (--dir / PKI_DIR / ./pki), whether or not one exists there. */
  readonly homeDir: string;
  /** A DNS name or IP literal, already validated and normalised by the caller. */
  readonly host?: string;
  readonly ip?: string;
  readonly purpose: VerifyPurpose;
  readonly time: Date;
  readonly crlFiles: readonly string[];
  readonly crlCheck: CrlCheckMode;
  readonly maxDepth?: number;
}

export interface VerifyReport {
  readonly result: PathValidationResult;
  /** The CN of each chain entry (its subject when it has none), for the one-line verdict. */
  readonly chainNames: readonly string[];
  /** Where the trust anchors came from. */
  readonly roots: readonly string[];
  /** The CRL files read: --crl, then the CA home's own with --crl-check / --crl-check-all. */
  readonly crls: readonly string[];
}

/** The same object given twice (a CRL by --crl and as the CA home's, a root also in --untrusted) counts once. */
function distinct(items: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return items.filter((der) => {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function verifyCertificateFile(request: VerifyRequest): VerifyReport {
  const [leaf, ...bundled] = readCertificateFile(request.certificateFile, 'the certificate file');
  const untrusted = distinct([...bundled, ...request.untrustedFiles.flatMap((f) => readCertificateFile(f, 'the untrusted file'))]);
  const roots = loadTrustRoots(request.rootFiles, request.homeDir);
  const crlFiles = [...request.crlFiles, ...(request.crlCheck === 'none' ? [] : caHomeCrlFiles(request.homeDir, request.crlCheck))];
  const crls = distinct(crlFiles.flatMap((f) => readCrlFile(f, 'the CRL file')));
  const result = validateCertificatePath({
    leaf: leaf!,
    untrusted,
    roots: distinct(roots.certificates),
    ...(request.host !== undefined ? { host: request.host } : {}),
    ...(request.ip !== undefined ? { ip: request.ip } : {}),
    purpose: request.purpose,
    time: request.time,
    crls,
    crlCheck: request.crlCheck,
    ...(request.maxDepth !== undefined ? { maxDepth: request.maxDepth } : {}),
  });
  const known = [leaf!, ...untrusted, ...roots.certificates];
  return { result, chainNames: chainCommonNames(result.chain, known), roots: roots.sources, crls: crlFiles };
}
