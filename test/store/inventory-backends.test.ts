/**
 * Issue 14: every Inventory method, the same tests on both backends — the embedded SQLite database and
 * PostgreSQL (a real server started here, one fresh database per test) — and the two backends giving
 * the same answers to the same calls. PostgreSQL runs through the worker bridge (pg-bridge.ts), loaded
 * from dist/pki/pg-worker.cjs: run `npm run build` first, as for the CLI tests.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend, BACKENDS, type Backend, type BackendName } from '../helpers/inventory-backends.js';
import { startPostgres, type TlsPostgres } from '../helpers/postgres.js';
import { isPkiError } from '../../src/core/errors.js';
import type { NewCertificateRecord } from '../../src/store/inventory/index.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(T0.getTime() + days * DAY);

let server: TlsPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.server.stop();
});

const backends: Record<BackendName, () => Backend> = {
  sqlite: () => openBackend('sqlite', () => server, () => T0),
  postgres: () => openBackend('postgres', () => server, () => T0),
};

let serials = 0;
function record(overrides: Partial<NewCertificateRecord> = {}): NewCertificateRecord {
  const serial = overrides.serial ?? (0x1000 + ++serials).toString(16).toUpperCase();
  return {
    kind: 'x509',
    serial,
    subject: `CN=host-${serial}`,
    sans: { dns: [`host-${serial}.test`], ip: [], email: [], uri: [] },
    profile: 'server',
    issuer: 'CN=Test Intermediate',
    notBefore: at(-1).toISOString(),
    notAfter: at(89).toISOString(),
    fingerprintSha256: serial.padStart(64, '0'),
    certificatePath: null,
    keyPath: null,
    pem: `-----BEGIN CERTIFICATE-----\n${serial}\n-----END CERTIFICATE-----\n`,
    ...overrides,
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

/** Every method once, the answers collected: both backends must give the same list. */
function scenario(b: Backend): unknown[] {
  const inv = b.inventory;
  const out: unknown[] = [];
  const path = join(b.home, 'services', 'web', 'tls.crt');
  const a = record({ serial: 'A1', certificatePath: path, keyPath: join(b.home, 'services', 'web', 'tls.key'), notAfter: at(10).toISOString() });
  const c = record({ serial: 'C3', kind: 'ssh', profile: 'ssh-user', keyId: 'alice', notAfter: at(5).toISOString() });
  inv.recordIssued([a, record({ serial: 'B2', notAfter: at(60).toISOString(), ca: 'systems', issuerKeyId: 'AA' }), c]);
  inv.recordIssued([record({ serial: 'A2', certificatePath: path, supersedes: 'B2' })]);
  out.push(inv.list().map((r) => [r.kind, r.serial, r.status, r.supersededBy, r.certificatePath, r.ca ?? null, r.issuerKeyId ?? null, r.issuedAt]));
  out.push(inv.listSummaries({ kind: 'x509', status: 'valid' }));
  out.push(inv.list({ expiringBefore: at(20) }).map((r) => r.serial));
  out.push(inv.importMissing([record({ serial: 'A1' }), record({ serial: 'D4', profile: 'client' })]));
  out.push(inv.find('x509', 'A2'));
  out.push(inv.find('x509', 'ZZ') ?? null);
  out.push(inv.retire('x509', ['D4', 'A1', 'NOPE']));
  out.push(inv.revoke('x509', 'A2', at(1), 'keyCompromise').status);
  out.push(inv.listRevokedUnexpired('x509', T0).map((r) => [r.serial, r.revokedAt, r.revocationReason]));
  out.push(inv.listRevocations('x509', T0));
  out.push(inv.listRevocations('x509', T0, { trustDomain: null, ca: 'systems' }));
  out.push([...inv.iterateLeafRevocations('x509', T0, { trustDomain: null, ca: null })]);
  out.push(inv.renewalCandidates(at(0), { threshold: 2 / 3 }));
  out.push(inv.renewalCandidates(at(0), { expiresWithinMs: 100 * DAY }).candidates.map((s) => s.serial));
  out.push(inv.listForCheck(T0).map((r) => r.serial).sort());
  out.push([inv.nextSequenceNumber('crl'), inv.nextSequenceNumber('crl'), inv.nextSequenceNumber('crl:systems', 10n), inv.nextSequenceNumber('crl', 2n)]);
  inv.notePublished('crl', 'dev:ino:size');
  out.push([inv.lastPublished('crl'), inv.lastPublished('krl') ?? null]);
  out.push([...inv.previousCaSerials()]);
  return out;
}

