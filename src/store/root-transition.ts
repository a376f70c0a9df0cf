/**
 * A root rotation in progress (`pki ca rotate-root`, issue 14): from the rotation until `--finish`, the CA
 * home keeps the old root beside the new one, with the two cross certificates of RFC 4210 §4.4:
 *
 *   ca/root_ca.crt, ca/root_ca.key      the new root (the old key is moved to ca/cross/old_root_ca.key: take it offline)
 *   ca/cross/old_root_ca.crt            the old self-signed root
 *   ca/cross/new_with_old.crt           "newWithOld": the new root's key certified by the old root
 *   ca/cross/old_with_new.crt           "oldWithNew": the old root's key certified by the new root
 *
 * While these are there, a bundle's ca.crt holds both roots and every chain pki writes is leaf +
 * intermediate + newWithOld, so a client that trusts only the old root reaches it through the cross
 * certificate, and one that trusts only the new root stops at the intermediate's issuer.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { compactTimestamp } from '../core/time.js';
import { readText } from './fs/read-file.js';

export interface RootTransitionFiles {
  readonly dir: string;
  readonly oldRootCertPath: string;
  readonly oldRootKeyPath: string;
  readonly newWithOldPath: string;
  readonly oldWithNewPath: string;
}

export function rootTransitionFiles(caDir: string): RootTransitionFiles {
  const dir = join(caDir, 'cross');
  return {
    dir,
    oldRootCertPath: join(dir, 'old_root_ca.crt'),
    oldRootKeyPath: join(dir, 'old_root_ca.key'),
    newWithOldPath: join(dir, 'new_with_old.crt'),
    oldWithNewPath: join(dir, 'old_with_new.crt'),
  };
}

/** True between `pki ca rotate-root` and `pki ca rotate-root --finish`. */
export function inRootTransition(caDir: string): boolean {
  return existsSync(rootTransitionFiles(caDir).newWithOldPath);
}

/** What a bundle's ca.crt holds: the root, and during a transition the old root after it. */
export function trustAnchorsPem(caDir: string, rootPem: string): string {
  if (!inRootTransition(caDir)) return rootPem;
  return rootPem + readText(rootTransitionFiles(caDir).oldRootCertPath);
}

/** What follows the intermediate in the chains pki writes: newWithOld during a transition, else nothing. */
export function chainTailPem(caDir: string): string {
  return inRootTransition(caDir) ? readText(rootTransitionFiles(caDir).newWithOldPath) : '';
}

/** True when the certificate file at `path` holds `intermediatePem` (its chain is the current one), or is gone. */
export function carriesChainOf(path: string, intermediatePem: string): boolean {
  return !existsSync(path) || readText(path).includes(intermediatePem);
}

/** `--finish`: the old root and the cross certificates moved to `ca/cross-finished-<time>/`; returns that folder. */
export function setAsideRootTransition(caDir: string, now: Date): string {
  const archived = join(caDir, `cross-finished-${compactTimestamp(now)}`);
  renameSync(rootTransitionFiles(caDir).dir, archived);
  return archived;
}
