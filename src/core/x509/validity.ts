/**
 * Durations and validity windows. Durations are step CLI's (`15m`, `24h`, `90d`) plus `w` and `y`
 * (365 days — a calendar year would make "1y" depend on leap days); times are RFC 3339.
 */
import { PkiError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

const DURATION = /^(\d{1,9})(s|m|h|d|w|y)$/;
// X.509 times end in 9999 (GeneralizedTime), JavaScript Dates at ±275,760 years: nothing longer is meaningful,
// and "999999999y" would otherwise turn into an Invalid Date far from where it was typed.
const MAX_DURATION_MS = 10_000 * UNIT_MS.y!;
// RFC 3339 date-time with a mandatory zone; a bare date means midnight UTC.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2})))?$/;

/**
 * Milliseconds of an RFC 3339 match, or NaN when a field is out of range. Date.parse is not used: its
 * fallback parser takes "2030-23-50 02:00:00-23:59" (month 23, day 50) and returns some other date.
 * Fractions of a second are dropped, as parseTimeSpec truncates to whole seconds anyway.
 */
function rfc3339Milliseconds(m: RegExpExecArray): number {
  const n = (i: number): number => Number(m[i] ?? '0');
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [n(1), n(2), n(3), n(4), n(5), n(6), n(8), n(9)];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0–99 to 1900–1999
  date.setUTCHours(hour, minute, second);
  const fieldsKept =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  if (!fieldsKept || offsetHours > 23 || offsetMinutes > 59) return NaN;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  return date.getTime() - (m[7] === '-' ? -offsetMs : offsetMs);
}

/** Milliseconds in a duration such as `90d`; compound durations (`1h30m`) are accepted too. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const parts = trimmed.match(/\d+[a-z]/g);
  if (!parts || parts.join('') !== trimmed) {
    throw new PkiError('ERR_INVALID_DURATION', `"${text}" is not a duration`, {
      hint: 'use a number and a unit: 15m, 24h, 90d, 2w, 1y (or an RFC 3339 time where a time is allowed)',
    });
  }
  let total = 0;
  for (const part of parts) {
    const m = DURATION.exec(part);
    if (!m) throw new PkiError('ERR_INVALID_DURATION', `"${text}" is not a duration`, { hint: 'units are s, m, h, d, w and y' });
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (total <= 0) throw new PkiError('ERR_INVALID_DURATION', `duration "${text}" must be positive`);
  if (total > MAX_DURATION_MS) throw new PkiError('ERR_INVALID_DURATION', `duration "${text}" is longer than 10000 years`);
  return total;
}

/**
 * A point in time given as a duration from `now` (`90d`) or as an RFC 3339 time. Results are truncated to
 * whole seconds: X.509 times have no fractions (RFC 5280 §4.1.2.5).
 */
export function parseTimeSpec(text: string, now: Date): Date {
  const trimmed = text.trim();
  let ms: number;
  const rfc3339 = RFC3339.exec(trimmed);
  if (rfc3339) {
    ms = rfc3339Milliseconds(rfc3339);
    if (Number.isNaN(ms)) throw new PkiError('ERR_INVALID_TIME', `"${text}" is not a valid RFC 3339 time`);
  } else if (/^\d/.test(trimmed) && /[a-z]$/.test(trimmed)) {
    ms = now.getTime() + parseDuration(trimmed);
  } else {
    throw new PkiError('ERR_INVALID_TIME', `"${text}" is neither a duration nor an RFC 3339 time`, {
      hint: 'use a duration such as 90d or a time such as 2027-01-31T00:00:00Z',
    });
  }
  const year = new Date(ms).getUTCFullYear();
  // `!(…)` so NaN (a time past what Date can hold) is refused too.
  if (!(year >= 1950 && year <= 9999)) throw new PkiError('ERR_INVALID_TIME', `"${text}" is outside the years X.509 can express`);
  return wholeSeconds(new Date(ms));
}

export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Default backdating of notBefore so a fresh certificate is valid on hosts whose clocks run slow. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * The validity window of a new certificate: notBefore defaults to `now` minus the clock skew, notAfter
 * is required. Refuses an empty or inverted window.
 */
export function resolveValidity(options: { now: Date; notAfter: string; notBefore?: string | undefined; skewMs?: number }): Validity {
  const notBefore = options.notBefore
    ? parseTimeSpec(options.notBefore, options.now)
    : wholeSeconds(new Date(options.now.getTime() - (options.skewMs ?? DEFAULT_CLOCK_SKEW_MS)));
  const notAfter = parseTimeSpec(options.notAfter, options.now);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new PkiError('ERR_VALIDITY', `notAfter ${notAfter.toISOString()} is not after notBefore ${notBefore.toISOString()}`, {
      hint: 'choose a later --not-after or an earlier --not-before',
    });
  }
  return { notBefore, notAfter };
}
