/**
 * What `pki export` exports, read and checked before any format is rendered: the leaf, its private key
 * (checked to belong to it), the intermediate(s) and the root. From a bundle (its `<name>.crt` holds leaf +
 * intermediate, `ca.crt` the root) or from a --cert/--key pair, whose chain is the rest of the --cert file,
 * else the CA home's intermediate when it issued the leaf; the root is a self-signed certificate of the
 * file, else the CA home's root when it issued the top of the chain. docs/export.md.
 */
import type { KeyObject } from 'node:crypto';
import { PkiError, isPkiError } from '../core/errors.js';
import { importPrivateKey, keysMatch } from '../core/keys/keys.js';
import { certificatesInFile } from '../core/x509/certificate-file.js';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import { commonNameOf, formatDistinguishedName } from '../core/x509/name-decoder.js';
import { validateServiceName } from '../core/x509/names.js';
import type { CaHome } from '../store/ca-home.js';
import { readBundlePair, readKeyFile } from '../store/export-files.js';
import { fileExists, readBytes } from '../store/fs/read-file.js';
import { readCertificateFile } from '../store/trust-roots.js';

export type ExportSource =
  | { readonly kind: 'bundle'; readonly service: string; readonly variant: string; readonly client?: string }
  | { readonly kind: 'pair'; readonly certFile: string; readonly keyFile: string };

export interface ExportMaterial {
  readonly leaf: CertificateFields;
  /** The intermediate(s), the leaf's issuer first; no self-signed root. */
  readonly chain: readonly CertificateFields[];
  readonly root: CertificateFields | null;
  readonly key: KeyObject;
  /** Where the certificate came from, for messages. */
  readonly certPath: string;
}

/** A certificate's name for messages: its CN, else its whole subject. */
export function nameOf(fields: Pick<CertificateFields, 'subjectDer'>): string {
  return commonNameOf(fields.subjectDer) ?? formatDistinguishedName(fields.subjectDer);
}

const selfSigned = (c: CertificateFields) => isIssuedBy(c, c);

/** The private key, unencrypted; an encrypted one is refused with the command that decrypts it. */
function readKey(bytes: Uint8Array, keyPath: string): KeyObject {
  try {
    return importPrivateKey(bytes);
  } catch (e) {
    if (isPkiError(e, 'ERR_PASSWORD_REQUIRED')) {
      throw new PkiError('ERR_PASSWORD_REQUIRED', `the key ${keyPath} is encrypted; pki export reads unencrypted keys`, {
        hint: `decrypt a copy first (openssl pkey -in ${keyPath} -out plain.key) and export that`,
      });
    }
    if (isPkiError(e, 'ERR_MALFORMED_KEY')) throw new PkiError('ERR_MALFORMED_KEY', `${keyPath} is not a private key pki can read (PEM or DER PKCS#8, PKCS#1, SEC1)`, { hint: 'give the key file of the certificate' });
    throw e;
  } finally {
    bytes.fill(0);
  }
}

/** Each certificate must be issued by the next one: a file in another order makes a chain no client builds. */
function checkLinks(certificates: readonly CertificateFields[], where: string): void {
  for (let i = 0; i + 1 < certificates.length; i++) {
    if (!isIssuedBy(certificates[i]!, certificates[i + 1]!)) {
      throw new PkiError('ERR_UNTRUSTED_CERTIFICATE', `the certificates of ${where} are not a chain: "${nameOf(certificates[i]!)}" is not issued by "${nameOf(certificates[i + 1]!)}"`, {
        hint: 'put the leaf first, then its issuer, then that one’s issuer',
      });
    }
  }
}

/** The CA home's certificate at `path` when the home has one (a --cert pair may come from anywhere). */
function homeCertificate(path: string): CertificateFields | null {
  if (!fileExists(path)) return null;
  try {
    return parseCertificate(certificatesInFile(readBytes(path, { maxBytes: 1024 * 1024 }), path)[0]!);
  } catch {
    return null; // an unreadable home certificate just does not complete the chain
  }
}

function splitRoot(rest: readonly CertificateFields[]): { chain: CertificateFields[]; root: CertificateFields | null } {
  return { chain: rest.filter((c) => !selfSigned(c)), root: rest.find(selfSigned) ?? null };
}

function bundleMaterial(home: CaHome, source: Extract<ExportSource, { kind: 'bundle' }>): ExportMaterial {
  // The names become path components: validated as generate validates them, so `../x` reads nothing.
  validateServiceName('service', source.service);
  validateServiceName('variant', source.variant);
  if (source.client !== undefined) validateServiceName('client', source.client);
  const files = readBundlePair(home.servicesDir, source.service, source.variant, source.client);
  const [leaf, ...rest] = certificatesInFile(files.cert, files.certPath).map((der) => parseCertificate(der));
  const { chain } = splitRoot(rest);
  const root = files.ca ? parseCertificate(certificatesInFile(files.ca, `${files.folder}/ca.crt`)[0]!) : null;
  return { leaf: leaf!, chain, root, key: readKey(files.key, files.keyPath), certPath: files.certPath };
}

function pairMaterial(home: CaHome, source: Extract<ExportSource, { kind: 'pair' }>): ExportMaterial {
  const [leaf, ...rest] = readCertificateFile(source.certFile, 'the certificate file').map((der) => parseCertificate(der));
  let { chain, root } = splitRoot(rest);
  // A bare leaf: the chain of whichever CA of the home signed it (issue 14: an added CA's, a trust domain's).
  const cas = home.isInitialized() ? [home, ...home.issuingCaNames().map((n) => home.issuingCaHome(n)), ...home.trustDomainNames().map((d) => home.trustDomain(d))] : [home];
  const issuerHome = cas.find((ca) => {
    const intermediate = homeCertificate(ca.intermediateCertPath);
    return intermediate !== null && isIssuedBy(leaf!, intermediate);
  });
  if (chain.length === 0 && issuerHome) chain = [homeCertificate(issuerHome.intermediateCertPath)!];
  if (root === null) {
    const homeRoot = homeCertificate((issuerHome ?? home).rootCertPath);
    if (homeRoot && isIssuedBy(chain.at(-1) ?? leaf!, homeRoot)) root = homeRoot;
  }
  return { leaf: leaf!, chain, root, key: readKey(readKeyFile(source.keyFile), source.keyFile), certPath: source.certFile };
}

/** Reads the source and checks it: the key belongs to the leaf (ERR_KEY_MISMATCH), each certificate is issued by the next. */
export function readExportMaterial(home: CaHome, source: ExportSource): ExportMaterial {
  const material = source.kind === 'bundle' ? bundleMaterial(home, source) : pairMaterial(home, source);
  if (!keysMatch(material.key, certificatePublicKey(material.leaf))) {
    const keyPath = source.kind === 'pair' ? source.keyFile : material.certPath.replace(/\.crt$/, '.key');
    throw new PkiError('ERR_KEY_MISMATCH', `the key ${keyPath} does not belong to the certificate ${material.certPath}`, { hint: 'give the key file issued with that certificate' });
  }
  checkLinks([material.leaf, ...material.chain, ...(material.root ? [material.root] : [])], material.certPath);
  return material;
}
