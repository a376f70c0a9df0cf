/** `pki check`: expiry monitoring for cron, Nagios and Prometheus (issue 11). */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export interface CheckOptions {
  readonly path: string[];
  readonly warn: string;
  readonly critical: string;
  readonly nagios?: boolean;
  readonly prometheus?: string;
  readonly failOnDue?: boolean;
}

export async function runCheck(options: CheckOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  void options;
  void globals;
  void now;
  throw new PkiError('ERR_USAGE', 'pki check is not implemented yet');
}
