/**
 * `pki ssh krl`: rewrites `<dir>/ssh/revoked_keys`, the OpenSSH KRL that sshd's `RevokedKeys` reads, from
 * the inventory (operations/ssh-krl.ts).
 */
import { publishSshKrl } from '../../operations/ssh-krl.js';
import { emit, type GlobalOptions } from '../output.js';
import { openHome } from '../home.js';

export async function runSshKrl(globals: GlobalOptions, now = new Date()): Promise<void> {
  const result = await publishSshKrl(openHome(globals), { now });
  emit(globals, result, (r) => `Wrote KRL version ${r.version} to ${r.path} (${r.serialsRevoked} serials, ${r.keyIdsRevoked} key ids revoked)`);
}
