/**
 * Service bundles on disk: `<out>/<service>/<variant>/certs/`. Reads what an existing bundle holds so
 * `generate` can tell up-to-date from different from partial, and writes a new one as a versioned folder
 * (store/fs/versioned-folder.ts, docs/bundle-layout.md): every file is a link `name -> ..data/name`, and a whole
 * bundle or one renewed pair changes in one rename.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BundleRequest, ExistingBundle } from '../core/lifecycle/bundle.js';
import { certificatePublicKey, parseCertificate } from '../core/x509/certificate-fields.js';
import { decodeSubjectAltName } from '../core/x509/extension-decoders.js';
import { keySpecOf } from '../core/keys/keys.js';
import { parseSans } from '../core/x509/names.js';
import { findPemBlock, PemLabel } from '../core/der/pem.js';
import { ensureFolder, readText } from './ca-home.js';
import { TEMP_PREFIX } from './fs/atomic-write.js';
import { recoverVersionedFolder, type VersionFile } from './fs/versioned-folder.js';
import { publishVersionRecorded, type SettledJournal } from './inventory/journal.js';
import type { Inventory, NewCertificateRecord } from './inventory/index.js';

/** The folder a bundle lives in; names were validated, and the result is checked to stay inside `out`. */
export function bundleFolder(out: string, request: Pick<BundleRequest, 'service' | 'variant'>): string {
  return join(resolve(out), request.service, request.variant, 'certs');
}

function listFiles(folder: string): string[] {
  try {
    // `..data`, version folders and the lock are the layout's own names, not bundle files.
    return readdirSync(folder).filter((n) => !n.startsWith(TEMP_PREFIX) && !n.startsWith('..'));
  } catch {
    return [];
  }
}

/** What is on disk now. Unreadable or foreign files count as present but undescribed. */
export function readExistingBundle(folder: string, request: BundleRequest, currentRootPem: string, currentIssuerSubjectDer?: Uint8Array): ExistingBundle {
  const files = listFiles(folder);
  const serviceCert = `${request.service}.crt`;
  let serviceSans: ExistingBundle['serviceSans'] = null;
  let serviceKeySpec: ExistingBundle['serviceKeySpec'] = null;
  let sameIssuer: boolean | null = null;
  if (files.includes(serviceCert)) {
    try {
      const leaf = certificateIn(join(folder, serviceCert));
      // Which issuing CA (`pki ca add`, issue 14): several share the root, so ca.crt alone cannot tell.
      if (currentIssuerSubjectDer) sameIssuer = Buffer.from(leaf.issuerDer).equals(Buffer.from(currentIssuerSubjectDer));
      const san = decodeSubjectAltName(leaf);
      serviceSans = parseSans([...san.dns, ...san.ip, ...san.email, ...san.uri]);
      serviceKeySpec = keySpecOf(certificatePublicKey(leaf));
    } catch {
      serviceSans = [];
    }
  }
  const validities = new Map<string, { notBefore: Date; notAfter: Date }>();
  for (const name of files.filter((n) => n.endsWith('.crt') && n !== 'ca.crt')) {
    try {
      const { notBefore, notAfter } = certificateIn(join(folder, name));
      validities.set(name, { notBefore, notAfter });
    } catch {
      /* unreadable: no validity to compare */
    }
  }
  let sameTrustAnchor: boolean | null = null;
  if (files.includes('ca.crt')) sameTrustAnchor = readText(join(folder, 'ca.crt')).trim() === currentRootPem.trim();
  const clients = files
    .filter((n) => n.endsWith('.crt') && n !== 'ca.crt' && n !== serviceCert)
    .map((n) => n.slice(0, -4))
    .sort();
  return { files, serviceSans, serviceKeySpec, clients, sameTrustAnchor, sameIssuer, validities };
}

/**
 * Cleans up after a killed writer (orphan versions, temp links) so the bundle reads as it really is. A
 * leftover inventory journal is settled separately (settleBundleJournal), since that needs the inventory.
 */
export function recoverBundle(folder: string): void {
  if (existsSync(folder)) recoverVersionedFolder(folder);
}

/**
 * Writes a whole bundle as one new version and records its certificates in the inventory, through the
 * folder's inventory journal (store/inventory/journal.ts). Without `replace`, any existing name is an
 * ERR_FILE_EXISTS refusal before anything is written; with it, the bundle switches to the new files in one
 * rename. Returns what a leftover journal settled first held, if any.
 */
export function writeBundle(
  folder: string,
  files: readonly VersionFile[],
  replace: boolean,
  records: readonly NewCertificateRecord[],
  inventory: Inventory,
  now?: Date,
): SettledJournal | null {
  ensureFolder(folder);
  return publishVersionRecorded(folder, files, { noClobber: !replace, keepOthers: false }, records, inventory, now).settled;
}

/**
 * Certificate files under services/: `*.crt` in `certs` folders, skipping hidden entries (old versions, temp
 * files); and the `certs` folders themselves, whose inventory journals a rebuild settles first.
 */
export function serviceCertificateFiles(root: string, folders: Set<string>): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    if (dir.endsWith('certs')) folders.add(dir);
    for (const name of names) {
      if (name.startsWith('.') || name.startsWith(TEMP_PREFIX)) continue;
      const path = join(dir, name);
      let st;
      try {
        st = statSync(path); // follows the symlink of a versioned bundle folder
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < 6) walk(path, depth + 1);
      else if (st.isFile() && name.endsWith('.crt') && name !== 'ca.crt' && dir.endsWith('certs')) out.push(path);
    }
  };
  walk(root, 0);
  return out;
}

/** The certificate a bundle file holds (its first CERTIFICATE block); throws when there is none. */
function certificateIn(path: string): ReturnType<typeof parseCertificate> {
  const block = findPemBlock(readText(path), PemLabel.certificate);
  if (!block) throw new Error(`${path} holds no certificate`);
  return parseCertificate(block.der);
}
