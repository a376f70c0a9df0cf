/**
 * Issue 9, point 16: the intermediate's CRL no longer expires silently. `pki crl --if-due` (its own cron
 * line) and `pki renew --all` (the cron entry point) re-publish it once it is within a third of its
 * lifetime of nextUpdate, and say so; otherwise "not due", exit 0, nothing written. The root's CRL is
 * never signed unattended: when it is due, they warn. Fixed clocks throughout (PKI_TEST_NOW).
 * Point 15's pki.json field crl.rootNextUpdate and `pki crl --root` flag combinations are here too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => ({ env: { PKI_TEST_NOW: new Date(T0 + days * DAY).toISOString().replace('.000Z', 'Z') } });
const iso = (days: number) => new Date(T0 + days * DAY).toISOString();

/** A CA made at T0: its first CRL runs T0 → T0 + 7d, due from T0 + 4d 16h (a third of 7 days before the end). */
function caAtT0(): string {
  const dir = join(tempDir(), 'ca');
  const r = pki(['init', '--no-password', '--insecure', '--dir', dir], at(0));
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

const nextUpdateOf = (dir: string, file = 'intermediate_ca.crl') => peer('openssl', ['crl', '-in', join(dir, 'crl', file), '-noout', '-nextupdate']).trim();

interface Republication {
  status: string;
  dueness: { reason: string; nextUpdate: string | null; dueAt: string | null };
  crl: { crlNumber: string; nextUpdate: string; chainPath: string | null } | null;
  error: { code: string } | null;
  root: { due: boolean; reason: string } | null;
}

describe('pki crl --if-due', () => {
  it('before the last third of the lifetime: "not due", exit 0, nothing on disk changes', () => {
    const dir = caAtT0();
    const before = snapshotTree(dir);
    const r = pki(['crl', '--if-due', '--json', '--dir', dir], at(4.5));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Republication;
    expect(out).toMatchObject({ status: 'not due', crl: null, dueness: { reason: 'not due', nextUpdate: iso(7), dueAt: new Date(T0 + 7 * DAY - Math.floor((7 * DAY) / 3)).toISOString() } });
    expect(snapshotTree(dir)).toBe(before);
    const human = pki(['crl', '--if-due', '--dir', dir], at(4.5));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^CRL not due: .*intermediate_ca\.crl is valid until 2030-01-08T00:00:00\.000Z/);
  });

  it('within the last third: re-published with the next number and a new nextUpdate, chain.crl.pem too; then not due again', () => {
    const dir = caAtT0();
    const r = pki(['crl', '--if-due', '--json', '--dir', dir], at(5));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Republication;
    expect(out).toMatchObject({ status: 'published', dueness: { reason: 'due' }, crl: { crlNumber: '2', nextUpdate: iso(12), chainPath: join(dir, 'crl/chain.crl.pem') } });
    expect(nextUpdateOf(dir)).toBe('nextUpdate=Jan 13 00:00:00 2030 GMT');
    expect(readFileSync(join(dir, 'crl/chain.crl.pem'), 'utf8').endsWith(readFileSync(join(dir, 'crl/intermediate_ca.crl'), 'utf8'))).toBe(true);
    const again = pki(['crl', '--if-due', '--json', '--dir', dir], at(5));
    expect((JSON.parse(again.stdout) as Republication).status).toBe('not due');
  });

  it('an expired or missing CRL is due', () => {
    const dir = caAtT0();
    const expired = pki(['crl', '--if-due', '--json', '--dir', dir], at(30));
    expect(JSON.parse(expired.stdout)).toMatchObject({ status: 'published', dueness: { reason: 'expired' } });
    writeFileSync(join(dir, 'crl/intermediate_ca.crl'), 'not a CRL\n');
    const unreadable = pki(['crl', '--if-due', '--json', '--dir', dir], at(30));
    expect(JSON.parse(unreadable.stdout)).toMatchObject({ status: 'published', dueness: { reason: 'unreadable' } });
  });

  it('warns (stderr, JSON root.due) when the root CRL is due, and never signs it unattended', () => {
    const dir = caAtT0();
    const rootBefore = readFileSync(join(dir, 'crl/root_ca.crl'));
    const r = pki(['crl', '--if-due', '--json', '--dir', dir], at(250)); // root CRL: 365 days, due from day 243⅓
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Republication).root).toMatchObject({ due: true, reason: 'due' });
    expect(r.stderr).toMatch(/warning: the root CRL .*root_ca\.crl is due .*pki crl --root/);
    expect(readFileSync(join(dir, 'crl/root_ca.crl'))).toEqual(rootBefore);
    const early = pki(['crl', '--if-due', '--dir', dir], at(100));
    expect(early.stderr).toBe('');
  });

  it('refuses --if-due with --root (usage, exit 2), nothing written', () => {
    const dir = caAtT0();
    const before = snapshotTree(dir);
    const r = pki(['crl', '--if-due', '--root', '--json', '--dir', dir], at(5));
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('ERR_USAGE');
    expectOneLineError(r, 2);
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('pki renew --all re-publishes a due CRL', () => {
  it('says so in --json and in its output, and leaves a CRL that is not due alone', () => {
    const dir = caAtT0();
    const notDue = pki(['renew', '--all', '--json', '--dir', dir], at(1));
    expect(notDue.code, notDue.stderr).toBe(0);
    expect((JSON.parse(notDue.stdout) as { crl: Republication }).crl).toMatchObject({ status: 'not due', crl: null });

    const due = pki(['renew', '--all', '--json', '--dir', dir], at(6));
    expect(due.code, due.stderr).toBe(0);
    expect((JSON.parse(due.stdout) as { crl: Republication }).crl).toMatchObject({ status: 'published', crl: { crlNumber: '2', nextUpdate: iso(13) } });
    expect(nextUpdateOf(dir)).toBe('nextUpdate=Jan 14 00:00:00 2030 GMT');

    const human = pki(['renew', '--all', '--dir', dir], at(11));
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Published CRL #3 with 0 revoked certificates to .*intermediate_ca\.crl .*; next update by 2030-01-19T00:00:00\.000Z \(it was due\)$/m);
    // --quiet (cron mail only when something needs a look): a routine re-publication is success chatter.
    const quiet = pki(['renew', '--all', '--quiet', '--dir', dir], at(16));
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(nextUpdateOf(dir)).toBe('nextUpdate=Jan 24 00:00:00 2030 GMT');
  });

  it('--exec runs after a re-published CRL (servers must reload it), not when nothing changed', () => {
    const dir = caAtT0();
    const marker = join(tempDir('pki-exec-'), 'reloaded');
    const exec = ['--exec', `echo reload >> ${marker}`];
    expect(pki(['renew', '--all', ...exec, '--quiet', '--dir', dir], at(1)).code).toBe(0);
    expect(() => readFileSync(marker)).toThrow();
    const due = pki(['renew', '--all', ...exec, '--json', '--dir', dir], at(6));
    expect(due.code, due.stderr).toBe(0);
    expect(JSON.parse(due.stdout)).toMatchObject({ renewed: 0, crl: { status: 'published' }, exec: { ok: true } });
    expect(readFileSync(marker, 'utf8')).toBe('reload\n');
  });

  it('a due CRL that cannot be signed (revoked intermediate) fails the run with its code, exit 1', () => {
    const dir = caAtT0();
    const serial = peer('openssl', ['x509', '-in', join(dir, 'ca/intermediate_ca.crt'), '-noout', '-serial']).trim().slice('serial='.length);
    expect(pki(['revoke', serial, '--dir', dir], at(1)).code).toBe(0);
    const r = pki(['renew', '--all', '--json', '--dir', dir], at(6));
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { crl: Republication }).crl).toMatchObject({ status: 'failed', error: { code: 'ERR_ISSUER_REVOKED' } });
    expect(r.stderr).toMatch(/the CRL is due but was not re-published: the intermediate CA .* was revoked/);
  });
});

