/**
 * PostgreSQL and connection errors (as pg-worker.ts serialises them) → one-line PkiErrors naming the
 * database by its URL (which carries no password): unreachable, refused credentials or TLS, the write
 * lock held too long, a duplicate serial, a schema too new. SQLSTATE codes:
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import { PkiError, type PkiErrorCode } from '../../core/errors.js';
import type { SerializedError } from './pg-bridge.js';
import type { PgTarget } from './pg-url.js';

/** Node's socket errors and pg's own words for a connection that went away. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const UNREACHABLE_TEXT = /Connection terminated|timeout exceeded when trying to connect|Connection ended unexpectedly|the database system is (?:starting up|shutting down)|server closed the connection/i;
/** OpenSSL's and Node's certificate verification codes. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|DEPTH_ZERO|HOSTNAME|ALTNAME/;

export function pgError(e: SerializedError, target: PgTarget): PkiError {
  const where = `the PostgreSQL inventory ${target.display}`;
  const make = (code: PkiErrorCode, message: string, hint?: string) => new PkiError(code, message, hint === undefined ? {} : { hint });
  const sqlstate = e.code ?? '';
  if (e.name === 'PkiError') return make((e.code as PkiErrorCode) ?? 'ERR_INTERNAL', e.message, e.hint);
  if (e.name === 'PgPasswordError') return make('ERR_INVENTORY_AUTH', `${where}: ${e.message}`, e.hint);
  if (sqlstate === 'PKI_TLS_FILE') return make('ERR_INVENTORY_TLS', `${where}: ${e.message}`, e.hint);
  if (UNREACHABLE_CODES.has(sqlstate) || UNREACHABLE_TEXT.test(e.message) || sqlstate === '57P01' || sqlstate === '57P02' || sqlstate === '57P03' || sqlstate.startsWith('08')) {
    return make('ERR_INVENTORY_UNREACHABLE', `cannot reach ${where}: ${e.message}`, 'check that the database server runs and accepts connections from this host, and the host and port in the URL');
  }
  if (sqlstate === '28P01' || sqlstate === '28000') {
    return make('ERR_INVENTORY_AUTH', `${where} refused user ${target.user}: ${e.message}`, 'check the user, its password (PGPASSWORD, ~/.pgpass, PKI_DATABASE_PASSWORD_FILE) or client certificate, and pg_hba.conf');
  }
  if (sqlstate === '3D000') return make('ERR_INVENTORY_MISSING', `${where}: ${e.message}`, `create it first: createdb -O ${target.user} ${target.database}`);
  if (TLS_CODE.test(sqlstate) || /does not support SSL|certificate|SSL/i.test(e.message)) {
    return make('ERR_INVENTORY_TLS', `${where}: TLS: ${e.message}`, 'check sslmode, sslrootcert (the CA of the server\'s certificate), the host name in the URL against the certificate, and sslcert/sslkey');
  }
  if (sqlstate === '55P03') {
    return make('ERR_INVENTORY_BUSY', `${where} stayed locked by another pki process for 10 s`, 'retry when the other pki command has finished');
  }
  if (sqlstate === '23505' && e.constraint === 'certificates_kind_serial') {
    return make('ERR_DUPLICATE_SERIAL', `${where}: a certificate with this serial is already in the inventory`, 'this is a bug: serials are random; please report it');
  }
  if (sqlstate === '42501') return make('ERR_INVENTORY_AUTH', `${where}: ${e.message}`, `grant user ${target.user} the rights on the database (it should own it)`);
  return make('ERR_IO', `${where}: ${e.message}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`);
}
