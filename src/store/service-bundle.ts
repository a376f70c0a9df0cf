/**
 * Service bundles on disk: `<out>/<service>/<variant>/certs/`. Reads what an existing bundle holds so
 * `generate` can tell up-to-date from different from partial, and writes a new one.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BundleRequest, ExistingBundle } from '../core/bundle.js';
import { certificatePublicKey, parseCertificate } from '../core/certificate-fields.js';
import { decodeSubjectAltName } from '../core/inspect/extensions.js';
import { keySpecOf } from '../core/keys.js';
import { parseSans } from '../core/names.js';
import { decodePem } from '../core/pem.js';
import { readText } from './ca-home.js';
import { TEMP_PREFIX } from './atomic-write.js';

/** The folder a bundle lives in; names were validated, and the result is checked to stay inside `out`. */
export function bundleFolder(out: string, request: Pick<BundleRequest, 'service' | 'variant'>): string {
  return join(resolve(out), request.service, request.variant, 'certs');
}

function listFiles(folder: string): string[] {
  try {
    return readdirSync(folder).filter((n) => !n.startsWith(TEMP_PREFIX));
  } catch {
    return [];
  }
}

/** What is on disk now. Unreadable or foreign files count as present but undescribed. */
export function readExistingBundle(folder: string, request: BundleRequest, currentRootPem: string): ExistingBundle {
  const files = listFiles(folder);
  const serviceCert = `${request.service}.crt`;
  let serviceSans: ExistingBundle['serviceSans'] = null;
  let serviceKeySpec: ExistingBundle['serviceKeySpec'] = null;
  if (files.includes(serviceCert)) {
    try {
      const leaf = parseCertificate(decodePem(readText(join(folder, serviceCert)))[0]!.der);
      const san = decodeSubjectAltName(leaf);
      serviceSans = parseSans([...san.dns, ...san.ip, ...san.email, ...san.uri]);
      serviceKeySpec = keySpecOf(certificatePublicKey(leaf));
    } catch {
      serviceSans = [];
    }
  }
  let sameTrustAnchor: boolean | null = null;
  if (files.includes('ca.crt')) sameTrustAnchor = readText(join(folder, 'ca.crt')).trim() === currentRootPem.trim();
  const clients = files
    .filter((n) => n.endsWith('.crt') && n !== 'ca.crt' && n !== serviceCert)
    .map((n) => n.slice(0, -4))
    .sort();
  return { files, serviceSans, serviceKeySpec, clients, sameTrustAnchor };
}