describe('pki.json crl.rootNextUpdate and pki crl --root', () => {
  it('the root CRL lifetime comes from --next-update, else crl.rootNextUpdate, else 1y', () => {
    const dir = caAtT0();
    expect(nextUpdateOf(dir, 'root_ca.crl')).toBe('nextUpdate=Jan  1 00:00:00 2031 GMT');
    const config = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'pki.json'), JSON.stringify({ ...config, crl: { rootNextUpdate: '30d' } }));
    const r = pki(['crl', '--root', '--json', '--dir', dir], at(2));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ crlNumber: '2', nextUpdate: iso(32), entries: 0 });
    const flag = pki(['crl', '--root', '--next-update', '2y', '--json', '--dir', dir], at(2));
    expect(JSON.parse(flag.stdout)).toMatchObject({ crlNumber: '3', nextUpdate: iso(2 + 730) });
    // The intermediate's lifetime is unchanged by the root's field (crl.nextUpdate defaults to 7d).
    const inter = pki(['crl', '--json', '--dir', dir], at(2));
    expect(JSON.parse(inter.stdout)).toMatchObject({ nextUpdate: iso(9) });
  });

  it('refuses a bad crl.rootNextUpdate with the field named (exit 1, nothing written)', () => {
    const dir = caAtT0();
    const config = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'pki.json'), JSON.stringify({ ...config, crl: { rootNextUpdate: 'yearly' } }));
    const before = snapshotTree(dir);
    const r = pki(['crl', '--root', '--json', '--dir', dir], at(2));
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('ERR_INVALID_CONFIG');
    expect(expectOneLineError(r)).toMatch(/crl\.rootNextUpdate: must be a duration/);
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('encrypted CA keys', () => {
  it('pki crl --root asks for the root passphrase: a wrong one changes nothing, the right one signs', () => {
    const work = tempDir('pki-crl-pw-');
    const good = join(work, 'pass');
    const bad = join(work, 'wrong');
    writeFileSync(good, 'correct horse battery staple\n', { mode: 0o600 });
    writeFileSync(bad, 'not the passphrase\n', { mode: 0o600 });
    const dir = join(work, 'ca');
    expect(pki(['init', '--password-file', good, '--dir', dir], at(0)).code).toBe(0);
    const before = snapshotTree(dir);
    const wrong = pki(['crl', '--root', '--password-file', bad, '--json', '--dir', dir], at(1));
    expect(wrong.code).toBe(1);
    expect((JSON.parse(wrong.stdout) as { error: { code: string } }).error.code).toBe('ERR_BAD_PASSWORD');
    expect(snapshotTree(dir)).toBe(before);
    const right = pki(['crl', '--root', '--password-file', good, '--json', '--dir', dir], at(1));
    expect(right.code, right.stderr).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ crlNumber: '2', nextUpdate: iso(366) });
    // revoke <intermediate> with the encrypted root key here: a wrong passphrase records nothing.
    const serial = peer('openssl', ['x509', '-in', join(dir, 'ca/intermediate_ca.crt'), '-noout', '-serial']).trim().slice('serial='.length);
    const beforeRevoke = snapshotTree(dir);
    const refused = pki(['revoke', serial, '--password-file', bad, '--json', '--dir', dir], at(1));
    expect((JSON.parse(refused.stdout) as { error: { code: string } }).error.code).toBe('ERR_BAD_PASSWORD');
    expect(snapshotTree(dir)).toBe(beforeRevoke);
    const revoked = pki(['revoke', serial, '--password-file', good, '--json', '--dir', dir], at(1));
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ crl: { crlNumber: '3', entries: 1 } });
  });
});
