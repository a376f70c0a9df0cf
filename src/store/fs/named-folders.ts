/** Listing the named sub-folders of a CA home (issuing CAs under ca/, trust domains under domains/). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What checkCaName admits (store/issuing-ca.ts), for listing without throwing. */
const FOLDER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The sub-folders of `dir` with a name pki gives and a `marker` file inside, sorted; none when `dir` is missing. */
export function namedFolders(dir: string, marker: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => FOLDER_NAME.test(n) && existsSync(join(dir, n, marker))).sort();
}
