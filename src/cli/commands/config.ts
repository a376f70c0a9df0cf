/** `pki config show|validate`: the effective pki.json and its validation (issue 12; docs/configuration.md). Stub until the profiles work lands. */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export async function runConfigShow(_g: GlobalOptions): Promise<void> {
  throw new PkiError('ERR_USAGE', 'pki config show is not implemented yet', { hint: 'see docs/configuration.md' });
}

export async function runConfigValidate(_file: string | undefined, _g: GlobalOptions): Promise<void> {
  throw new PkiError('ERR_USAGE', 'pki config validate is not implemented yet', { hint: 'see docs/configuration.md' });
}
