/** The SHA-256 fingerprint of a DER object (certificate, SSH certificate blob), upper-case hex without colons: the form the inventory stores and `--json` prints. */
import { createHash } from 'node:crypto';

export function sha256Fingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}
