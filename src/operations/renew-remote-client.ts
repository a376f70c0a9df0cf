/**
 * The host's side of renewal over mutual TLS (`pki renew --daemon --ca-url URL --roots FILE`): no CA home
 * here. The current certificate and key are the TLS client credential (net/renew-client.ts); the server
 * (`pki serve`, operations/renew-remote.ts) re-issues the same subject and SANs. With --rekey a new key of
 * the same type is made here and only its CSR is sent: a private key never leaves the host.
 *
 * The answer is checked before anything is written: a chain whose leaf certifies our key (the old one, or
 * the new one), signed by the intermediate that comes with it, which is itself signed by one of --roots.
 * Then the files switch: in a bundle (docs/bundle-layout.md) the certificate and, with --rekey, the key
 * (0600) in one rename of the version link; a plain certificate file by one atomic rename (--rekey needs a
 * bundle, as for `pki renew`). The old files' mode, owner and group are kept.
 */
import { join, resolve } from 'node:path';
import { encodePem, looksLikePem, PemLabel } from '../core/der/pem.js';
import { PkiError } from '../core/errors.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKey, keysMatch, keySpecOf, spkiDer } from '../core/keys/keys.js';
import { subjectOf } from '../core/lifecycle/renewal.js';
import { certificatePublicKey, parseCertificate, type CertificateFields } from '../core/x509/certificate-fields.js';
import { certificatesInFile } from '../core/x509/certificate-file.js';
import { buildCsr } from '../core/x509/csr.js';
import { isIssuedBy } from '../core/x509/issued-by.js';
import { normalizeSerial } from '../core/x509/serial.js';
import { postRenew } from '../net/renew-client.js';
import { FileMode } from '../store/ca-home.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { fileExists, readBytes } from '../store/fs/read-file.js';
import { fileOwnership, liveFilePath, publishVersion, versionedEntry, type VersionFile } from '../store/fs/versioned-folder.js';
import type { DaemonRenewal } from './renew-daemon.js';

