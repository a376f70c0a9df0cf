/**
 * The writes of a renewal: the new certificate (and key) switched together with its inventory record,
 * journaled (store/inventory/journal.ts), keeping the old files' owner, group and permission bits.
 */
import { FileMode, fileExists, readText, type CaHome } from '../store/ca-home.js';
import { fileOwnership, liveFilePath, type VersionFile } from '../store/fs/versioned-folder.js';
import type { InventoryProfile } from '../store/inventory/index.js';
import { publishVersionRecorded, replaceFileRecorded, type FileIdentity } from '../store/inventory/journal.js';
import { certificateRecord } from '../store/inventory/record.js';
import type { RenewSession } from './renew-session.js';

/** The renewed certificate: its DER, the bytes written (PEM chain or DER), and what its record says. */
export interface RenewedCertificate {
  readonly der: Uint8Array;
  readonly content: string | Uint8Array;
  readonly profile: InventoryProfile;
  /** The pki.json profile it was issued with (recorded so the next renewal keeps it). */
  readonly profileName: string;
  readonly certificatePath: string;
  readonly keyPath: string | null;
  /** The serial it replaces (marked superseded). */
  readonly supersedes: string;
}

/** Certificate files keep their permission bits, without set-uid/set-gid/sticky or execute bits. */
const certificateMode = (mode: number) => mode & 0o666;
/**
 * A new key is 0600, or 0640 when the old one was group-readable as `generate --key-mode 0640` makes it.
 * Nothing else is copied: not group write, not set-uid/set-gid/sticky bits, and a key someone made
 * readable by others (not a mode pki writes) gets 0600 (docs/security.md).
 */
const keyMode = (mode: number) => ((mode & 0o007) === 0 ? FileMode.privateKey | (mode & 0o040) : FileMode.privateKey);

const recordOf = (session: RenewSession, renewed: RenewedCertificate) =>
  certificateRecord(renewed.der, { profile: renewed.profile, profileName: renewed.profileName, certificatePath: renewed.certificatePath, keyPath: renewed.keyPath, supersedes: renewed.supersedes, ...session.home.recordColumns });

/**
 * A bundle's new version: the certificate, the new key under --rekey, and the current root as ca.crt when
 * the bundle's is stale; the other files carried over. Returns whether ca.crt was replaced.
 */
export function writeRenewedBundle(session: RenewSession, folder: string, certName: string, renewed: RenewedCertificate, newKey: { name: string; pem: string } | null): boolean {
  const record = recordOf(session, renewed);
  const cert = fileOwnership(liveFilePath(folder, certName));
  const files: VersionFile[] = [{ name: certName, content: renewed.content, ...cert, mode: certificateMode(cert.mode) }];
  if (newKey) {
    const key = fileOwnership(liveFilePath(folder, newKey.name));
    files.push({ name: newKey.name, content: newKey.pem, ...key, mode: keyMode(key.mode) });
  }
  const anchor = staleTrustAnchor(session.home, folder);
  if (anchor) files.push(anchor);
  publishVersionRecorded(folder, files, { noClobber: false, keepOthers: true }, [record], session.inventory, session.now);
  return anchor !== null;
}

/** A plain file replaced by one atomic rename at `plain.writePath`, which must still be the file that was read. */
export function writeRenewedFile(session: RenewSession, plain: { readonly writePath: string; readonly identity: FileIdentity }, renewed: RenewedCertificate): void {
  const record = recordOf(session, renewed);
  const own = fileOwnership(plain.writePath);
  const options = { mode: certificateMode(own.mode), overwrite: true, uid: own.uid, gid: own.gid };
  replaceFileRecorded(renewed.certificatePath, plain.writePath, renewed.content, options, record, session.inventory, plain.identity);
}

/**
 * A bundle's ca.crt that is not the current root (the CA was replaced with `init --force`): the file that
 * replaces it in the renewed version, so the bundle verifies again. Null when it is current or absent.
 */
function staleTrustAnchor(home: CaHome, folder: string): VersionFile | null {
  const live = liveFilePath(folder, 'ca.crt');
  if (!fileExists(live)) return null;
  const rootPem = home.readRootCertificatePem();
  if (readText(live).trim() === rootPem.trim()) return null;
  return { name: 'ca.crt', content: rootPem, ...fileOwnership(live) };
}