describe.each(BACKENDS)('Inventory on %s', (name) => {
  const open = backends[name];

  it('records, finds, lists, supersedes by path and by `supersedes`, imports only what is missing, retires', () => {
    const b = open();
    const inv = b.inventory;
    const path = join(b.home, 'services', 'web', 'tls.crt');
    inv.recordIssued([record({ serial: '0A', certificatePath: path, notAfter: at(30).toISOString() }), record({ serial: '0B', notAfter: at(20).toISOString() })]);
    inv.recordIssued([record({ serial: '0C', certificatePath: path, supersedes: '0B' })]);
    expect(inv.find('x509', '0A')).toMatchObject({ status: 'superseded', supersededBy: '0C', certificatePath: path, issuedAt: T0.toISOString(), revokedAt: null });
    expect(inv.find('x509', '0B')).toMatchObject({ status: 'superseded', supersededBy: '0C' });
    expect(inv.find('x509', '0C')).toMatchObject({ status: 'valid', sans: { dns: ['host-0C.test'], ip: [], email: [], uri: [] }, supersedes: '0B' });
    expect(inv.list().map((r) => r.serial)).toEqual(['0B', '0A', '0C']); // by notAfter, then serial
    expect(inv.list({ status: 'valid' }).map((r) => r.serial)).toEqual(['0C']);
    expect(inv.list({ expiringBefore: at(25) }).map((r) => r.serial)).toEqual(['0B']);
    expect(inv.listSummaries({ status: 'superseded' })).toEqual([
      { kind: 'x509', serial: '0B', profile: 'server', status: 'superseded', notBefore: at(-1).toISOString(), notAfter: at(20).toISOString(), certificatePath: null, keyPath: null },
      { kind: 'x509', serial: '0A', profile: 'server', status: 'superseded', notBefore: at(-1).toISOString(), notAfter: at(30).toISOString(), certificatePath: path, keyPath: null },
    ]);
    expect(inv.importMissing([record({ serial: '0A' }), record({ serial: '0D' }), record({ serial: '0E', kind: 'ssh', profile: 'ssh-host' })])).toBe(2);
    expect(inv.find('x509', '0A')!.status).toBe('superseded'); // left as it was
    expect(inv.retire('x509', ['0C', '0D', '0A'])).toBe(2);
    expect(inv.list({ kind: 'x509', status: 'valid' })).toEqual([]);
    expect(inv.list({ kind: 'ssh' }).map((r) => r.serial)).toEqual(['0E']);
    inv.close();
  });

  it('refuses a duplicate serial and records none of its batch', () => {
    const b = open();
    const inv = b.inventory;
    inv.recordIssued([record({ serial: '1A' })]);
    const e = thrown(() => inv.recordIssued([record({ serial: '1B' }), record({ serial: '1A' })]));
    expect(isPkiError(e, 'ERR_DUPLICATE_SERIAL')).toBe(true);
    expect((e as Error).message).toBe('serial 1A is already in the inventory');
    expect(inv.find('x509', '1B')).toBeUndefined();
    inv.recordIssued([record({ serial: '1A', kind: 'ssh', profile: 'ssh-user' })]); // the same serial of the other kind is another certificate
    inv.close();
  });

  it('revokes once, lists revocations by issuer scope, and the mark changes for another connection', () => {
    const b = open();
    const inv = b.inventory;
    const other = b.other();
    inv.recordIssued([
      record({ serial: '2A' }),
      record({ serial: '2B', ca: 'users', issuerKeyId: 'K1' }),
      record({ serial: '2C', trustDomain: 'redis' }),
      record({ serial: '2D', profile: 'intermediate' }),
      record({ serial: '2E', notAfter: at(-0.5).toISOString(), notBefore: at(-10).toISOString() }),
    ]);
    const mark = other.revocationMark('x509');
    expect(inv.revoke('x509', '2A', at(0.1), 'keyCompromise')).toMatchObject({ status: 'revoked', revokedAt: at(0.1).toISOString(), revocationReason: 'keyCompromise' });
    expect(other.revocationMark('x509')).not.toBe(mark);
    for (const [s, t] of [['2B', 0.2], ['2C', 0.3], ['2D', 0.4], ['2E', 0.05]] as const) inv.revoke('x509', s, at(t), 'superseded');
    expect(isPkiError(thrown(() => inv.revoke('x509', '2A', at(1), 'unspecified')), 'ERR_ALREADY_REVOKED')).toBe(true);
    expect(isPkiError(thrown(() => inv.revoke('x509', 'FFFF', at(1), 'unspecified')), 'ERR_UNKNOWN_SERIAL')).toBe(true);
    expect(other.listRevokedUnexpired('x509', T0).map((r) => r.serial)).toEqual(['2A', '2B', '2C', '2D']); // 2E has expired
    expect(other.listRevocations('x509', T0).map((r) => [r.serial, r.profile])).toEqual([['2A', 'server'], ['2B', 'server'], ['2C', 'server'], ['2D', 'intermediate']]);
    expect(other.listRevocations('x509', T0, { trustDomain: null, ca: null }).map((r) => r.serial)).toEqual(['2A', '2D']);
    expect(other.listRevocations('x509', T0, { trustDomain: null, ca: 'users', issuerKeyId: 'K1' }).map((r) => r.serial)).toEqual(['2B']);
    expect(other.listRevocations('x509', T0, { trustDomain: null, ca: 'users', issuerKeyId: 'K2' })).toEqual([]);
    expect(other.listRevocations('x509', T0, { trustDomain: 'redis' }).map((r) => r.serial)).toEqual(['2C']);
    expect([...other.iterateLeafRevocations('x509', T0)]).toEqual([
      { serial: '2A', revokedAt: at(0.1).toISOString(), revocationReason: 'keyCompromise' },
      { serial: '2B', revokedAt: at(0.2).toISOString(), revocationReason: 'superseded' },
      { serial: '2C', revokedAt: at(0.3).toISOString(), revocationReason: 'superseded' },
    ]);
    expect(other.listRevocations('ssh', T0)).toEqual([]);
    other.close();
    inv.close();
  });

  it('renewal candidates, the valid leaf total, shared paths; check records; records of a replaced CA', () => {
    const b = open();
    const inv = b.inventory;
    const shared = join(b.home, 'shared.crt');
    inv.recordIssued([
      record({ serial: '3A', notBefore: at(-80).toISOString(), notAfter: at(10).toISOString() }), // 8/9 through
      record({ serial: '3B', notBefore: at(-10).toISOString(), notAfter: at(80).toISOString() }),
      record({ serial: '3C', profile: 'intermediate', notAfter: at(1).toISOString() }),
      record({ serial: '3D', kind: 'ssh', profile: 'ssh-host', notAfter: at(-1).toISOString(), notBefore: at(-2).toISOString() }),
      record({ serial: '3E', kind: 'ssh', profile: 'ssh-user', notAfter: at(3).toISOString() }),
    ]);
    let r = inv.renewalCandidates(T0, { threshold: 2 / 3 });
    expect(r.candidates.map((c) => c.serial)).toEqual(['3A']);
    expect(r).toMatchObject({ total: 2, sharedPaths: false });
    expect(inv.renewalCandidates(T0, { expiresWithinMs: 79 * DAY }).candidates.map((c) => c.serial)).toEqual(['3A']);
    expect(inv.renewalCandidates(T0, { expiresWithinMs: 80 * DAY }).candidates.map((c) => c.serial)).toEqual(['3A', '3B']);
    // Two valid leaves on one path: possible when imported (importMissing does not supersede).
    inv.importMissing([record({ serial: '3F', certificatePath: shared }), record({ serial: '3G', certificatePath: shared })]);
    r = inv.renewalCandidates(T0, { threshold: 2 / 3 });
    expect(r).toMatchObject({ total: 4, sharedPaths: true });
    expect(inv.listForCheck(T0).map((c) => c.serial).sort()).toEqual(['3A', '3B', '3C', '3E', '3F', '3G']);
    expect(inv.listForCheck(T0).find((c) => c.serial === '3F')).toEqual({
      kind: 'x509',
      serial: '3F',
      profile: 'server',
      subject: 'CN=host-3F',
      issuer: 'CN=Test Intermediate',
      notBefore: at(-1).toISOString(),
      notAfter: at(89).toISOString(),
      fingerprintSha256: '3F'.padStart(64, '0'),
      certificatePath: shared,
      previousCa: null,
    });
    b.exec(`UPDATE certificates SET previous_ca = 'FP' WHERE serial = '3B'`);
    expect([...inv.previousCaSerials()]).toEqual([['3B', 'FP']]);
    expect(inv.renewalCandidates(T0, { threshold: 2 / 3 }).candidates.map((c) => [c.serial, c.previousCa ?? null])).toEqual([
      ['3A', null],
      ['3B', 'FP'],
    ]);
    inv.close();
  });

  it('CRL Numbers: strictly increasing across connections, at least `atLeast`, with the published file noted', () => {
    const b = open();
    const [inv, other] = [b.inventory, b.other()];
    expect(inv.lastPublished('crl')).toBeUndefined();
    expect(inv.nextSequenceNumber('crl')).toBe(1n);
    expect(other.nextSequenceNumber('crl')).toBe(2n);
    inv.notePublished('crl', 'file-2');
    expect(other.lastPublished('crl')).toEqual({ number: 2n, file: 'file-2' });
    expect(other.nextSequenceNumber('crl', 100n)).toBe(100n);
    expect(inv.lastPublished('crl')).toEqual({ number: 100n, file: null });
    expect(inv.nextSequenceNumber('crl', 5n)).toBe(101n);
    expect(inv.nextSequenceNumber('root-crl@redis', 2n ** 53n + 1n)).toBe(2n ** 53n + 1n); // beyond a double's integers: carried as bigint
    other.close();
    inv.close();
  }, 60_000);

  it('exclusive(): one transaction that commits, or rolls back everything when it throws, nested included', () => {
    const b = open();
    const inv = b.inventory;
    const n = inv.exclusive(() => {
      inv.recordIssued([record({ serial: '5A' })]);
      return inv.nextSequenceNumber('crl');
    });
    expect(n).toBe(1n);
    expect(thrown(() => inv.exclusive(() => {
      inv.recordIssued([record({ serial: '5B' })]);
      inv.nextSequenceNumber('crl');
      throw new Error('publishing failed');
    }))).toMatchObject({ message: 'publishing failed' });
    expect(inv.find('x509', '5B')).toBeUndefined();
    expect(inv.lastPublished('crl')?.number).toBe(1n);
    // A nested failure caught inside keeps the outer transaction's other writes.
    inv.exclusive(() => {
      inv.recordIssued([record({ serial: '5C' })]);
      expect(isPkiError(thrown(() => inv.recordIssued([record({ serial: '5D' }), record({ serial: '5A' })])), 'ERR_DUPLICATE_SERIAL')).toBe(true);
    });
    expect([inv.find('x509', '5C')?.status, inv.find('x509', '5D')]).toEqual(['valid', undefined]);
    inv.close();
  });
});

describe('SQLite and PostgreSQL answer alike', () => {
  it('the same calls give the same answers on both backends', () => {
    const [sqlite, postgres] = [backends.sqlite(), backends.postgres()];
    const relative = (b: Backend, answers: unknown[]) => JSON.parse(JSON.stringify(answers, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? v.replaceAll(b.home, '<home>') : v))) as unknown;
    const expected = relative(sqlite, scenario(sqlite));
    expect(relative(postgres, scenario(postgres))).toEqual(expected);
    sqlite.inventory.close();
    postgres.inventory.close();
  });
});
