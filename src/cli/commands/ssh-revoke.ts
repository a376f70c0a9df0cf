/**
 * `pki ssh revoke <cert-file | serial | key-id>`: marks SSH certificates revoked in the inventory and
 * rewrites the KRL in the same transaction, so the file sshd reads never lags the inventory.
 */
import { resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { parseRevocationReason, type RevocationReason } from '../../core/revocation-reason.js';
import { decodeSshCertificate } from '../../core/ssh/index.js';
import { isRegularFile, readText } from '../../store/ca-home.js';
import type { CertificateRecord, Inventory } from '../../store/inventory/index.js';
import { sshSerialKey } from '../../store/inventory/ssh-record.js';
import { openSshInventory, SshCaFiles } from '../../store/ssh-ca.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';
import { publishKrl, type PublishedKrl } from './ssh-krl.js';

export interface SshRevokeOptions {
  readonly reason?: string;
}

/**
 * What the argument names, in this order: a certificate file; a serial (decimal as `ssh-keygen -L`
 * prints it, or 0x-prefixed hex); a key id. Returns the inventory serials to revoke.
 */
function selectCertificates(inventory: Inventory, target: string): CertificateRecord[] {
  if (isRegularFile(target)) {
    const cert = decodeSshCertificate(readText(resolve(target)));
    const record = inventory.find('ssh', sshSerialKey(cert.serial));
    if (!record) {
      throw new PkiError('ERR_UNKNOWN_SERIAL', `${target} (serial ${cert.serial}) was not issued by this pki`, {
        hint: 'check --dir; only certificates in the inventory can be revoked',
      });
    }
    return [record];
  }
  const serialText = /^\d{1,20}$/.test(target) ? target : /^0x[0-9a-f]{1,16}$/i.test(target) ? BigInt(target).toString(10) : undefined;
  if (serialText !== undefined && BigInt(serialText) > 0n && BigInt(serialText) < 2n ** 64n) {
    const record = inventory.find('ssh', sshSerialKey(serialText));
    if (record) return [record];
  }
  const byKeyId = inventory.list({ kind: 'ssh' }).filter((r) => r.keyId === target);
  if (byKeyId.length === 0) {
    throw new PkiError('ERR_UNKNOWN_SERIAL', `no SSH certificate with serial or key id "${target}" in the inventory`, {
      hint: 'pass the -cert.pub file, the serial ssh-keygen -L prints, or the key id',
    });
  }
  const live = byKeyId.filter((r) => r.status !== 'revoked');
  if (live.length === 0) {
    throw new PkiError('ERR_ALREADY_REVOKED', `every certificate with key id "${target}" is revoked already`);
  }
  return live;
}

export async function runSshRevoke(target: string, options: SshRevokeOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const reason: RevocationReason = options.reason === undefined ? 'unspecified' : parseRevocationReason(options.reason);
  const home = openHome(globals);
  const files = new SshCaFiles(home);
  files.requireCa('user');
  const inventory = await openSshInventory(home, false);
  let outcome: { revoked: CertificateRecord[]; krl: PublishedKrl };
  try {
    outcome = inventory.exclusive(() => {
      const revoked = selectCertificates(inventory, target).map((r) => inventory.revoke('ssh', r.serial, now, reason));
      return { revoked, krl: publishKrl(files, inventory, now) };
    });
  } finally {
    inventory.close();
  }
  const result = {
    revoked: outcome.revoked.map((r) => ({ serial: BigInt(`0x${r.serial}`).toString(10), keyId: r.keyId, principals: r.subject, certificate: r.certificatePath, reason })),
    krl: outcome.krl,
  };
  emit(globals, result, (r) =>
    [
      ...r.revoked.map((c) => `Revoked SSH certificate serial ${c.serial} (key id ${c.keyId}, principals ${c.principals})`),
      `Wrote KRL version ${r.krl.version} to ${r.krl.path}; copy it to every server's RevokedKeys file`,
    ].join('\n'),
  );
}
