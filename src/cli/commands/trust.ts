/** `pki trust install|uninstall|status`: the root in this host's trust stores (issue 12; docs/trust.md). Stub until the trust work lands. */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export interface TrustOptions {
  readonly root?: string;
  readonly nss?: boolean;
  readonly java?: boolean;
  readonly dryRun?: boolean;
}

export async function runTrust(_action: 'install' | 'uninstall' | 'status', _opts: TrustOptions, _g: GlobalOptions, _now: Date): Promise<void> {
  throw new PkiError('ERR_USAGE', 'pki trust is not implemented yet', { hint: 'see docs/trust.md' });
}
