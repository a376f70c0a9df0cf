/**
 * A Java cacerts keystore (`--java`): `--java-keystore FILE` when given (a copy, an application's own
 * truststore), else `$JAVA_HOME/lib/security/cacerts`, else the cacerts of the JDK whose keytool is in the
 * system folders (on Debian a link to /etc/ssl/certs/java/cacerts). The root goes in as a trusted
 * certificate entry under its label as alias; uninstall deletes that alias. The store password is the
 * JDK's published default `changeit` (not a secret; a keystore with another one is out of scope).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { findProgram, runChild } from './run-steps.js';
import { TIMEOUT_MS, type TrustRoot, type TrustStep, type TrustStore } from './types.js';

export const JAVA_STOREPASS = 'changeit';

export interface JavaLocation {
  readonly keystore?: string;
  readonly javaHome?: string;
}

function keytoolDirs(javaHome: string | undefined): string[] {
  return javaHome ? [join(javaHome, 'bin')] : [];
}

/** The keystore file: given, under JAVA_HOME, or beside the keytool found. */
function keystorePath(where: JavaLocation): string {
  if (where.keystore) {
    if (!existsSync(where.keystore)) throw new PkiError('ERR_FILE_NOT_FOUND', `the Java keystore ${where.keystore} does not exist`, { hint: 'give an existing keystore file to --java-keystore' });
    return where.keystore;
  }
  if (where.javaHome && existsSync(join(where.javaHome, 'lib', 'security', 'cacerts'))) return join(where.javaHome, 'lib', 'security', 'cacerts');
  const keytool = findProgram('keytool', keytoolDirs(where.javaHome));
  const beside = keytool ? join(dirname(dirname(realpathSync(keytool))), 'lib', 'security', 'cacerts') : undefined;
  if (beside && existsSync(beside)) return beside;
  throw new PkiError('ERR_FILE_NOT_FOUND', 'no Java cacerts keystore found (no JAVA_HOME, no keytool with a lib/security/cacerts)', {
    hint: 'set JAVA_HOME, or give the keystore with --java-keystore FILE',
  });
}

export function javaStore(where: JavaLocation, root: TrustRoot): TrustStore {
  const keystore = keystorePath(where);
  const searchDirs = keytoolDirs(where.javaHome);
  const keytool = (...args: string[]): TrustStep => ({ kind: 'run', argv: ['keytool', ...args, '-keystore', keystore, '-storepass', JAVA_STOREPASS], timeoutMs: TIMEOUT_MS.keytool, searchDirs });
  const installed = (): boolean | undefined => {
    if (!findProgram('keytool', searchDirs)) return undefined;
    const r = runChild(['keytool', '-list', '-alias', root.label, '-keystore', keystore, '-storepass', JAVA_STOREPASS], TIMEOUT_MS.keytool, searchDirs);
    if (r.status === 0) return true;
    if (/does not exist/.test(r.stdout + r.stderr)) return false;
    throw new PkiError('ERR_EXEC_FAILED', `keytool cannot read ${keystore}: ${(r.stdout + r.stderr).trim().split('\n').at(-1)}`, {
      hint: `check that it is a keystore with the password ${JAVA_STOREPASS}`,
    });
  };
  return {
    kind: 'java',
    location: keystore,
    installed,
    installSteps: () => [keytool('-importcert', '-noprompt', '-trustcacerts', '-alias', root.label, '-file', root.file)],
    uninstallSteps: (present) => (present === false ? [] : [keytool('-delete', '-alias', root.label)]),
  };
}
