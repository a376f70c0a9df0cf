/**
 * Is the CA home safe to use? Checked by CaHome.open for every command that opens a home, before anything
 * is read or written (docs/security.md, "The CA home on disk"). OpenSSH StrictModes-style rules:
 *
 * - the home, `ca/`, `db/` and `ssh/` are owned by the user running pki (or by root) and not writable by
 *   group or others: whoever can write them can swap a CA key, certificate or the inventory;
 * - the CA keys and `db/pki.sqlite` are not readable by group or others (mode at most 0600);
 * - `ca/`, `crl/`, `db/`, `ssh/`, `services/` and `db/pki.sqlite` are real folders and files, never
 *   symbolic links. The home path itself may be a link (`--dir /srv/pki` where /srv is one): it is the
 *   operator's choice; what lies inside it is pki's.
 *
 * A handful of lstat calls, no reads: this runs at every start (docs/performance.md, W4). A problem is an
 * ERR_UNSAFE_HOME refusal naming the path and the chmod/chown that fixes it; with `--insecure`, one warning
 * line per problem instead.
 */
import { lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../core/errors.js';

/** One thing wrong with the home: the message states the cause, the hint the command that fixes it. */
export interface HomeProblem {
  readonly path: string;
  readonly message: string;
  readonly hint: string;
}

/** The paths checked; CaHome supplies them. */
export interface HomePaths {
  readonly dir: string;
  readonly caDir: string;
  readonly crlDir: string;
  readonly dbDir: string;
  readonly sshDir: string;
  readonly servicesDir: string;
  readonly dbPath: string;
  /** The CA private keys: X.509 root and intermediate, SSH user and host. */
  readonly keyPaths: readonly string[];
}

export interface HomeCheckOptions {
  /** Warn (through `warn`) instead of refusing. */
  readonly insecure: boolean;
  readonly warn: (line: string) => void;
  /**
   * Folders this command (re)creates with its own mode (`pki init` makes `ca/`): a mode too wide there is
   * narrowed by ensureHomeFolder when the command writes, not refused. Owners and links are still refused.
   */
  readonly narrows?: readonly string[];
}

const quote = (path: string) => `'${path.replace(/'/g, `'\\''`)}'`;
const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null; // missing (init creates it) or unreadable (the command's own read says so)
  }
}

function euid(): number {
  return process.geteuid?.() ?? -1;
}

/** Owner and mode of a folder the CA's secrets live in. */
function folderProblems(path: string, st: Stats, narrowed: boolean, out: HomeProblem[]): void {
  const me = euid();
  if (me >= 0 && st.uid !== me && st.uid !== 0) {
    out.push({
      path,
      message: `${path} is owned by uid ${st.uid}, not by the user running pki (uid ${me}): that user can replace the CA's files`,
      hint: `run pki as uid ${st.uid}, or take the folder over: chown -R ${me} ${quote(path)}`,
    });
  }
  if ((st.mode & 0o022) !== 0 && !narrowed) {
    out.push({
      path,
      message: `${path} is writable by ${(st.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${octal(st.mode)}): they can replace the CA's files`,
      hint: `chmod go-w ${quote(path)}`,
    });
  }
}

function linkProblem(path: string, what: string): HomeProblem {
  let target = '';
  try {
    target = ` to ${readlinkSync(path)}`;
  } catch {
    /* gone meanwhile */
  }
  return {
    path,
    message: `${path} is a symbolic link${target}: pki refuses links inside a CA home, they would send its reads and writes elsewhere`,
    hint: `replace the link by the real ${what} (rm the link, then mv its target to ${quote(path)}), or point --dir at the home it belongs to`,
  };
}

/** Everything wrong with the home, in the order a fix would go (outer folders first). Empty when safe. */
export function findHomeProblems(paths: HomePaths, narrows: readonly string[] = []): HomeProblem[] {
  const out: HomeProblem[] = [];
  let home: Stats;
  try {
    home = statSync(paths.dir); // the home itself may be a link: its target is checked
  } catch {
    return out; // no home yet (init creates it) or unreadable (the command says so)
  }
  if (!home.isDirectory()) return out; // the command's own error names it
  folderProblems(paths.dir, home, false, out);
  const secretFolders = new Set([paths.caDir, paths.dbDir, paths.sshDir]);
  for (const folder of [paths.caDir, paths.crlDir, paths.dbDir, paths.sshDir, paths.servicesDir]) {
    const st = lstatOrNull(folder);
    if (!st) continue;
    if (st.isSymbolicLink()) out.push(linkProblem(folder, 'folder'));
    else if (st.isDirectory() && secretFolders.has(folder)) folderProblems(folder, st, narrows.includes(folder), out);
  }
  const db = lstatOrNull(paths.dbPath);
  if (db?.isSymbolicLink()) out.push(linkProblem(paths.dbPath, 'file'));
  else if (db && (db.mode & 0o077) !== 0) {
    out.push({ path: paths.dbPath, message: `${paths.dbPath} has mode ${octal(db.mode)}: the inventory must be readable by its owner only (0600)`, hint: `chmod 600 ${quote(paths.dbPath)}` });
  }
  for (const key of paths.keyPaths) {
    let st: Stats;
    try {
      st = statSync(key); // a key may be a link to offline storage; its mode is what counts
    } catch {
      continue;
    }
    if ((st.mode & 0o077) !== 0) {
      out.push({ path: key, message: `${key} has mode ${octal(st.mode)}: a CA private key must be readable by its owner only (0600)`, hint: `chmod 600 ${quote(key)}` });
    }
  }
  return out;
}

/** Refuses an unsafe home with ERR_UNSAFE_HOME (the first problem; the rest are counted), or warns with --insecure. */
export function checkHome(paths: HomePaths, options: HomeCheckOptions): void {
  reportProblems(findHomeProblems(paths, options.narrows), options);
}

/** The refusal (or, with --insecure, the warnings) for `problems`. */
export function reportProblems(problems: readonly HomeProblem[], options: Pick<HomeCheckOptions, 'insecure' | 'warn'>): void {
  if (problems.length === 0) return;
  if (options.insecure) {
    for (const p of problems) options.warn(`${p.message} (going on because of --insecure; fix: ${p.hint})`);
    return;
  }
  const [first] = problems as [HomeProblem, ...HomeProblem[]];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new PkiError('ERR_UNSAFE_HOME', `unsafe CA home: ${first.message}${more}`, {
    hint: `${first.hint}; or pass --insecure to go on with a warning`,
  });
}

/**
 * A symbolic link on the way from the home down to `folder` (e.g. `services/redis/main/certs`), for
 * folders inside the home only: a link there would send pki's writes outside it. `--out` folders elsewhere
 * are the operator's and are not checked. Null when there is none.
 */
export function linkBelowHome(homeDir: string, folder: string): HomeProblem | null {
  if (!folder.startsWith(`${homeDir}/`)) return null;
  let path = homeDir;
  for (const part of folder.slice(homeDir.length + 1).split('/')) {
    path = join(path, part);
    const st = lstatOrNull(path);
    if (!st) return null; // the rest is created by pki
    if (st.isSymbolicLink()) return linkProblem(path, 'folder');
  }
  return null;
}
