/** The file shapes generate's two paths (a whole new bundle, an update) share. */
import { join } from 'node:path';
import type { VersionFile } from '../store/fs/versioned-folder.js';

/** One file of a generate report: where it is, what it is, and a certificate's serial. */
export interface IssuedFile {
  readonly path: string;
  readonly role: string;
  readonly serial?: string;
}

/** A file of the new bundle version, with its role and serial for the report. */
export type BundleFileOut = Omit<VersionFile, 'content'> & { readonly content: string; readonly role: string; readonly serial?: string };

export const bundlePath = (folder: string, name: string): string => join(folder, name);

/** The report's view of the files written. */
export function issuedFiles(folder: string, files: readonly BundleFileOut[]): IssuedFile[] {
  return files.map((f) => ({ path: bundlePath(folder, f.name), role: f.role, ...(f.serial ? { serial: f.serial } : {}) }));
}
