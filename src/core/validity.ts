/**
 * Durations and validity windows. Durations are step CLI's (`15m`, `24h`, `90d`) plus `w` and `y`
 * (365 days — a calendar year would make "1y" depend on leap days); times are RFC 3339.
 */
import { PkiError } from './errors.js';

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
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

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
  if (RFC3339.test(trimmed)) {
    ms = Date.parse(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed);
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
