/**
 * Reading an OpenSSL CA database (`index.txt`, what `openssl ca` keeps beside `serial` and `newcerts/`), the
 * format openssl-index.ts writes for `pki db export-index`: six tab-separated fields per line — status (V
 * valid, R revoked, E expired), expiry, revocation time[,reason[,extra]], serial (hex), file name
 * ("unknown" unless `openssl ca` was told one) and subject (/O=…/CN=…). `pki init --import-index` takes the
 * serials and revocations of a flat openssl CA over from it. A line that is not this shape is refused with
 * its number, so a damaged database is never half imported.
 */
import { PkiError } from '../errors.js';
import type { RevocationReason } from '../x509/revocation-reason.js';
import { normalizeSerial } from '../x509/serial.js';

export type OpensslIndexStatus = 'valid' | 'revoked' | 'expired';

export interface ParsedIndexEntry {
  /** 1-based line number in the file, for error messages. */
  readonly line: number;
  readonly status: OpensslIndexStatus;
  /** Normalized as the inventory stores serials (upper-case hex, no leading zeros). */
  readonly serial: string;
  /** The serial field as written (`01`): openssl ca names the copy it keeps `newcerts/<that>.pem`. */
  readonly serialText: string;
  readonly notAfter: Date;
  readonly revokedAt: Date | null;
  /** Null for a revoked line without a reason (openssl ca -revoke without -crl_reason). */
  readonly reason: RevocationReason | null;
  /** The file-name field ("unknown" when openssl recorded none). */
  readonly fileName: string;
  /** OpenSSL's one-line form, as written: /C=DE/O=Example/CN=api. */
  readonly subject: string;
}

/**
 * apps/ca.c crl_reasons, compared without case as openssl does; holdInstruction, keyTime and CAkeyTime
 * (`-crl_hold`, `-crl_compromise`, `-crl_CA_compromise`) are the reasons they imply.
 */
const INDEX_REASONS: Readonly<Record<string, RevocationReason>> = {
  unspecified: 'unspecified',
  keycompromise: 'keyCompromise',
  cacompromise: 'cACompromise',
  affiliationchanged: 'affiliationChanged',
  superseded: 'superseded',
  cessationofoperation: 'cessationOfOperation',
  certificatehold: 'certificateHold',
  removefromcrl: 'removeFromCRL',
  holdinstruction: 'certificateHold',
  keytime: 'keyCompromise',
  cakeytime: 'cACompromise',
};

const STATUSES: Readonly<Record<string, OpensslIndexStatus>> = { V: 'valid', R: 'revoked', E: 'expired' };

function badLine(line: number, why: string): PkiError {
  return new PkiError('ERR_MALFORMED_INDEX', `index.txt line ${line}: ${why}`, {
    hint: 'each line is STATUS<TAB>EXPIRY<TAB>REVOKED[,REASON]<TAB>SERIAL<TAB>FILE<TAB>SUBJECT as openssl ca writes it; fix or remove that line',
  });
}

/** YYMMDDHHMMSSZ (UTCTime: 50–99 → 19xx) or YYYYMMDDHHMMSSZ (GeneralizedTime), as openssl stores them. */
export function parseOpensslTime(text: string): Date | null {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return null;
  let year = Number(m[1]);
  if (m[1]!.length === 2) year += year >= 50 ? 1900 : 2000;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Reject 20261340…: Date.UTC rolls an impossible date over instead of failing.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  return date;
}

/** The revocation field of an R line: time, then optionally a reason and openssl's extra (hold OID, compromise time). */
function parseRevocation(field: string, line: number): { revokedAt: Date; reason: RevocationReason | null } {
  const [time, reasonName] = field.split(',');
  const revokedAt = parseOpensslTime(time ?? '');
  if (!revokedAt) throw badLine(line, `revocation time "${time ?? ''}" is not YYMMDDHHMMSSZ`);
  if (reasonName === undefined || reasonName === '') return { revokedAt, reason: null };
  const reason = INDEX_REASONS[reasonName.toLowerCase()];
  if (!reason) throw badLine(line, `unknown revocation reason "${reasonName}"`);
  return { revokedAt, reason };
}

function parseLine(text: string, line: number): ParsedIndexEntry {
  const fields = text.split('\t');
  if (fields.length !== 6) throw badLine(line, `${fields.length} tab-separated fields, expected 6`);
  const [flag, expiry, revocation, serialHex, fileName, subject] = fields as [string, string, string, string, string, string];
  const status = STATUSES[flag];
  if (!status) throw badLine(line, `status "${flag}" is not V, R or E`);
  const notAfter = parseOpensslTime(expiry);
  if (!notAfter) throw badLine(line, `expiry "${expiry}" is not YYMMDDHHMMSSZ`);
  let serial: string;
  if (!/^[0-9A-Fa-f]+$/.test(serialHex)) throw badLine(line, `serial "${serialHex}" is not hexadecimal`);
  try {
    serial = normalizeSerial(serialHex);
  } catch {
    throw badLine(line, `serial "${serialHex}" is not a serial number (at most 64 hex digits)`);
  }
  if (status === 'revoked') {
    if (revocation === '') throw badLine(line, 'status R without a revocation time');
    return { line, status, serial, serialText: serialHex, notAfter, ...parseRevocation(revocation, line), fileName, subject };
  }
  if (revocation !== '') throw badLine(line, `status ${flag} with a revocation field "${revocation}"`);
  return { line, status, serial, serialText: serialHex, notAfter, revokedAt: null, reason: null, fileName, subject };
}

/** Every line of index.txt; blank lines are skipped, a serial listed twice is refused. */
export function parseOpensslIndex(text: string): ParsedIndexEntry[] {
  const entries: ParsedIndexEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const entry = parseLine(raw, i + 1);
    const earlier = seen.get(entry.serial);
    if (earlier !== undefined) throw badLine(i + 1, `serial ${entry.serial} is listed again (first on line ${earlier})`);
    seen.set(entry.serial, i + 1);
    entries.push(entry);
  }
  return entries;
}

/** `/C=DE/O=Example/CN=api` → `CN=api,O=Example,C=DE` (formatDistinguishedName's form: most specific first, RFC 4514). */
export function subjectFromOneLine(oneLine: string): string {
  const parts = oneLine.split('/').filter((p) => p !== '');
  return parts.reverse().join(',');
}
