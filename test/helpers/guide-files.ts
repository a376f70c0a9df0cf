/**
 * The configuration files a guide shows (docs/guides/README.md): fenced prose blocks whose info string is
 * `LANG file=NAME`, e.g. ```` ```ini file=postgresql.conf ````. A guide's test starts its server with that
 * very text, so the page cannot show a configuration other than the one tested. (Until test/helpers/guides.ts
 * has its own way to read them.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUIDES_DIR } from './guides.js';

/** Where the guides' prose keeps the CA home; tests replace it with their own folder. */
export const GUIDE_PKI_DIR = '/srv/pki';

const FILE_FENCE = /^(`{3,})\s*\S+\s+file=(\S+)\s*$/;

/** The `file=NAME` blocks of one guide (name relative to docs/guides/), by NAME. */
export function guideFiles(name: string): Map<string, string> {
  const lines = readFileSync(join(GUIDES_DIR, name), 'utf8').split('\n');
  const files = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const open = FILE_FENCE.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((line, j) => j > i && line.trimEnd() === open[1]);
    if (end < 0) throw new Error(`${name}:${i + 1}: block file=${open[2]} is never closed`);
    if (files.has(open[2]!)) throw new Error(`${name}:${i + 1}: block file=${open[2]} appears twice`);
    files.set(open[2]!, lines.slice(i + 1, end).join('\n'));
    i = end;
  }
  return files;
}

/** One file block, with the example CA home replaced by `pkiDir`; fails naming the guide when it is absent. */
export function guideFile(name: string, file: string, pkiDir: string): string {
  const text = guideFiles(name).get(file);
  if (text === undefined) throw new Error(`docs/guides/${name} has no block file=${file}`);
  return text.replaceAll(GUIDE_PKI_DIR, pkiDir);
}
