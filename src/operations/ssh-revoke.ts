/**
 * SSH revocation: marks SSH certificates revoked in the inventory and rewrites the KRL in the same
 * transaction, so the file sshd reads never lags the inventory.
 */
import { resolve } from 'node:path';
import { PkiError } from '../core/errors.js';
import type { RevocationReason } from '../core/x509/revocation-reason.js';
import { decodeSshCertificate } from '../core/ssh/index.js';
import { isRegularFile, readText, type CaHome } from '../store/ca-home.js';
import type { CertificateRecord, Inventory } from '../store/inventory/index.js';
import { sshSerialKey } from '../store/inventory/ssh-record.js';
import { openSshInventory, SshCaFiles } from '../store/ssh-ca.js';
import { publishKrl, type PublishedKrl } from './ssh-krl.js';

export interface SshRevokeRequest {
  /** A `-cert.pub` file, a serial (readSshSerial) or a key id, tried in that order. */
  readonly target: string;
  readonly reason: RevocationReason;
}

export interface RevokedSshCertificate {
  /** Decimal, as ssh-keygen -L prints it. */
  readonly serial: string;
  readonly keyId: string | null | undefined;
  /** The record's subject: the principals, comma-separated ('*' = any). */
  readonly principals: string;
  readonly certificate: string | null;
  readonly reason: RevocationReason;
}

export interface SshRevokeResult {
  readonly revoked: readonly RevokedSshCertificate[];
  readonly krl: PublishedKrl;
}

/**
 * How a revoke argument reads as an SSH serial (docs/ssh.md "Serial numbers"). One rule, no guessing:
 * digits are decimal (as ssh-keygen -L, pki list, pki ssh sign and pki inspect print SSH serials),
 * `0x…` is hexadecimal. Digits with a leading zero are refused, because ssh-keygen's KRL specs
 * (strtoull base 0) read them as octal; bare hex with letters (what pki list printed before) is not
 * taken as a serial either, since the same rule would then read an all-digit hex serial as decimal.
 */
type SerialReading = { readonly serial: bigint } | { readonly problem: 'leading-zero' | 'hex-without-0x' | 'out-of-range' } | null;

const SSH_SERIAL_MAX = 2n ** 64n - 1n;

export function readSshSerial(text: string): SerialReading {
  let value: bigint;
  if (/^0x[0-9a-f]{1,16}$/i.test(text)) value = BigInt(text);
  else if (/^[1-9]\d{0,19}$/.test(text)) value = BigInt(text);
  else if (/^0\d+$/.test(text)) return { problem: 'leading-zero' };
  else if (/^(?=.*\d)(?=.*[a-f])[0-9a-f]{1,16}$/i.test(text)) return { problem: 'hex-without-0x' };
  else return null;
  return value > 0n && value <= SSH_SERIAL_MAX ? { serial: value } : { problem: 'out-of-range' };
}

/**
 * What the argument names, in this order: a certificate file; a serial (readSshSerial); a key id. Returns
 * the inventory records to revoke.
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
  const reading = readSshSerial(target);
  if (reading && 'serial' in reading) {
    const record = inventory.find('ssh', sshSerialKey(reading.serial));
    if (record) return [record];
  }
  const byKeyId = inventory.list({ kind: 'ssh' }).filter((r) => r.keyId === target);
  if (byKeyId.length === 0) throw notFound(target, reading);
  const live = byKeyId.filter((r) => r.status !== 'revoked');
  if (live.length === 0) {
    throw new PkiError('ERR_ALREADY_REVOKED', `every certificate with key id "${target}" is revoked already`);
  }
  return live;
}

function notFound(target: string, reading: SerialReading): PkiError {
  if (reading && 'problem' in reading) {
    const why = {
      'leading-zero': ['is ambiguous as a serial (a leading zero reads as octal in ssh-keygen KRL specs)', `write it without the leading zeros (decimal) or as 0x… (hex)`],
      'hex-without-0x': ['is not a decimal serial', `SSH serials are decimal as ssh-keygen -L and pki list print them; for hexadecimal write 0x${target}`],
      'out-of-range': ['is outside the SSH serial range 1 … 2^64-1', 'pass the serial ssh-keygen -L prints'],
    }[reading.problem];
    return new PkiError('ERR_INVALID_SERIAL', `"${target}" ${why[0]} and no SSH certificate has it as key id`, { hint: why[1] });
  }
  return new PkiError('ERR_UNKNOWN_SERIAL', `no SSH certificate with serial or key id "${target}" in the inventory`, {
    hint: 'pass the -cert.pub file, the serial as ssh-keygen -L or pki list prints it (decimal, or 0x… hex), or the key id',
  });
}

/** Revokes what the target names and publishes the KRL, in one inventory transaction. */
export async function revokeSshCertificates(home: CaHome, request: SshRevokeRequest, context: { readonly now: Date }): Promise<SshRevokeResult> {
  const { now } = context;
  const files = new SshCaFiles(home);
  files.requireCa('user');
  const inventory = await openSshInventory(home, false);
  let outcome: { revoked: CertificateRecord[]; krl: PublishedKrl };
  try {
    outcome = inventory.exclusive(() => {
      const revoked = selectCertificates(inventory, request.target).map((r) => inventory.revoke('ssh', r.serial, now, request.reason));
      return { revoked, krl: publishKrl(files, inventory, now) };
    });
  } finally {
    inventory.close();
  }
  return {
    revoked: outcome.revoked.map((r) => ({
      serial: BigInt(`0x${r.serial}`).toString(10),
      keyId: r.keyId,
      principals: r.subject,
      certificate: r.certificatePath,
      reason: request.reason,
    })),
    krl: outcome.krl,
  };
}
