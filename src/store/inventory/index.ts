/**
 * The inventory: every certificate pki issued, its status and where it was written. A small interface
 * so that a second backend (PostgreSQL, for teams that outgrow one machine) is an implementation, not a
 * rewrite. Every method is one transaction.
 */
import type { SanSet } from '../../core/x509/names.js';
import type { RevocationReason } from '../../core/x509/revocation-reason.js';

export type CertificateKind = 'x509' | 'ssh';
export type CertificateStatus = 'valid' | 'revoked' | 'superseded';
/** X.509 profiles plus the two OpenSSH certificate types. */
export type InventoryProfile = 'root' | 'intermediate' | 'server' | 'client' | 'peer' | 'ssh-user' | 'ssh-host';

export interface NewCertificateRecord {
  readonly kind: CertificateKind;
  /** Upper-case hex without leading zeros (core/x509/serial.ts normalizeSerial); SSH serials in hex too. */
  readonly serial: string;
  readonly subject: string;
  readonly sans: SanSet;
  readonly profile: InventoryProfile;
  /**
   * The pki.json profile (`--profile NAME`) a leaf was issued with, which `pki renew` keeps; null or absent
   * when none was recorded (init's CAs, SSH, records from before schema v6): `profile` then names it.
   */
  readonly profileName?: string | null;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
  /** Where the certificate and its key were written (null when printed to stdout or not kept). */
  readonly certificatePath: string | null;
  readonly keyPath: string | null;
  /** The certificate itself: PEM for X.509, the OpenSSH line for SSH. */
  readonly pem: string;
  /** Serial of the certificate this one renews, marked superseded in the same transaction. */
  readonly supersedes?: string | null;
  /** SSH key id (for `pki ssh revoke <key-id>`); null for X.509. */
  readonly keyId?: string | null;
  /**
   * The issuing CA's name (issue 14): null or absent for the default intermediate (`ca/intermediate_ca.*`),
   * else the `pki ca add NAME` CA (`ca/NAME/`). Within `trustDomain` when that is set.
   */
  readonly ca?: string | null;
  /** The trust domain (`domains/NAME/`, `--trust-domain NAME`) whose CA issued it; null or absent for the main hierarchy. */
  readonly trustDomain?: string | null;
  /**
   * The issuer's key identifier (the certificate's authorityKeyIdentifier, upper-case hex), so the CRL and
   * OCSP answers of each intermediate key list only what that key signed, after a rotation as well.
   */
  readonly issuerKeyId?: string | null;
}

export interface CertificateRecord extends NewCertificateRecord {
  readonly status: CertificateStatus;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
  readonly revocationReason: RevocationReason | null;
  readonly supersededBy: string | null;
  /**
   * Set on a record `pki init --force` carried over from the CA it replaced: the SHA-256 fingerprint of that
   * CA's intermediate certificate (archived as ca/previous/<fingerprint>/intermediate_ca.crt). Null or absent
   * for certificates of the current CA.
   */
  readonly previousCa?: string | null;
}

/** A record's identity, status, validity and paths. */
export type CertificateSummary = Pick<CertificateRecord, 'kind' | 'serial' | 'profile' | 'status' | 'notBefore' | 'notAfter' | 'certificatePath' | 'keyPath' | 'previousCa'>;

/** A valid record as `pki check` reads it: what the table, the textfile and the on-disk comparison need, no PEM. */
export type CheckRecord = Pick<CertificateRecord, 'kind' | 'serial' | 'profile' | 'subject' | 'issuer' | 'notBefore' | 'notAfter' | 'fingerprintSha256' | 'certificatePath' | 'previousCa'>;

/** One revoked certificate, as a CRL lists it. */
export interface RevocationEntry {
  readonly serial: string;
  readonly profile: InventoryProfile;
  /** The issuer's name as the record has it: the root's CRL also lists leaves the root signed itself (an imported CA's). */
  readonly issuer: string;
  readonly revokedAt: string;
  readonly revocationReason: RevocationReason | null;
}

/**
 * A counter of the inventory: the default intermediate's CRL Number ('crl'), the root's ('root-crl'), the
 * KRL version ('krl'), and since issue 14 one CRL Number per further issuing CA or trust domain
 * (`crl:<ca>`, `crl@<domain>`, `root-crl@<domain>`; store/issuing-ca.ts names them).
 */
export type SequenceName = 'crl' | 'root-crl' | 'krl' | `crl:${string}` | `crl@${string}` | `root-crl@${string}`;

/**
 * Which issuer's certificates a CRL or OCSP pass wants (issue 14; absent: every issuer, as before). Records
 * whose issuer_key_id is null (written before schema v8) count as signed by `issuerKeyId`: `pki ca rotate`
 * stamps them with the old key's identifier first.
 */
export interface IssuerScope {
  /** Null: the main hierarchy. */
  readonly trustDomain: string | null;
  /** The issuing CA (null: the default intermediate); undefined: any CA of the trust domain (the root's CRL). */
  readonly ca?: string | null;
  /** Only what this key signed (upper-case hex key identifier). */
  readonly issuerKeyId?: string | null;
}

export interface ListFilter {
  readonly kind?: CertificateKind;
  readonly status?: CertificateStatus;
  /** Only certificates whose notAfter is before this time. */
  readonly expiringBefore?: Date;
}

