/**
 * Issue 13, ACME identifier allowlists (docs/serve.md "Patterns"): `*.test` is one label, `.internal` any
 * depth (wildcards under it included, `*.internal` too), a bare name itself, a CIDR its IP identifiers;
 * malformed names and prefix lengths match nothing.
 */
import { describe, expect, it } from 'vitest';
import { isDnsName, isIdentifierAllowed, isIpPattern, matchesIdentifierPattern } from '../../src/core/acme/identifier-pattern.js';

const dns = (value: string) => ({ type: 'dns' as const, value });
const ip = (value: string) => ({ type: 'ip' as const, value });
const m = (value: string, pattern: string) => matchesIdentifierPattern(value.includes(':') || /^[\d./]+$/.test(value) ? ip(value) : dns(value), pattern);

describe('identifier patterns', () => {
  it('*.test matches exactly one label under test, and the wildcard *.test itself', () => {
    expect(['a.test', 'A.Test.', 'x-1.test', '*.test'].map((n) => m(n, '*.test'))).toEqual([true, true, true, true]);
    expect(['test', 'a.b.test', '*.a.test', 'atest', '.test', 'a.test.evil'].map((n) => m(n, '*.test'))).toEqual([false, false, false, false, false, false]);
  });

  it('.internal matches every name under internal at any depth, and the wildcards under it (*.internal included)', () => {
    expect(['a.internal', 'a.b.internal', '*.internal', '*.a.internal', 'DB.Internal.'].map((n) => m(n, '.internal'))).toEqual([true, true, true, true, true]);
    expect(['internal', 'xinternal', 'a.internal.evil', '*.xinternal'].map((n) => m(n, '.internal'))).toEqual([false, false, false, false]);
  });

  it('a bare name matches itself only (case and trailing dot ignored)', () => {
    expect(m('DB.internal.', 'db.internal')).toBe(true);
    expect(m('a.db.internal', 'db.internal')).toBe(false);
    expect(m('*.db.internal', 'db.internal')).toBe(false);
  });

  it('names that are not DNS names match nothing', () => {
    for (const bad of ['a..internal', 'a*.internal', '*a.internal', 'a.*.internal', '-a.internal', `${'x'.repeat(64)}.internal`, '', 'a b.internal']) {
      expect([bad, matchesIdentifierPattern(dns(bad), '.internal') || matchesIdentifierPattern(dns(bad), '*.internal')]).toEqual([bad, false]);
    }
    expect(isDnsName('_acme-challenge.a.internal')).toBe(true);
    expect(isDnsName(`${'a.'.repeat(127)}b`)).toBe(false);
  });

  it('CIDRs match IP identifiers inside them (v4 and v6), a bare address itself; DNS patterns never match IPs', () => {
    expect(m('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(m('11.0.0.1', '10.0.0.0/8')).toBe(false);
    expect(m('192.168.1.130', '192.168.1.128/25')).toBe(true);
    expect(m('192.168.1.127', '192.168.1.128/25')).toBe(false);
    expect(m('10.0.0.1', '10.0.0.1')).toBe(true);
    expect(m('10.0.0.2', '10.0.0.1')).toBe(false);
    expect(m('fd00::1', 'fd00::/8')).toBe(true);
    expect(m('fe80::1', 'fd00::/8')).toBe(false);
    expect(m('10.0.0.1', '::/0')).toBe(false);
    expect(m('10.0.0.1', '*.test')).toBe(false);
    expect(matchesIdentifierPattern(dns('10.0.0.1'), '10.0.0.0/8')).toBe(false);
    expect(isIpPattern('10.0.0.0/8') && isIpPattern('::1') && !isIpPattern('*.test')).toBe(true);
  });

  it('a prefix length that is not plain digits within range matches nothing (10.0.0.0/ is not /0)', () => {
    for (const bad of ['10.0.0.0/', '10.0.0.0/33', '10.0.0.0/8x', '10.0.0.0/-1', '10.0.0.0/0x8', '10.0.0.0/ 8']) expect([bad, m('10.1.1.1', bad)]).toEqual([bad, false]);
    expect(m('10.1.1.1', '0.0.0.0/0')).toBe(true);
  });

  it('isIdentifierAllowed: any pattern of the list; an empty list allows nothing', () => {
    expect(isIdentifierAllowed(dns('a.test'), ['10.0.0.0/8', '*.test'])).toBe(true);
    expect(isIdentifierAllowed(dns('a.test'), [])).toBe(false);
  });
});
