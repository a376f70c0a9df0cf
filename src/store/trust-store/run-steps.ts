/**
 * Running what a trust plan says, and printing it: the one place `pki trust` starts child processes.
 * Children get a minimal environment (a fixed PATH and the C locale: no secret, no PKI_* variable, no
 * HOME) and a bounded run time; a program is looked up in the system folders, never in the caller's PATH,
 * so a planted `certutil` in a writable folder is not what runs as root.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../../core/errors.js';
import { ioError, writeFileAtomic } from '../fs/atomic-write.js';
import type { TrustStep } from './types.js';

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const CHILD_ENV = { PATH: SYSTEM_DIRS.join(':'), LC_ALL: 'C' } as const;

/** The Debian (and Alpine, RHEL) package of each program, for the hint when it is missing. */
const PACKAGES: Record<string, string> = {
  'update-ca-certificates': 'ca-certificates',
  'update-ca-trust': 'ca-certificates (dnf install ca-certificates)',
  trust: 'p11-kit',
  certutil: 'libnss3-tools (dnf: nss-tools)',
  keytool: 'a JDK, e.g. openjdk-17-jdk-headless',
  security: 'macOS itself',
};

/** The absolute path of `name`, or undefined. */
export function findProgram(name: string, searchDirs: readonly string[] = []): string | undefined {
  for (const dir of [...searchDirs, ...SYSTEM_DIRS]) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next folder */
    }
  }
  return undefined;
}

function missingProgram(name: string): PkiError {
  return new PkiError('ERR_EXEC_FAILED', `${name} is not installed`, { hint: `install ${PACKAGES[name] ?? name}, or run the commands pki trust --dry-run prints yourself` });
}

export interface ChildResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion within `timeoutMs`; a program missing or killed is ERR_EXEC_FAILED, a non-zero exit is the caller's to read. */
export function runChild(argv: readonly [string, ...string[]], timeoutMs: number, searchDirs?: readonly string[]): ChildResult {
  const [name, ...args] = argv;
  const program = findProgram(name, searchDirs);
  if (!program) throw missingProgram(name);
  const r = spawnSync(program, args, { env: CHILD_ENV, timeout: timeoutMs, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  if (r.error || r.status === null) {
    const why = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' ? `did not finish within ${timeoutMs / 1000} s` : r.signal ? `was killed by ${r.signal}` : String(r.error?.message);
    throw new PkiError('ERR_EXEC_FAILED', `${shellLine(argv)} ${why}`, { hint: 'run it yourself to see why' });
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The last non-empty line a program wrote on stderr (or stdout): its own words for why it failed. */
function lastLine(r: ChildResult): string {
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? '(no output)';
}

/** Every program the steps name exists, checked before the first step changes anything. */
function checkPrograms(steps: readonly TrustStep[]): void {
  for (const step of steps) if (step.kind === 'run' && !findProgram(step.argv[0], step.searchDirs)) throw missingProgram(step.argv[0]);
}

/** Carries out the steps in order; the first that fails stops the rest (ERR_EXEC_FAILED or ERR_IO naming it). */
export function executeSteps(steps: readonly TrustStep[]): void {
  checkPrograms(steps);
  for (const step of steps) {
    if (step.kind === 'write') writeFileAtomic(step.path, step.data, { mode: step.mode, overwrite: true });
    else if (step.kind === 'mkdir') makeFolder(step.path, step.mode);
    else if (step.kind === 'remove') removeFile(step.path);
    else {
      const r = runChild(step.argv, step.timeoutMs, step.searchDirs);
      if (r.status !== 0) {
        throw new PkiError('ERR_EXEC_FAILED', `${shellLine(step.argv)} exited with ${r.status}: ${lastLine(r)}`, {
          hint: 'fix the cause and run the command again; pki trust status shows what is in place',
        });
      }
    }
  }
}

function makeFolder(path: string, mode: number): void {
  try {
    mkdirSync(path, { recursive: true, mode });
  } catch (e) {
    throw ioError(e, 'create', path);
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, 'remove', path);
  }
}

/** One word for a POSIX shell: as it is when it is plain, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}

/**
 * A step as the shell command an operator runs for it (`pki trust install | sudo sh` works): a file pki
 * writes from the root file unchanged is `install -m`, one it converts (a DER root, a PEM with text around
 * it) is spelt out in a here-document.
 */
export function stepCommand(step: TrustStep): string {
  const mode = (m: number) => m.toString(8).padStart(4, '0');
  switch (step.kind) {
    case 'write':
      return step.fromIsSame
        ? shellLine(['install', '-m', mode(step.mode), step.from, step.path])
        : `(umask 022; cat > ${shellWord(step.path)} <<'PKI_EOF'\n${step.data.trimEnd()}\nPKI_EOF\n) && chmod ${mode(step.mode)} ${shellWord(step.path)}`;
    case 'remove':
      return shellLine(['rm', '-f', step.path]);
    case 'mkdir':
      return shellLine(['mkdir', '-p', '-m', mode(step.mode), step.path]);
    case 'run':
      return shellLine(step.argv);
  }
}
