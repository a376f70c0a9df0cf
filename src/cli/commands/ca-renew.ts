/** Placeholder until issue 14's slice lands: `pki ca renew` and `pki ca rollback`, declared in program-ca-rotation.ts. */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export async function runCaRenew(_name: string | undefined, _options: Record<string, unknown>, _globals: GlobalOptions, _now: Date): Promise<void> {
  throw new PkiError('ERR_USAGE', 'this command is not implemented yet', { hint: 'see issue 14' });
}

export async function runCaRollback(_options: Record<string, unknown>, _globals: GlobalOptions, _now: Date): Promise<void> {
  throw new PkiError('ERR_USAGE', 'this command is not implemented yet', { hint: 'see issue 14' });
}