export interface Inventory {
  /** The database file. Its folder (the CA home's `db/`, 0700) also holds the inventory journals. */
  readonly path: string;
  /**
   * Records newly issued certificates, all or none. Duplicate serials are refused (ERR_DUPLICATE_SERIAL).
   * A valid X.509 record written to the same certificatePath as a new one is marked superseded by it (a
   * path holds one current certificate), as is the record named by `supersedes`.
   */
  recordIssued(records: readonly NewCertificateRecord[]): void;
  /**
   * `pki db rebuild`: adds the records whose serial is not yet known, all in one transaction, and returns
   * how many were added. Existing records are left as they are.
   */
  importMissing(records: readonly NewCertificateRecord[]): number;
  find(kind: CertificateKind, serial: string): CertificateRecord | undefined;
  list(filter?: ListFilter): CertificateRecord[];
  /**
   * What `list` returns, in the same order, without the PEM, subject and SANs: for passes over the whole
   * inventory such as `pki renew --all`, where 100,000 full records would take seconds and ~0.5 GB.
   */
  listSummaries(filter?: ListFilter): CertificateSummary[];
  /**
   * For `pki renew --all` without materialising the certificates that are not due: the valid X.509 leaf
   * (server, client, peer) summaries that may be due at `now` — decided in SQL on the indexed columns, a
   * superset by up to a second that the caller confirms with core/lifecycle/renewal.ts isRenewalDue — in
   * listSummaries order; how many valid X.509 leaf certificates there are in all; and whether two of them
   * share a certificate path (then the caller needs the whole list, since one path is renewed once).
   */
  renewalCandidates(now: Date, policy: { threshold: number } | { expiresWithinMs: number }): { candidates: CertificateSummary[]; total: number; sharedPaths: boolean };
  /**
   * Valid records carried over from a replaced CA (`previousCa` set), serial → that CA's intermediate
   * fingerprint: `pki renew --all` re-issues them whatever their dates (renewalCandidates includes them).
   */
  previousCaSerials(): Map<string, string>;
  /**
   * `pki check`: every valid X.509 record (expired ones included) and the valid SSH records not yet expired
   * at `now`, in no particular order, in one query without the PEM and SANs.
   */
  listForCheck(now: Date): CheckRecord[];
  /**
   * Marks valid records superseded without a successor: clients `generate --force` no longer writes, files
   * `renew --all --prune` found gone. Returns how many changed; other statuses are left as they are.
   */
  retire(kind: CertificateKind, serials: readonly string[]): number;
  /** Marks a certificate revoked; ERR_UNKNOWN_SERIAL / ERR_ALREADY_REVOKED otherwise. */
  revoke(kind: CertificateKind, serial: string, at: Date, reason: RevocationReason): CertificateRecord;
  /** Revoked certificates that have not yet expired at `now`, for the CRL or KRL. */
  listRevokedUnexpired(kind: CertificateKind, now: Date): CertificateRecord[];
  /**
   * The same certificates as listRevokedUnexpired, in revocation order, with only what a CRL entry needs:
   * a CRL of 100,000 entries is built from a few MB instead of every record's PEM.
   */
  listRevocations(kind: CertificateKind, now: Date, scope?: IssuerScope): RevocationEntry[];
  /**
   * A cheap change indicator for long-running readers (pki serve's OCSP cache polls it every 200 ms):
   * differs from the value before whenever a certificate of `kind` was revoked since, by this process or
   * another (`pki revoke` in a shell). Compare, never interpret.
   */
  revocationMark(kind: CertificateKind): string;
  /**
   * What a CRL lists: the entries of listRevocations without the root and intermediate records, same
   * order, read as they are consumed (a CRL of 100,000 entries is encoded straight from the index rows).
   * Make no other inventory call before the iteration ends: the connection is busy until then.
   */
  iterateLeafRevocations(kind: CertificateKind, now: Date, scope?: IssuerScope): IterableIterator<Omit<RevocationEntry, 'profile' | 'issuer'>>;
  /**
   * Allocates the next CRL Number (intermediate's 'crl', root's 'root-crl') or KRL version: strictly increasing across processes, and at least
   * `atLeast` when given (the number of the CRL already published, after a rebuild).
   */
  nextSequenceNumber(name: SequenceName, atLeast?: bigint): bigint;
  /**
   * The number nextSequenceNumber last allocated and the identity of the file published under it
   * (notePublished), when known: the CRL on disk need not be decoded to learn its number when it is
   * still that file.
   */
  lastPublished(name: SequenceName): { readonly number: bigint; readonly file: string | null } | undefined;
  /** Records `file` (an identity, e.g. device, inode, size and times) as published under the current number. */
  notePublished(name: SequenceName, file: string): void;
  /**
   * Runs `fn` holding the inventory's write lock, as one transaction: inventory calls inside it join it,
   * and nothing is committed if it throws. `fn` must be synchronous. Used to revoke and publish the CRL
   * as one step, so CRL files are written in CRL Number order even with concurrent publishers.
   */
  exclusive<T>(fn: () => T): T;
  close(): void;
}

export { openInventory, inventoryExists, probeInventoryForInit } from './open.js';
