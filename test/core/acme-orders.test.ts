/**
 * Issue 13, the pure halves of ACME orders: CSR names vs order identifiers (exactly as a set, CN included),
 * the RFC 9773 certificate identifier (the RFC's own example) and renewal window, and the order/authorization
 * status rules of RFC 8555 §7.1.6.
 */
import { describe, expect, it } from 'vitest';
import { ariCertificateId, parseAriCertificateId, serialDerBytes, suggestedRenewalWindow } from '../../src/core/acme/ari.js';
import { matchCsrToOrder } from '../../src/core/acme/csr-order.js';
import { authorizationState, orderState } from '../../src/core/acme/order-status.js';
import { parseSans } from '../../src/core/x509/names.js';

describe('CSR names against the order', () => {
  const order = [
    { type: 'dns', value: 'a.test' },
    { type: 'ip', value: '10.0.0.1' },
  ] as const;
  it('accepts exactly the identifiers, in any order and case, with the CN one of them', () => {
    expect(matchCsrToOrder(parseSans(['10.0.0.1', 'A.TEST']), undefined, order)).toEqual({ ok: true });
    expect(matchCsrToOrder(parseSans(['a.test', '10.0.0.1']), 'a.test', order)).toEqual({ ok: true });
    expect(matchCsrToOrder(parseSans(['a.test']), '10.0.0.1', order)).toEqual({ ok: true });
    expect(matchCsrToOrder(parseSans(['::1']), undefined, [{ type: 'ip', value: '0:0::1' }])).toEqual({ ok: true });
  });
  it('refuses a name too many, a name missing, a foreign CN and email SANs, naming them', () => {
    const extra = matchCsrToOrder(parseSans(['a.test', '10.0.0.1', 'b.test']), undefined, order);
    expect(extra).toMatchObject({ ok: false, detail: expect.stringContaining('not in the order: dns:b.test') });
    expect(matchCsrToOrder(parseSans(['a.test']), undefined, order)).toMatchObject({ ok: false, detail: expect.stringContaining('in the order but not in the CSR: ip:10.0.0.1') });
    expect(matchCsrToOrder(parseSans(['a.test', '10.0.0.1']), 'other.test', order)).toMatchObject({ ok: false, detail: expect.stringContaining('common name') });
    expect(matchCsrToOrder(parseSans(['a.test', '10.0.0.1', 'x@a.test']), undefined, order)).toMatchObject({ ok: false });
  });
});

describe('ARI (RFC 9773)', () => {
  it("makes the RFC's example identifier and reads it back", () => {
    const aki = Buffer.from('69885B6B87464041E1B37B847BA0AE2CDE01C8D4', 'hex');
    expect(ariCertificateId(aki, '0087654321')).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    expect(parseAriCertificateId('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE')).toEqual({ authorityKeyId: aki, serialHex: '87654321' });
  });
  it('pads a serial whose top bit is set, and refuses identifiers that are not DER serials', () => {
    expect(serialDerBytes('7F').toString('hex')).toBe('7f');
    expect(serialDerBytes('80').toString('hex')).toBe('0080');
    expect(parseAriCertificateId('aYhb.gA')).toBeNull(); // negative
    expect(parseAriCertificateId('aYhb.AAE')).toBeNull(); // superfluous 00
    expect(parseAriCertificateId('aYhb')).toBeNull();
    expect(parseAriCertificateId('a+b.AQ')).toBeNull();
  });
  it('suggests two thirds of the lifetime for a twelfth of it, and now for a revoked certificate', () => {
    const nb = new Date('2026-01-01T00:00:00Z');
    const na = new Date('2026-04-01T00:00:00Z'); // 90 days
    const w = suggestedRenewalWindow(nb, na, { revoked: false, now: nb });
    expect(w.start.toISOString()).toBe('2026-03-02T00:00:00.000Z'); // day 60
    expect(w.end.toISOString()).toBe('2026-03-09T12:00:00.000Z'); // + 7.5 days
    const now = new Date('2026-01-10T00:00:00Z');
    const r = suggestedRenewalWindow(nb, na, { revoked: true, now });
    expect(r.end.getTime()).toBeLessThan(now.getTime());
    expect(r.start.getTime()).toBeLessThan(r.end.getTime());
  });
});

describe('order and authorization status (RFC 8555 §7.1.6)', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const later = '2026-01-08T00:00:00Z';
  const past = '2025-12-31T00:00:00Z';
  it('pending until every authorization is valid, then ready', () => {
    expect(orderState('pending', later, ['valid', 'pending'], now)).toEqual({ status: 'pending' });
    expect(orderState('pending', later, ['valid', 'valid'], now)).toEqual({ status: 'ready' });
  });
  it('invalid as soon as one authorization fails, or when the order expired', () => {
    expect(orderState('pending', later, ['valid', 'invalid'], now)).toEqual({ status: 'invalid', cause: { authorization: 1, status: 'invalid' } });
    expect(orderState('ready', later, ['deactivated'], now)).toMatchObject({ status: 'invalid' });
    expect(orderState('pending', past, ['pending'], now)).toEqual({ status: 'invalid', cause: 'expired' });
    expect(orderState('valid', past, ['valid'], now)).toEqual({ status: 'valid' });
  });
  it('expires a pending or valid authorization past its expiry only', () => {
    expect(authorizationState('pending', past, now)).toBe('expired');
    expect(authorizationState('valid', past, now)).toBe('expired');
    expect(authorizationState('invalid', past, now)).toBe('invalid');
    expect(authorizationState('pending', later, now)).toBe('pending');
  });
});
