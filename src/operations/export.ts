/**
 * `pki export`: one bundle pair (the server's, or a client's with --client) or a --cert/--key pair, in the
 * one format the consuming software wants (docs/export.md): a full chain (nginx), the chain alone, one PEM
 * with the key (HAProxy), DER, PKCS#12 (Java, Windows), or a kubernetes.io/tls Secret on stdout. Every
 * refusal comes before the PKCS#12 password is asked and before anything is written; files are written
 * atomically with their final mode from the start (0600 for the two that hold the key). Export never needs
 * the CA key.
 */
import { encodePem, PemLabel } from '../core/der/pem.js';
import { PkiError, isPkiError } from '../core/errors.js';
import { assertDns1123, buildK8sSecret, renderK8sSecretYaml, type K8sSecret } from '../core/export/k8s-secret.js';
import { encodePkcs12 } from '../core/export/pkcs12.js';
import { exportPrivateKeyPem } from '../core/keys/keys.js';
import type { CertificateFields } from '../core/x509/certificate-fields.js';
import { decodeSubjectAltName } from '../core/x509/extension-decoders.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { FileMode, type CaHome } from '../store/ca-home.js';
import { refuseOutputPath } from '../store/export-files.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { nameOf, readExportMaterial, type ExportMaterial, type ExportSource } from './export-chain.js';

export type { ExportSource } from './export-chain.js';

export type ExportFormat =
  | { readonly kind: 'fullchain' | 'chain' | 'haproxy' | 'der'; readonly path: string }
  | { readonly kind: 'p12'; readonly path: string; readonly legacy: boolean; readonly withRoot: boolean }
  | { readonly kind: 'k8s-secret'; readonly name?: string; readonly namespace?: string };

export interface ExportRequest {
  readonly source: ExportSource;
  readonly format: ExportFormat;
  /** Replace an existing output file. */
  readonly force: boolean;
}

export interface ExportContext {
  readonly now: Date;
  /** The PKCS#12 password (UTF-8), asked only for --p12 and only once nothing refuses; wiped after use. */
  readonly p12Password?: () => Promise<Uint8Array>;
}

export interface ExportResult {
  readonly format: ExportFormat['kind'];
  /** The file written (null for --k8s-secret) and its mode. */
  readonly path: string | null;
  readonly mode: number | null;
  /** The leaf exported. */
  readonly certificate: { readonly subject: string; readonly serial: string; readonly notAfter: string };
  /** What the output holds besides the leaf: the intermediates' and the root's names. */
  readonly chain: readonly string[];
  readonly root: string | null;
  /** --k8s-secret: the Secret, and its YAML text. */
  readonly secret: K8sSecret | null;
  readonly yaml: string | null;
  readonly warnings: readonly string[];
}

/** Why --legacy exists and what it costs, printed each time it is used. */
export const LEGACY_P12_WARNING =
  '--legacy writes PKCS#12 with 3DES and SHA-1 (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC) for old Java and Windows readers that cannot open AES-256/SHA-256 files; 3DES and SHA-1 are weak: keep the file and its password close, and drop --legacy once the reader is upgraded';

const pem = (certificates: readonly CertificateFields[]) => certificates.map((c) => encodePem(PemLabel.certificate, c.der)).join('');

/** The Secret's name: --name, else `<service>-<variant>[-<client>]-tls`; a --cert pair has no default. */
function secretName(source: ExportSource, name: string | undefined): string {
  if (name !== undefined) return name;
  if (source.kind === 'pair') throw new PkiError('ERR_USAGE', '--k8s-secret with --cert needs --name', { hint: 'name the Secret, e.g. --name web-tls' });
  const fallback = `${source.service}-${source.variant}${source.client !== undefined ? `-${source.client}` : ''}-tls`;
  try {
    assertDns1123(fallback, 'the default Secret name');
  } catch (e) {
    if (isPkiError(e)) throw new PkiError(e.code, e.message, { hint: 'Kubernetes names are lower-case letters, digits, "-" and ".": pass --name' });
    throw e;
  }
  return fallback;
}

function k8sSecret(material: ExportMaterial, request: ExportRequest, format: Extract<ExportFormat, { kind: 'k8s-secret' }>): K8sSecret {
  if (!material.root) throw noRoot(material, 'the Secret’s ca.crt');
  const san = decodeSubjectAltName(material.leaf);
  return buildK8sSecret({
    name: secretName(request.source, format.name),
    ...(format.namespace !== undefined ? { namespace: format.namespace } : {}),
    tlsCrt: pem([material.leaf, ...material.chain]),
    tlsKey: exportPrivateKeyPem(material.key),
    caCrt: pem([material.root]),
    commonName: nameOf(material.leaf),
    dnsNames: san.dns,
    ipAddresses: san.ip,
    issuerName: material.chain[0] ? nameOf(material.chain[0]) : nameOf({ subjectDer: material.leaf.issuerDer }),
    serial: normalizeSerial(material.leaf.serial),
    notAfter: material.leaf.notAfter,
  });
}

