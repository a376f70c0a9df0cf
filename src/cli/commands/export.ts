/** `pki export`: a bundle or a --cert/--key pair in one consumer's format (issue 12; docs/export.md). Stub until the export work lands. */
import { PkiError } from '../../core/errors.js';
import type { GlobalOptions } from '../output.js';

export interface ExportOptions {
  readonly client?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly p12?: string;
  readonly k8sSecret?: boolean;
  readonly fullchain?: string;
  readonly chain?: string;
  readonly haproxy?: string;
  readonly der?: string;
  readonly passwordFile?: string;
  readonly legacy?: boolean;
  readonly withRoot?: boolean;
  readonly name?: string;
  readonly namespace?: string;
  readonly force?: boolean;
}

export async function runExport(_service: string | undefined, _variant: string | undefined, _opts: ExportOptions, _g: GlobalOptions, _now: Date): Promise<void> {
  throw new PkiError('ERR_USAGE', 'pki export is not implemented yet', { hint: 'see docs/export.md' });
}
