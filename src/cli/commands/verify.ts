/** `pki verify`: RFC 5280 path validation of a certificate file (issue 11). */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export interface VerifyOptions {
  readonly untrusted: string[];
  readonly roots: string[];
  readonly host?: string;
  readonly ip?: string;
  readonly purpose: string;
  readonly time?: string;
  readonly crl: string[];
  readonly crlCheck?: boolean;
  readonly crlCheckAll?: boolean;
  readonly maxDepth?: string;
}

export async function runVerify(file: string, options: VerifyOptions, globals: GlobalOptions, now = new Date()): Promise<void> {
  void file;
  void options;
  void globals;
  void now;
  throw new PkiError('ERR_USAGE', 'pki verify is not implemented yet');
}
