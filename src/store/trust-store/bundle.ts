/** Whether a PEM file (an anchor pki wrote, a distribution's extracted bundle) holds a given certificate. */
import { decodePem, PemLabel } from '../../core/der/pem.js';
import { fileExists, readBytes } from '../fs/read-file.js';

/** Debian's bundle is ~220 KB, RHEL's with its comments under 1 MB. */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export function pemFileHolds(path: string, der: Uint8Array): boolean {
  if (!fileExists(path)) return false;
  const text = readBytes(path, { maxBytes: MAX_BUNDLE_BYTES, what: 'a trust bundle' }).toString('latin1');
  const wanted = Buffer.from(der);
  try {
    return decodePem(text).some((b) => b.label === PemLabel.certificate && wanted.equals(Buffer.from(b.der)));
  } catch {
    return false; // a file that is not PEM does not hold the root
  }
}
