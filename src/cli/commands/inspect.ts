/**
 * `pki inspect <file>`: every object in the file, human-readable or as JSON (one object → one JSON
 * object; several → an array).
 */
import { readFileSync, statSync } from 'node:fs';
import { inspectBytes, looksLikePkcs12 } from '../../core/inspect/index.js';
import { PkiError } from '../../core/errors.js';
import { readBytes } from '../../store/fs/read-file.js';
import { renderReport } from '../inspect-text.js';
import { emitData, type GlobalOptions } from '../output.js';
import { readPkcs12Password } from '../p12-password.js';

const MAX_INPUT = 64 * 1024 * 1024;

function readInput(file: string): Buffer {
  if (file !== '-' && isFolder(file)) {
    throw new PkiError('ERR_IS_DIRECTORY', `${file} is a folder; inspect reads one file`, {
      hint: 'pass one of the files in it',
    });
  }
  const data = file === '-' ? readFileSync(0) : readBytes(file);
  if (data.length > MAX_INPUT) throw new PkiError('ERR_UNKNOWN_OBJECT', `${file} is larger than 64 MiB; not a certificate, CRL or key`);
  return data;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // readBytes reports the missing file
  }
}

export interface InspectOptions {
  /** A PKCS#12 file's password; asked for (PKI_P12_PASSWORD, then the terminal) only when the file is one. */
  readonly passwordFile?: string | undefined;
}

export async function runInspect(file: string, globals: GlobalOptions, now = new Date(), options: InspectOptions = {}): Promise<void> {
  const data = readInput(file);
  const pkcs12Password = looksLikePkcs12(data) ? await readPkcs12Password({ passwordFile: options.passwordFile, confirm: false }) : undefined;
  let reports;
  try {
    reports = inspectBytes(data, { pkcs12Password });
  } finally {
    pkcs12Password?.fill(0);
  }
  // The renderer reads the value emitData passes (its strings escaped for the terminal), not `reports`.
  emitData(globals, reports.length === 1 ? reports[0]! : reports, (shown) => (Array.isArray(shown) ? shown : [shown]).map((r) => renderReport(r, now)).join('\n\n'));
}