function noRoot(material: ExportMaterial, what: string): PkiError {
  return new PkiError('ERR_UNTRUSTED_CERTIFICATE', `no root CA certificate found for ${material.certPath}, needed for ${what}`, {
    hint: 'append the root to the --cert file, or pass --dir with the CA home that issued it',
  });
}

/** The bytes of a file format (for --p12, after the password is asked). */
async function fileBytes(material: ExportMaterial, format: Exclude<ExportFormat, { kind: 'k8s-secret' }>, context: ExportContext): Promise<string | Uint8Array> {
  switch (format.kind) {
    case 'fullchain':
      return pem([material.leaf, ...material.chain]);
    case 'chain':
      return pem(material.chain);
    case 'der':
      return material.leaf.der;
    case 'haproxy':
      return pem([material.leaf, ...material.chain]) + exportPrivateKeyPem(material.key);
    case 'p12':
      return p12Bytes(material, format, context);
  }
}

async function p12Bytes(material: ExportMaterial, format: Extract<ExportFormat, { kind: 'p12' }>, context: ExportContext): Promise<Uint8Array> {
  if (!context.p12Password) throw new PkiError('ERR_PASSWORD_REQUIRED', 'a PKCS#12 file needs a password', { hint: 'pass --password-file FILE or set PKI_P12_PASSWORD' });
  const password = await context.p12Password();
  const privateKeyPkcs8 = material.key.export({ type: 'pkcs8', format: 'der' });
  try {
    return await encodePkcs12({
      privateKeyPkcs8,
      certificates: [material.leaf, ...material.chain, ...(format.withRoot && material.root ? [material.root] : [])].map((c) => c.der),
      friendlyName: nameOf(material.leaf),
      password,
      legacy: format.legacy,
    });
  } finally {
    password.fill(0);
    privateKeyPkcs8.fill(0);
  }
}

/** Refusals and warnings that depend on the format and what was found, before anything is asked or written. */
function checkFormat(material: ExportMaterial, format: ExportFormat, now: Date): string[] {
  const warnings: string[] = [];
  if (format.kind === 'chain' && material.chain.length === 0) {
    throw new PkiError('ERR_UNTRUSTED_CERTIFICATE', `no intermediate CA certificate found for ${material.certPath}: --chain would write an empty file`, {
      hint: 'append the intermediate to the --cert file, or pass --dir with the CA home that issued it',
    });
  }
  if (format.kind === 'p12' && format.withRoot && !material.root) throw noRoot(material, '--with-root');
  if (format.kind !== 'der' && format.kind !== 'chain' && material.chain.length === 0) {
    warnings.push(`no intermediate CA certificate found for ${material.certPath}: the output holds the leaf alone, which clients verify only if they have the intermediate`);
  }
  if (format.kind === 'p12' && format.legacy) warnings.push(LEGACY_P12_WARNING);
  if (material.leaf.notAfter.getTime() <= now.getTime()) warnings.push(`the certificate ${material.certPath} expired on ${material.leaf.notAfter.toISOString()}`);
  return warnings;
}

export async function exportCertificate(home: CaHome, request: ExportRequest, context: ExportContext): Promise<ExportResult> {
  const { format } = request;
  if (format.kind !== 'k8s-secret') refuseOutputPath(format.path, request.force, home.servicesDir);
  const material = readExportMaterial(home, request.source);
  const warnings = checkFormat(material, format, context.now);
  const base = {
    format: format.kind,
    certificate: { subject: nameOf(material.leaf), serial: normalizeSerial(material.leaf.serial), notAfter: material.leaf.notAfter.toISOString() },
    chain: format.kind === 'der' ? [] : material.chain.map(nameOf),
    root: (format.kind === 'k8s-secret' || (format.kind === 'p12' && format.withRoot)) && material.root ? nameOf(material.root) : null,
    warnings,
  };
  if (format.kind === 'k8s-secret') {
    const secret = k8sSecret(material, request, format);
    return { ...base, path: null, mode: null, secret, yaml: renderK8sSecretYaml(secret) };
  }
  const mode = format.kind === 'haproxy' || format.kind === 'p12' ? FileMode.privateKey : FileMode.public;
  const data = await fileBytes(material, format, context);
  writeFileAtomic(format.path, data, { mode, overwrite: request.force });
  return { ...base, path: format.path, mode, secret: null, yaml: null };
}
