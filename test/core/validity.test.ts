import { describe, expect, it } from 'vitest';
import { errorCode } from '../helpers/errors.js';
import { parseDuration, parseTimeSpec, resolveValidity } from '../../src/core/x509/validity.js';

const now = new Date('2028-02-28T12:00:00.750Z'); // the day before a leap day

describe('durations', () => {
  it.each([
    ['15m', 15 * 60_000],
    ['24h', 86_400_000],
    ['90d', 90 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['1y', 365 * 86_400_000],
    ['1h30m', 90 * 60_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '90', 'd', '-1d', '1.5d', '90x', '0d', '1d 2h'])('fail %j', (t) => expect(errorCode(() => parseDuration(t))).toBe('ERR_INVALID_DURATION'));
});

describe('time specs (UTC, whole seconds)', () => {
  it('a duration counts from now and across the leap day', () => {
    expect(parseTimeSpec('1d', now).toISOString()).toBe('2028-02-29T12:00:00.000Z');
    expect(parseTimeSpec('2d', now).toISOString()).toBe('2028-03-01T12:00:00.000Z');
  });
  it('RFC 3339 with offsets is converted to UTC', () => {
    expect(parseTimeSpec('2030-03-31T02:30:00+02:00', now).toISOString()).toBe('2030-03-31T00:30:00.000Z');
    expect(parseTimeSpec('2030-01-01', now).toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });
  it.each(['tomorrow', '2030-13-01T00:00:00Z', '2030-01-01T00:00:00', '10000-01-01T00:00:00Z'])('fail %j', (t) => {
    expect(errorCode(() => parseTimeSpec(t, now))).toMatch(/ERR_INVALID_TIME|ERR_INVALID_DURATION/);
  });
});

describe('validity windows', () => {
  it('backdates notBefore by the clock skew (1 minute)', () => {
    const v = resolveValidity({ now, notAfter: '90d' });
    expect(v.notBefore.toISOString()).toBe('2028-02-28T11:59:00.000Z');
    expect(v.notAfter.toISOString()).toBe('2028-05-28T12:00:00.000Z');
  });
  it('refuses an inverted window', () => {
    expect(errorCode(() => resolveValidity({ now, notAfter: '2020-01-01T00:00:00Z' }))).toBe('ERR_VALIDITY');
  });
});
