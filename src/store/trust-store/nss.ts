/**
 * NSS databases (`--nss`): the shared `$HOME/.pki/nssdb` that Chromium, curl built on NSS and other NSS
 * programs read, created (empty password) when absent, and every Firefox profile that has a cert9.db.
 * The root goes in with trust `C,,` (a CA trusted to issue TLS server certificates) under its label as
 * nickname; uninstall deletes that nickname and leaves the database itself, which may hold other things.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findProgram, runChild } from './run-steps.js';
import { TIMEOUT_MS, type TrustRoot, type TrustStep, type TrustStore } from './types.js';

const certutil = (...args: string[]): TrustStep => ({ kind: 'run', argv: ['certutil', ...args], timeoutMs: TIMEOUT_MS.certutil });

/** The Firefox profiles (the classic and the Ubuntu snap location) that hold an SQL NSS database. */
function firefoxProfiles(home: string): string[] {
  const out: string[] = [];
  for (const base of [join(home, '.mozilla', 'firefox'), join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox')]) {
    let names: string[];
    try {
      names = readdirSync(base).sort();
    } catch {
      continue;
    }
    for (const name of names) if (existsSync(join(base, name, 'cert9.db'))) out.push(join(base, name));
  }
  return out;
}

function ownerOf(path: string): { uid: number; gid: number } | undefined {
  try {
    const st = statSync(path);
    return { uid: st.uid, gid: st.gid };
  } catch {
    return undefined;
  }
}

/** certutil -L -n: exit 0 listed, 255 not there (or no database); undefined when certutil is not installed. */
function listed(dir: string, nickname: string): boolean | undefined {
  if (!existsSync(join(dir, 'cert9.db'))) return false;
  if (!findProgram('certutil')) return undefined;
  return runChild(['certutil', '-L', '-d', `sql:${dir}`, '-n', nickname], TIMEOUT_MS.certutil).status === 0;
}

function nssStore(dir: string, root: TrustRoot, create: { home: string } | undefined): TrustStore {
  return {
    kind: 'nss',
    location: `sql:${dir}`,
    installed: () => listed(dir, root.label),
    installSteps: () => {
      const steps: TrustStep[] = [];
      if (create && !existsSync(join(dir, 'cert9.db'))) {
        steps.push({ kind: 'mkdir', path: dir, mode: 0o700 }, certutil('-N', '-d', `sql:${dir}`, '--empty-password'));
        // Made by root in a user's home (sudo): the database must stay that user's, or their browser cannot open it.
        const owner = ownerOf(create.home);
        if (owner && owner.uid !== 0) steps.push({ kind: 'run', argv: ['chown', '-R', `${owner.uid}:${owner.gid}`, join(create.home, '.pki')], timeoutMs: TIMEOUT_MS.certutil });
      }
      steps.push(certutil('-A', '-d', `sql:${dir}`, '-n', root.label, '-t', 'C,,', '-i', root.file));
      return steps;
    },
    uninstallSteps: (installed) => (installed === false ? [] : [certutil('-D', '-d', `sql:${dir}`, '-n', root.label)]),
  };
}

/** The shared database of `home` and each Firefox profile under it. */
export function nssStores(home: string, root: TrustRoot): TrustStore[] {
  const shared = join(home, '.pki', 'nssdb');
  return [nssStore(shared, root, { home }), ...firefoxProfiles(home).map((dir) => nssStore(dir, root, undefined))];
}
