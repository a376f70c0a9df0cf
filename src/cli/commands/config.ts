/** `pki config show|validate`: the effective pki.json and its validation (operations/config.ts; docs/configuration.md). */
import { resolve } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { effectiveConfig, validateConfigFile } from '../../operations/config.js';
import { openHome } from '../home.js';
import { emitData, type GlobalOptions } from '../output.js';

export async function runConfigShow(g: GlobalOptions): Promise<void> {
  const home = openHome(g);
  const shown = effectiveConfig(home.configPath, home.readConfig());
  emitData(g, shown, (s) => `# ${s.file}, as pki applies it: defaults filled in, built-in profiles included\n${JSON.stringify(s.config, null, 2)}`);
}

export async function runConfigValidate(file: string | undefined, g: GlobalOptions): Promise<void> {
  // The home's own pki.json is also checked against the home: the CAs and trust domains its provisioners name.
  const home = file === undefined ? openHome(g) : null;
  const path = home ? home.configPath : resolve(file!);
  const problems = validateConfigFile(path, home ? { issuingCas: home.issuingCaNames(), trustDomains: home.trustDomainNames() } : undefined);
  if (problems.length === 0) {
    emitData(g, { file: path, valid: true }, (r) => `${r.file}: valid`);
    return;
  }
  // Without --json each problem gets its own line on stdout; the error line (and --json's error) lists them all.
  if (!g.json) process.stdout.write(problems.map((p) => `${p}\n`).join(''));
  const message = problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`;
  throw new PkiError('ERR_INVALID_CONFIG', message, { hint: 'fix the fields named (see docs/configuration.md)' });
}
