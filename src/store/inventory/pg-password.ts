/**
 * The PostgreSQL inventory's password, from where libpq looks and one pki adds, asked for only when the
 * server requests it (trust and certificate authentication need none): PKI_DATABASE_PASSWORD_FILE (a
 * file holding the password, e.g. a systemd credential), then PGPASSWORD, then the password file
 * (PGPASSFILE, default ~/.pgpass; lines `host:port:database:user:password`, `*` matches anything,
 * `\:` and `\\` escape). As libpq does, a password file others may read is ignored, with the reason
 * given when no password is found; a PKI_DATABASE_PASSWORD_FILE others may read is refused.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { PgTarget } from './pg-url.js';

/** Why no password was found, or a file could not be used: thrown as ERR_INVENTORY_AUTH by the bridge. */
export class PgPasswordError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'PgPasswordError';
    this.hint = hint;
  }
}

const SOURCES = 'PGPASSWORD, a ~/.pgpass line (PGPASSFILE) or a file named by PKI_DATABASE_PASSWORD_FILE';

function readPrivate(path: string, what: string): string | { ignored: string } {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (what === 'PGPASSFILE' && code === 'ENOENT') return { ignored: '' };
    throw new PgPasswordError(`${what} ${path} cannot be read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code)}`, `fix ${what} or the file`);
  }
  if ((mode & 0o077) !== 0) {
    const why = `${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: a password file must be readable by its owner only`;
    if (what === 'PGPASSFILE') return { ignored: why };
    throw new PgPasswordError(`${what} ${why}`, `chmod 600 ${path}`);
  }
  return readFileSync(path, 'utf8');
}

/** Splits a .pgpass line at unescaped colons, undoing `\:` and `\\`. */
function fields(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) current += line[++i];
    else if (ch === ':') {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

/** The first matching line's password in .pgpass text, as libpq matches (host, port, database, user; `*` for any). */
export function passwordFromPgpass(text: string, target: Pick<PgTarget, 'host' | 'port' | 'database' | 'user'>): string | undefined {
  const wanted = [target.host, String(target.port), target.database, target.user];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const f = fields(line);
    if (f.length < 5) continue;
    if (wanted.every((w, i) => f[i] === '*' || f[i] === w)) return f.slice(4).join(':');
  }
  return undefined;
}

/** The password for `target`; throws PgPasswordError naming the sources when there is none. */
export function lookupPassword(target: PgTarget, env: NodeJS.ProcessEnv = process.env): string {
  if (target.passwordFile) {
    const text = readPrivate(target.passwordFile, 'PKI_DATABASE_PASSWORD_FILE');
    if (typeof text === 'string') return text.replace(/\r?\n$/, '');
  }
  if (env.PGPASSWORD !== undefined && env.PGPASSWORD !== '') return env.PGPASSWORD;
  const passfile = env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass');
  const text = readPrivate(passfile, 'PGPASSFILE');
  if (typeof text === 'string') {
    const found = passwordFromPgpass(text, target);
    if (found !== undefined) return found;
  }
  const ignored = typeof text === 'string' || text.ignored === '' ? '' : ` (${text.ignored}, so it was ignored)`;
  throw new PgPasswordError(`the database server asks a password for user ${target.user} and none was found${ignored}`, `give it in ${SOURCES}`);
}