export interface RemoteRenewRequest {
  readonly certificatePath: string;
  /** Its key; default: the `.key` beside a bundle certificate. */
  readonly keyPath?: string;
  readonly caUrl: string;
  /** --roots: PEM text of the root(s) the server and the new chain must lead to. */
  readonly rootsPem: string;
  readonly rekey: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Where the pair lives: a bundle's folder and names, or two plain files. */
interface Located {
  readonly bundle: { readonly folder: string; readonly certName: string; readonly keyName: string | null } | null;
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * Where the pair lives, refused when it cannot work at all (no key found, --rekey on a plain file): the
 * daemon checks this once at start, so a misconfiguration exits instead of being retried for ever.
 */
export function locate(request: Pick<RemoteRenewRequest, 'certificatePath' | 'keyPath' | 'rekey'>): Located {
  const certPath = resolve(request.certificatePath);
  const entry = versionedEntry(certPath);
  if (entry) {
    const keyEntry = request.keyPath !== undefined ? versionedEntry(request.keyPath) : null;
    const sibling = entry.name.replace(/\.(crt|pem|cer)$/, '') + '.key';
    const keyName = keyEntry && keyEntry.folder === entry.folder ? keyEntry.name : request.keyPath === undefined && fileExists(liveFilePath(entry.folder, sibling)) ? sibling : null;
    const keyPath = keyName !== null ? join(entry.folder, keyName) : request.keyPath !== undefined ? resolve(request.keyPath) : null;
    if (keyPath === null) throw new PkiError('ERR_FILE_NOT_FOUND', `no key found for ${certPath} (looked for ${sibling} beside it)`, { hint: 'name the key file: pki renew --daemon <cert-file> <key-file>' });
    if (request.rekey && keyName === null) {
      throw new PkiError('ERR_POLICY', `${keyPath} is not in the same bundle folder as ${certPath}`, { hint: 'a key and its certificate switch together only inside one bundle folder (docs/bundle-layout.md)' });
    }
    return { bundle: { folder: entry.folder, certName: entry.name, keyName }, certPath, keyPath };
  }
  if (request.rekey) {
    throw new PkiError('ERR_POLICY', `--rekey needs the bundle layout: ${certPath} is a plain file, and a certificate and a key in two files cannot be replaced together atomically`, {
      hint: 'renew without --rekey (the key stays), or keep the pair in a bundle folder (docs/bundle-layout.md)',
    });
  }
  if (request.keyPath === undefined) throw new PkiError('ERR_USAGE', `name the key of ${certPath}: pki renew --daemon <cert-file> <key-file> --ca-url URL`);
  return { bundle: null, certPath, keyPath: resolve(request.keyPath) };
}

/** The chain the server answered, checked to certify `key` under one of the roots; returns leaf and chain. */
function checkAnswer(body: Buffer, publicKey: import('node:crypto').KeyObject, rootsPem: string): { leaf: CertificateFields; chain: Uint8Array[] } {
  const chain = certificatesInFile(body, 'the answer of the CA');
  const leaf = parseCertificate(chain[0]!);
  const intermediate = chain[1] ? parseCertificate(chain[1]) : null;
  const roots = certificatesInFile(Buffer.from(rootsPem), '--roots').map((d) => parseCertificate(d));
  const wrong = (why: string) => new PkiError('ERR_UNTRUSTED_CERTIFICATE', `the CA answered with a certificate that ${why}; nothing was written`, { hint: 'check that --ca-url names this CA and --roots holds its root' });
  if (!Buffer.from(leaf.spkiDer).equals(spkiDer(publicKey))) throw wrong('does not certify this key');
  if (intermediate === null || !isIssuedBy(leaf, intermediate)) throw wrong('is not signed by the intermediate sent with it');
  if (!roots.some((r) => isIssuedBy(intermediate, r))) throw wrong('does not chain to --roots');
  return { leaf, chain };
}

/** Asks the CA for the successor of the certificate and switches the files; throws what failed (nothing written then). */
export async function renewOverMtls(request: RemoteRenewRequest): Promise<DaemonRenewal> {
  const where = locate(request);
  const certBytes = readBytes(where.certPath);
  const pem = looksLikePem(certBytes);
  const presented = certificatesInFile(certBytes, where.certPath);
  const fields = parseCertificate(presented[0]!);
  const keyPem = readBytes(where.keyPath).toString('latin1');
  const key = importPrivateKey(keyPem);
  if (!keysMatch(key, certificatePublicKey(fields))) {
    throw new PkiError('ERR_KEY_MISMATCH', `${where.keyPath} is not the key of ${where.certPath}`, { hint: 'give the key file that belongs to this certificate' });
  }
  const newKeys = request.rekey ? await generateKeyPair(keySpecOf(certificatePublicKey(fields))) : null;
  const answer = await postRenew({
    caUrl: request.caUrl,
    certificatePem: presented.map((d) => encodePem(PemLabel.certificate, d)).join(''),
    keyPem: exportPrivateKeyPem(key),
    rootsPem: request.rootsPem,
    ...(newKeys ? { csrDer: buildCsr({ subject: subjectOf(fields), sans: [], privateKey: newKeys.privateKey }) } : {}),
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  if (answer.status !== 200) {
    let detail = answer.body.toString('utf8').slice(0, 300);
    try {
      detail = String((JSON.parse(detail) as { detail?: unknown }).detail ?? detail);
    } catch {
      /* not JSON: the text as it came */
    }
    throw new PkiError('ERR_RENEW_FAILED', `the CA refused the renewal (HTTP ${answer.status}): ${detail}`, { hint: 'see the pki serve log; a revoked, expired or foreign certificate needs a new one issued' });
  }
  const { leaf, chain } = checkAnswer(answer.body, newKeys?.publicKey ?? certificatePublicKey(fields), request.rootsPem);
  const content = pem ? chain.map((d) => encodePem(PemLabel.certificate, d)).join('') : chain[0]!;
  writeSwitch(where, content, newKeys ? exportPrivateKeyPem(newKeys.privateKey) : null);
  return { serial: normalizeSerial(fields.serial), newSerial: normalizeSerial(leaf.serial), notAfter: leaf.notAfter, rekeyed: newKeys !== null };
}

/** The switch: one rename of the bundle's version link (certificate and key together), or of the plain file. */
function writeSwitch(where: Located, content: string | Uint8Array, newKeyPem: string | null): void {
  const own = fileOwnership(where.certPath);
  if (where.bundle) {
    const { folder, certName, keyName } = where.bundle;
    const files: VersionFile[] = [{ name: certName, content, ...own, mode: own.mode & 0o666 }];
    if (newKeyPem !== null && keyName !== null) {
      const k = fileOwnership(where.keyPath);
      files.push({ name: keyName, content: newKeyPem, uid: k.uid, gid: k.gid, mode: FileMode.privateKey | (k.mode & 0o040) });
    }
    publishVersion(folder, files, { noClobber: false, keepOthers: true });
    return;
  }
  writeFileAtomic(where.certPath, content, { mode: own.mode & 0o666, overwrite: true, uid: own.uid, gid: own.gid });
}
