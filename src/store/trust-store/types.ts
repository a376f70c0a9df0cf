/**
 * What `pki trust` plans and the stores it plans for (docs/trust.md). A plan is a list of steps — files
 * written or removed, folders made, programs run — that the CLI either carries out (store/trust-store/
 * run-steps.ts) or prints as a shell script; a store adapter (system-store.ts, nss.ts, java.ts) knows its
 * paths, whether the root is in it now, and the steps that add or remove it.
 */

export type TrustStoreKind = 'system' | 'nss' | 'java';

export type TrustStep =
  /** `data` into `path`, replacing it (the file name is pki's own); `from` is the root file it came from, for the printed form. */
  | { readonly kind: 'write'; readonly path: string; readonly data: string; readonly mode: number; readonly from: string; readonly fromIsSame: boolean }
  | { readonly kind: 'remove'; readonly path: string }
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  /** A program by its bare name, found at run time in the system folders (and `searchDirs` first). */
  | { readonly kind: 'run'; readonly argv: readonly [string, ...string[]]; readonly timeoutMs: number; readonly searchDirs?: readonly string[] };

/** The root as the stores see it: its bytes, the names pki gives it, and where it was read from. */
export interface TrustRoot {
  readonly file: string;
  readonly der: Uint8Array;
  /** The PEM pki writes (RFC 7468, 64 columns). */
  readonly pem: string;
  /** The root file holds exactly `pem`: the printed form copies it (`install -m 0644`) instead of spelling it out. */
  readonly fileIsPem: boolean;
  /** `pki-<CN slug>-<first 8 hex of SHA-256>`: the file name (plus .crt), the NSS nickname and the Java alias. */
  readonly label: string;
  /** SHA-1, upper-case hex: macOS `security delete-certificate -Z` takes it. */
  readonly sha1: string;
  readonly commonName: string | undefined;
}

export interface TrustStore {
  readonly kind: TrustStoreKind;
  /** What its status line names: the anchor file, `sql:<dir>`, the keystore. */
  readonly location: string;
  /** Whether the root is in it now; undefined when that cannot be known on this host (another platform's store). */
  installed(): boolean | undefined;
  /** The steps that put the root in (only those still needed when it is half there). */
  installSteps(): TrustStep[];
  /** The steps that take out what installSteps put in (`installed`: what installed() said); none when there is nothing of pki's. */
  uninstallSteps(installed: boolean | undefined): TrustStep[];
}

/** Bounds for the programs pki runs: the Debian hook rebuilds Java's cacerts with a JVM, which can take a while on a busy host. */
export const TIMEOUT_MS = { refresh: 300_000, certutil: 60_000, keytool: 120_000, security: 60_000 } as const;
