/** Placeholder until issue 14's slice lands: the command is declared (program-ca*.ts, program.ts) so help and completion list it. */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export async function runCaAdd(_name: string, _options: Record<string, unknown>, _globals: GlobalOptions, _now: Date): Promise<void> {
  throw new PkiError('ERR_USAGE', 'this command is not implemented yet', { hint: 'see issue 14' });
}

