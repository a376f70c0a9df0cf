/** Shared by test/store/bundle-crash.test.ts and test/store/journal-crash.test.ts. */
import { readdirSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { peer } from './peers.js';

/** Every step of a bundle write, in order: the version switch (from version:swapped on, the new files are live) and the journal. */
export const STEPS = [
  'version:created',
  'version:wrote:redis.crt',
  'version:wrote:redis.key',
  'version:complete',
  'journal:written',
  'version:linked-new',
  'version:link-tmp',
  'version:swapped',
  'version:unlinked-old',
  'version:removing-old',
  'journal:recorded',
  'journal:removed',
] as const;

export const serialOf = (path: string) =>
  peer('openssl', ['x509', '-in', path, '-noout', '-serial'])
    .trim()
    .replace(/^serial=0*/, '');

/**
 * The inventory matches the files: each certificate file's serial is recorded `valid` at that path, and
 * no other record at that path is `valid`.
 */
export function expectInventoryMatches(dir: string, paths: readonly string[]): void {
  const db = new Database(join(dir, 'db', 'pki.sqlite'), { readonly: true, fileMustExist: true });
  try {
    for (const path of paths) {
      const serial = serialOf(path);
      const row = db.prepare("SELECT status, certificate_path AS path FROM certificates WHERE kind = 'x509' AND serial = ?").get(serial) as { status: string; path: string } | undefined;
      // The inventory stores paths inside the CA home relative to it (issue 9, docs/inventory.md).
      const stored = path.startsWith(`${dir}/`) ? relative(dir, path) : path; // outside the home: absolute
      expect(row, `${path}: serial ${serial} is not in the inventory`).toEqual({ status: 'valid', path: stored });
      const valid = db.prepare("SELECT serial FROM certificates WHERE certificate_path = ? AND status = 'valid'").pluck().all(stored);
      expect(valid, `${path}: valid records`).toEqual([serial]);
    }
  } finally {
    db.close();
  }
}
export const bundleCerts = (folder: string) => ['redis.crt', 'client.crt'].map((n) => join(folder, n));

export const certsOf = (dir: string, variant: string) => join(dir, 'services', 'redis', variant, 'certs');

export function publicKeyOfCertificate(path: string): string {
  return peer('openssl', ['x509', '-in', path, '-noout', '-pubkey']);
}
export function publicKeyOfKey(path: string): string {
  return peer('openssl', ['pkey', '-in', path, '-pubout']);
}

/** Every cert/key pair of the bundle matches, read through the public names as a service would. */
export function expectMatchingPairs(folder: string): void {
  for (const name of ['redis', 'client']) {
    expect(publicKeyOfCertificate(join(folder, `${name}.crt`)), `${name} pair`).toBe(publicKeyOfKey(join(folder, `${name}.key`)));
  }
  const v = peer('openssl', ['verify', '-CAfile', join(folder, 'ca.crt'), '-untrusted', join(folder, 'redis.crt'), join(folder, 'redis.crt')]);
  expect(v.trim()).toMatch(/: OK$/);
}

/** Names a killed run may leave: temp links/files, version folders `..data` does not name, a lock. */
export function leftovers(folder: string): string[] {
  const live = readlinkSync(join(folder, '..data'));
  return readdirSync(folder).filter((n) => (n.startsWith('..') && n !== '..data' && n !== live) || n.startsWith('.pki-tmp-'));
}

