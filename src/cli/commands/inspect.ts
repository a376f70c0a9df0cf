/**
 * `pki inspect <file>`: every object in the file, human-readable or as JSON (one object → one JSON
 * object; several → an array).
 */
import { readFileSync, statSync } from 'node:fs';
import { inspectBytes } from '../../core/inspect/index.js';
import { PkiError } from '../../core/errors.js';
import { readBytes } from '../../store/fs/read-file.js';
import { renderReport } from '../inspect-text.js';
import { emitData, type GlobalOptions } from '../output.js';

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

export async function runInspect(file: string, globals: GlobalOptions, now = new Date()): Promise<void> {
  const reports = inspectBytes(readInput(file));
  // The renderer reads the value emitData passes (its strings escaped for the terminal), not `reports`.
  emitData(globals, reports.length === 1 ? reports[0]! : reports, (shown) => (Array.isArray(shown) ? shown : [shown]).map((r) => renderReport(r, now)).join('\n\n'));
}
