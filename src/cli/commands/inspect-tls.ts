/** `pki inspect --tls HOST:PORT`: what a TLS server presents, and the verify verdict for it (issue 11). */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export interface InspectTlsOptions {
  readonly servername?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly roots: string[];
  readonly timeout: string;
  readonly starttls?: string;
  readonly verify: boolean;
}

export async function runInspectTls(target: string, file: string | undefined, options: InspectTlsOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  void target;
  void file;
  void options;
  void globals;
  void now;
  throw new PkiError('ERR_USAGE', 'pki inspect --tls is not implemented yet');
}
