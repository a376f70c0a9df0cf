/**
 * The PostgreSQL inventory's address (issue 14): `postgres://user@host:port/database?sslmode=…`, from
 * PKI_DATABASE_URL or pki.json `inventory.url`. Checked here, before any connection, so a typo is one line
 * naming the field. The URL never carries the password: it comes from libpq's own sources (PGPASSWORD,
 * PGPASSFILE or ~/.pgpass) or PKI_DATABASE_PASSWORD_FILE, read by the worker (pg-worker.ts) when the
 * server asks for it.
 *
 * TLS as libpq names it: `sslmode` disable (the default here, as without the parameter), require (encrypted,
 * the server not verified), verify-ca (the chain checked against `sslrootcert`), verify-full (the chain and
 * the host name); `sslrootcert`, `sslcert`, `sslkey` are file paths (a client certificate pki issued, CN =
 * the database user). libpq's `allow` and `prefer` (silently falling back to plain text) are refused.
 */
import { PkiError } from '../../core/errors.js';

export type PgSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/** What the worker connects with: plain data (it crosses to the worker thread), no password. */
export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly sslmode: PgSslMode;
  readonly sslrootcert: string | null;
  readonly sslcert: string | null;
  readonly sslkey: string | null;
  /** Seconds to wait for a connection (libpq's connect_timeout); default 10. */
  readonly connectTimeoutS: number;
  /** The URL as given (it has no password), for messages. */
  readonly display: string;
  /** PKI_DATABASE_PASSWORD_FILE, when set. */
  readonly passwordFile: string | null;
}

const SSL_MODES: readonly PgSslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];
const PARAMETERS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name']);
const HINT = 'write it as postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=FILE (docs/operations.md "A shared PostgreSQL inventory")';

/** True for a URL this backend takes (the rest of pki's inventory settings are SQLite paths). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(url);
}

/**
 * Parses and checks `url`; `source` names where it came from (PKI_DATABASE_URL, pki.json inventory.url).
 * `env` supplies the user's name when the URL has none (libpq's default), and PKI_DATABASE_PASSWORD_FILE.
 */
export function parsePgUrl(url: string, source: string, env: NodeJS.ProcessEnv = process.env): PgTarget {
  const bad = (why: string) => new PkiError('ERR_INVALID_CONFIG', `${source}: ${why}`, { hint: HINT });
  if (!isPostgresUrl(url)) throw bad('must be a postgres:// URL');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('is not a valid URL');
  }
  if (u.password !== '') {
    throw new PkiError('ERR_INVALID_CONFIG', `${source}: the URL carries a password, which would show in process listings, shell history and pki.json`, {
      hint: 'remove it from the URL and give it in PGPASSWORD, ~/.pgpass (PGPASSFILE) or a file named by PKI_DATABASE_PASSWORD_FILE',
    });
  }
  const host = decodeURIComponent(u.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (host === '') throw bad('names no host');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw bad('must name one database after the host (…/DATABASE)');
  const port = u.port === '' ? 5432 : Number(u.port);
  const user = u.username !== '' ? decodeURIComponent(u.username) : (env.PGUSER ?? env.USER ?? env.LOGNAME ?? '');
  if (user === '') throw bad('names no user (postgres://USER@HOST/…)');
  for (const key of u.searchParams.keys()) {
    if (!PARAMETERS.has(key)) throw bad(`unknown parameter "${key}" (known: ${[...PARAMETERS].join(', ')})`);
  }
  const mode = u.searchParams.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw bad(
      mode === 'allow' || mode === 'prefer'
        ? `sslmode=${mode} falls back to an unencrypted connection without saying so: use disable, require, verify-ca or verify-full`
        : `sslmode must be one of ${SSL_MODES.join(', ')}, not "${mode}"`,
    );
  }
  const sslmode = mode as PgSslMode;
  const file = (name: string) => {
    const v = u.searchParams.get(name);
    return v === null || v === '' ? null : v;
  };
  const sslrootcert = file('sslrootcert');
  if (sslmode === 'verify-ca' || sslmode === 'verify-full') {
    if (sslrootcert === null) throw bad(`sslmode=${sslmode} needs sslrootcert=FILE, the CA certificate the server's certificate chains to`);
  }
  if (sslmode === 'disable' && (sslrootcert !== null || file('sslcert') !== null || file('sslkey') !== null)) {
    throw bad('sslrootcert, sslcert and sslkey need sslmode=require, verify-ca or verify-full');
  }
  if ((file('sslcert') === null) !== (file('sslkey') === null)) throw bad('sslcert and sslkey go together (the client certificate and its key)');
  const timeout = u.searchParams.get('connect_timeout');
  const connectTimeoutS = timeout === null ? 10 : Number(timeout);
  if (!Number.isInteger(connectTimeoutS) || connectTimeoutS < 1 || connectTimeoutS > 600) throw bad('connect_timeout must be a number of seconds from 1 to 600');
  return {
    host,
    port,
    user,
    database,
    sslmode,
    sslrootcert,
    sslcert: file('sslcert'),
    sslkey: file('sslkey'),
    connectTimeoutS,
    display: url,
    passwordFile: env.PKI_DATABASE_PASSWORD_FILE || null,
  };
}
