/**
 * What `pki renew --daemon` watches (operations/renew-daemon.ts schedules them): certificate files renewed
 * locally with the CA home, as `pki renew FILE` renews one (renew-certificate.ts), or over mutual TLS
 * against `pki serve` (renew-remote-client.ts); `--all` watches every valid leaf the inventory records at
 * a path, listed again at each wake. Each renewal is a fresh run: the inventory is opened, the intermediate
 * loaded (its key read again, so a key file moved away for a while is a failure that is retried), closed.
 */
import { resolve } from 'node:path';
import type { RenewalPolicy } from '../core/lifecycle/renewal.js';
import { normalizeSerial } from '../core/x509/serial.js';
import type { CaHome, PassphraseSource } from '../store/ca-home.js';
import { openInventory } from '../store/inventory/index.js';
import type { DaemonTarget, WatchedState } from './renew-daemon.js';
import { renewCertificate } from './renew-certificate.js';
import { locate, renewOverMtls } from './renew-remote-client.js';
import { readCertificateFile } from './renew-trust.js';

/** Serial and validity of the certificate in the file now (a bundle's through its link). */
export function readWatched(path: string): WatchedState {
  const { fields } = readCertificateFile(path);
  return { serial: normalizeSerial(fields.serial), notBefore: fields.notBefore, notAfter: fields.notAfter };
}

export interface LocalDaemonSettings {
  readonly policy: RenewalPolicy;
  readonly rekey: boolean;
  readonly passphrase: PassphraseSource;
}

/** One file renewed with the CA home. */
export function localTarget(home: CaHome, certificatePath: string, keyPath: string | undefined, settings: LocalDaemonSettings): DaemonTarget {
  const label = resolve(certificatePath);
  return {
    label,
    read: () => readWatched(label),
    async renew(now) {
      const request = { policy: settings.policy, rekey: settings.rekey, certificatePath: label, ...(keyPath !== undefined ? { keyPath } : {}) };
      const r = await renewCertificate(home, request, { now, passphrase: settings.passphrase });
      if (r.status === 'refused') throw r.error;
      if (r.outcome.status === 'skipped') return 'not-due';
      return { serial: r.outcome.serial, newSerial: r.outcome.newSerial, notAfter: new Date(r.outcome.notAfter), rekeyed: r.outcome.rekeyed };
    },
  };
}

/** `--all`: every valid leaf certificate the inventory records at a path (one target per path). */
export async function inventoryTargets(home: CaHome, settings: LocalDaemonSettings): Promise<DaemonTarget[]> {
  const inventory = await openInventory(home);
  try {
    const byPath = new Map<string, string | undefined>();
    for (const r of inventory.listSummaries({ kind: 'x509', status: 'valid' })) {
      if (r.certificatePath === null || r.profile === 'root' || r.profile === 'intermediate') continue;
      if (!byPath.has(r.certificatePath)) byPath.set(r.certificatePath, r.keyPath ?? undefined);
    }
    return [...byPath].map(([cert]) => localTarget(home, cert, undefined, settings));
  } finally {
    inventory.close();
  }
}

export interface RemoteDaemonSettings {
  readonly caUrl: string;
  readonly rootsPem: string;
  readonly rekey: boolean;
}

/** One file renewed over mutual TLS: the CA decides the new certificate, the file switch happens here. Throws when the pair cannot work at all. */
export function remoteTarget(certificatePath: string, keyPath: string | undefined, settings: RemoteDaemonSettings): DaemonTarget {
  const label = resolve(certificatePath);
  locate({ certificatePath: label, ...(keyPath !== undefined ? { keyPath } : {}), rekey: settings.rekey });
  return {
    label,
    read: () => readWatched(label),
    renew: (_now, signal) => renewOverMtls({ certificatePath: label, ...(keyPath !== undefined ? { keyPath } : {}), caUrl: settings.caUrl, rootsPem: settings.rootsPem, rekey: settings.rekey, signal }),
  };
}
