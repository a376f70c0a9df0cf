/**
 * `pki ssh revoke <cert-file | serial | key-id>`: marks SSH certificates revoked in the inventory and
 * rewrites the KRL in the same transaction (operations/ssh-revoke.ts).
 */
import { parseRevocationReason, type RevocationReason } from '../../core/x509/revocation-reason.js';
import { revokeSshCertificates } from '../../operations/ssh-revoke.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';

export interface SshRevokeOptions {
  readonly reason?: string;
}

export async function runSshRevoke(target: string, options: SshRevokeOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  const reason: RevocationReason = options.reason === undefined ? 'unspecified' : parseRevocationReason(options.reason);
  const result = await revokeSshCertificates(openHome(globals), { target, reason }, { now });
  emit(globals, result, (r) =>
    [
      ...r.revoked.map((c) => `Revoked SSH certificate serial ${c.serial} (key id ${c.keyId}, principals ${c.principals})`),
      `Wrote KRL version ${r.krl.version} to ${r.krl.path}; copy it to every server's RevokedKeys file`,
    ].join('\n'),
  );
}
