/**
 * The files `pki export` reads and the refusal it makes before writing (docs/export.md). A bundle's
 * certificate, key and ca.crt are read from one version folder (`..data` resolved once,
 * docs/bundle-layout.md), so a renewal switching versions between two reads cannot pair a new certificate
 * with an old key.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { PkiError } from '../core/errors.js';
import { bundleFolder } from './service-bundle.js';
import { readBytes } from './fs/read-file.js';

/** A key or certificate file is small; a cap keeps a wrong path (a disk image, /dev/zero) from filling memory. */
const MAX_INPUT_BYTES = 1024 * 1024;

export interface BundlePairFiles {
  /** The bundle's `certs` folder, for messages. */
  readonly folder: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** `<name>.crt`: the leaf, then the intermediate. */
  readonly cert: Buffer;
  /** `<name>.key`: PKCS#8 PEM. */
  readonly key: Buffer;
  /** `ca.crt`: the root, or null when the bundle has none. */
  readonly ca: Buffer | null;
}

function kindOf(path: string): 'absent' | 'file' | 'folder' | 'other' {
  try {
    const st = statSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch {
    return 'absent';
  }
}

/** The live version folder of a versioned bundle, or the folder itself for a plain one. */
function liveVersion(folder: string): string {
  try {
    return realpathSync(join(folder, '..data'));
  } catch {
    return folder;
  }
}

/** The clients a bundle holds: every `<name>.crt` besides ca.crt and the service's own. */
function bundleClients(version: string, service: string): string[] {
  try {
    return readdirSync(version)
      .filter((n) => n.endsWith('.crt') && n !== 'ca.crt' && n !== `${service}.crt` && !n.startsWith('.'))
      .map((n) => n.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The server's (or, with `client`, that client's) certificate and key of `<servicesDir>/<service>/<variant>`.
 * ERR_FILE_NOT_FOUND for a bundle or client that is not there (the hint lists the clients there are),
 * ERR_BUNDLE_PARTIAL for a certificate without its key.
 */
export function readBundlePair(servicesDir: string, service: string, variant: string, client?: string): BundlePairFiles {
  const folder = bundleFolder(servicesDir, { service, variant });
  if (kindOf(folder) !== 'folder') {
    throw new PkiError('ERR_FILE_NOT_FOUND', `there is no bundle ${service}/${variant} (no folder ${folder})`, {
      hint: `check the names with "pki list", or issue it with "pki generate ${service} ${variant}"`,
    });
  }
  const version = liveVersion(folder);
  const name = client ?? service;
  const certPath = join(version, `${name}.crt`);
  if (kindOf(certPath) !== 'file') {
    if (client === undefined) throw new PkiError('ERR_BUNDLE_PARTIAL', `${folder} holds no ${service}.crt`, { hint: `re-issue the bundle with "pki generate ${service} ${variant} --force"` });
    const clients = bundleClients(version, service);
    throw new PkiError('ERR_FILE_NOT_FOUND', `the bundle ${service}/${variant} has no client "${client}"`, {
      hint: clients.length ? `its clients: ${clients.join(', ')}` : `it has no clients; add one with "pki generate ${service} ${variant} --client ${client}"`,
    });
  }
  const keyPath = join(version, `${name}.key`);
  if (kindOf(keyPath) !== 'file') {
    throw new PkiError('ERR_BUNDLE_PARTIAL', `${folder} holds ${name}.crt but not its key ${name}.key`, { hint: `re-issue the bundle with "pki generate ${service} ${variant} --force"` });
  }
  const caPath = join(version, 'ca.crt');
  return {
    folder,
    certPath: join(folder, `${name}.crt`),
    keyPath: join(folder, `${name}.key`),
    cert: readBytes(certPath, { maxBytes: MAX_INPUT_BYTES, what: 'a certificate' }),
    key: readBytes(keyPath, { maxBytes: MAX_INPUT_BYTES, what: 'a private key' }),
    ca: kindOf(caPath) === 'file' ? readBytes(caPath, { maxBytes: MAX_INPUT_BYTES, what: 'a certificate' }) : null,
  };
}

/** A --key file named on the command line (a folder gets its own words, as every input file does). */
export function readKeyFile(path: string): Buffer {
  if (kindOf(path) === 'folder') throw new PkiError('ERR_IS_DIRECTORY', `the key ${path} is a folder`, { hint: 'give the private key file' });
  return readBytes(path, { maxBytes: MAX_INPUT_BYTES, what: 'a private key' });
}

/**
 * Refuses an output path before anything is read from a prompt or written: an existing file without
 * `force` (ERR_FILE_EXISTS), a folder or device always. The atomic no-clobber write refuses a file created
 * meanwhile too; this check only makes the refusal come first.
 */
export function refuseOutputPath(path: string, force: boolean, servicesDir: string): void {
  refuseBundleFolder(path, servicesDir);
  const kind = kindOf(path);
  if (kind === 'folder') throw new PkiError('ERR_IS_DIRECTORY', `${path} is a folder`, { hint: 'give the path of the file to write' });
  if (kind === 'other') throw new PkiError('ERR_POLICY', `${path} exists and is not a regular file`, { hint: 'give the path of a regular file to write' });
  if (kind === 'file' && !force) throw new PkiError('ERR_FILE_EXISTS', `${path} already exists`, { hint: 'pass --force to replace it' });
}

/**
 * A bundle's `certs` folder is pki's (versioned links, docs/bundle-layout.md): an export written there with
 * --force would replace a link by a plain file, and the next renewal would not see its own layout.
 */
function refuseBundleFolder(path: string, servicesDir: string): void {
  let parent: string;
  let services: string;
  try {
    parent = realpathSync(dirname(resolve(path)));
    services = realpathSync(servicesDir);
  } catch {
    return; // no such folder: the write reports it; no services/ folder: nothing to protect
  }
  const inside = relative(services, parent);
  if (inside === '' || inside.startsWith('..') || resolve(services, inside) !== parent) return;
  // <service>/<variant>/certs[/..<version>]: the layout bundleFolder names
  if (inside.split(sep)[2] === 'certs') {
    throw new PkiError('ERR_POLICY', `${path} is inside a bundle folder, whose files pki generate and pki renew manage`, {
      hint: 'export to a path outside <dir>/services/*/*/certs, e.g. /etc/nginx/tls/',
    });
  }
}
