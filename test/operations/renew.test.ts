/**
 * Issue 10, Done-means 3, the renew operations: renewCertificate and renewAll called as plain functions
 * (no child process, no argv, no TTY; the clock and the passphrase source are values) on a CA home set up
 * with the built CLI, and their results checked with openssl as the CLI tests check the command's.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PkiError } from '../../src/core/errors.js';
import { DEFAULT_RENEWAL_POLICY } from '../../src/core/lifecycle/renewal.js';
import { renewAll } from '../../src/operations/renew-all.js';
import { renewCertificate, type RenewCertificateResult } from '../../src/operations/renew-certificate.js';
import type { RenewContext, RenewOutcome } from '../../src/operations/renew-session.js';
import { CaHome } from '../../src/store/ca-home.js';
import { pki, snapshotTree, tempDir } from '../helpers/cli.js';
import { peer, runPeer } from '../helpers/peers.js';

const DAY = 86_400_000;
const PASSPHRASE = 'operations-test-passphrase';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const certs = (dir: string, service: string) => join(dir, 'services', service, 'main', 'certs');
const x509 = (path: string, ...flags: string[]) => peer('openssl', ['x509', '-in', path, '-noout', ...flags]).trim();
const serialOf = (path: string) => x509(path, '-serial').replace(/^serial=0*/, '');

/** A CA home with an encrypted intermediate key (so a passphrase source is really asked). */
function encryptedCa(): string {
  const dir = join(tempDir('pki-op-renew-'), 'ca');
  const r = pki(['init', '--dir', dir], { env: { PKI_PASSWORD: PASSPHRASE } });
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
}

/** A bundle from `pki generate` (server certificate only); `ageDays` into a 90-day lifetime (80: due under the default threshold). */
function generate(dir: string, service: string, ageDays: number, extra: string[] = []): string {
  const now = Date.now();
  const r = pki(['generate', service, 'main', '--no-client', '--dir', dir, '--not-before', iso(now - ageDays * DAY), '--not-after', iso(now + (90 - ageDays) * DAY), ...extra], {
    env: { PKI_PASSWORD: PASSPHRASE },
  });
  if (r.code !== 0) throw new Error(r.stderr);
  return join(certs(dir, service), `${service}.crt`);
}

/** The passphrase as a value, counting how often the operation asked for it. */
function countingSource(now = new Date()): RenewContext & { asked: () => number } {
  let asked = 0;
  return {
    now,
    passphrase: async (check) => {
      asked++;
      const secret = new TextEncoder().encode(PASSPHRASE);
      if (check && !check(secret)) throw new Error('the test passphrase did not open the key');
      return secret;
    },
    asked: () => asked,
  };
}

/** `openssl verify` of `crt` against the home's root, with the intermediate as untrusted chain. */
function verify(dir: string, crt: string, atMs?: number): string {
  const at = atMs === undefined ? [] : ['-attime', String(Math.floor(atMs / 1000))];
  const r = runPeer('openssl', ['verify', ...at, '-CAfile', join(dir, 'ca', 'root_ca.crt'), '-untrusted', join(dir, 'ca', 'intermediate_ca.crt'), crt]);
  return `${r.stdout.trim()}${r.stderr.trim()}`;
}

/** A leaf for the bundle's key and name, signed by openssl as `caCrt`/`caKey` (not by pki). */
function opensslLeaf(work: string, bundleCrt: string, caCrt: string, caKey: string, serial?: string): string {
  const csr = join(work, 'leaf.csr');
  const ext = join(work, 'leaf.ext');
  const out = join(work, 'leaf.crt');
  const cn = x509(bundleCrt, '-subject').replace(/^subject=CN\s*=\s*/, '');
  peer('openssl', ['req', '-new', '-key', bundleCrt.replace(/\.crt$/, '.key'), '-subj', `/CN=${cn}`, '-out', csr]);
  writeFileSync(ext, ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth, clientAuth', `subjectAltName = DNS:${cn}`, ''].join('\n'));
  peer('openssl', ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-days', '30', '-sha256', '-extfile', ext, ...(serial ? ['-set_serial', `0x${serial}`] : ['-CAcreateserial', '-CAserial', join(work, 'ca.srl')]), '-out', out]);
  return out;
}

/** A look-alike intermediate in `work`: the real one's certificate re-signed by another key (same subject DN), and that key. */
function lookalikeIntermediate(dir: string, work: string): { crt: string; key: string } {
  const key = join(work, 'evil.key');
  const crt = join(work, 'evil.crt');
  peer('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  peer('openssl', ['x509', '-in', join(dir, 'ca', 'intermediate_ca.crt'), '-signkey', key, '-days', '30', '-out', crt]);
  return { crt, key };
}

function renewed(result: RenewCertificateResult) {
  if (result.status !== 'done') throw result.error;
  expect(result.outcome.status).toBe('renewed');
  return result.outcome as Extract<RenewOutcome, { status: 'renewed' }>;
}

function refusal(result: RenewCertificateResult): PkiError {
  expect(result.status).toBe('refused');
  const error = (result as Extract<RenewCertificateResult, { status: 'refused' }>).error;
  expect(error).toBeInstanceOf(PkiError);
  return error as PkiError;
}

describe('renewCertificate', () => {
  it('renews a due bundle certificate: new serial, same SANs and subject, verifies against root + intermediate, asks the passphrase once', async () => {
    const dir = encryptedCa();
    const crt = generate(dir, 'redis', 80, ['--san', 'cache.internal']);
    const old = { serial: serialOf(crt), san: x509(crt, '-ext', 'subjectAltName'), subject: x509(crt, '-subject') };
    const context = countingSource();
    const outcome = renewed(await renewCertificate(new CaHome(dir), { certificatePath: crt, policy: DEFAULT_RENEWAL_POLICY }, context));
    expect(outcome).toMatchObject({ path: crt, serial: old.serial, rekeyed: false, previousCa: null, trustAnchorReplaced: false });
    expect(outcome.newSerial).toBe(serialOf(crt));
    expect(outcome.newSerial).not.toBe(old.serial);
    expect(x509(crt, '-ext', 'subjectAltName')).toBe(old.san);
    expect(x509(crt, '-subject')).toBe(old.subject);
    expect(Date.parse(x509(crt, '-enddate').replace('notAfter=', ''))).toBe(Date.parse(outcome.notAfter));
    expect(verify(dir, crt)).toBe(`${crt}: OK`);
    expect(context.asked()).toBe(1);
  });

  it('a certificate not due is skipped with the instant it becomes due; nothing is asked or written', async () => {
    const dir = encryptedCa();
    const crt = generate(dir, 'redis', 10);
    const before = snapshotTree(dir);
    const context = countingSource();
    const result = await renewCertificate(new CaHome(dir), { certificatePath: crt, policy: DEFAULT_RENEWAL_POLICY }, context);
    expect(result).toMatchObject({ status: 'done', outcome: { status: 'skipped', reason: 'not due', serial: serialOf(crt) }, warnings: [] });
    // Two thirds of the 90 days: due 60 days after notBefore.
    const notBefore = Date.parse(x509(crt, '-startdate').replace('notBefore=', ''));
    expect(Date.parse((result as { outcome: { dueAt: string } }).outcome.dueAt)).toBe(notBefore + 60 * DAY);
    expect(context.asked()).toBe(0);
    expect(snapshotTree(dir)).toBe(before);
    // The clock is a value: 55 days later the same certificate is due.
    const later = countingSource(new Date(Date.now() + 55 * DAY));
    const outcome = renewed(await renewCertificate(new CaHome(dir), { certificatePath: crt, policy: DEFAULT_RENEWAL_POLICY }, later));
    expect(Date.parse(x509(crt, '-startdate').replace('notBefore=', ''))).toBeGreaterThan(Date.now() + 54 * DAY);
    expect(verify(dir, crt, Date.now() + 56 * DAY)).toBe(`${crt}: OK`);
    expect(outcome.newSerial).toBe(serialOf(crt));
  });

  it('a forged certificate (the intermediate\'s name, another key) is refused with ERR_UNTRUSTED_CERTIFICATE before any prompt or write', async () => {
    const dir = encryptedCa();
    const crt = generate(dir, 'redis', 80);
    const work = tempDir('pki-op-forge-');
    const evil = lookalikeIntermediate(dir, work);
    const forged = opensslLeaf(work, crt, evil.crt, evil.key);
    expect(x509(forged, '-issuer')).toBe(x509(crt, '-issuer'));
    writeFileSync(crt, readFileSync(forged)); // through the bundle link, as an attacker with write access would
    const before = snapshotTree(dir);
    const context = countingSource();
    const error = refusal(await renewCertificate(new CaHome(dir), { certificatePath: crt, policy: DEFAULT_RENEWAL_POLICY, force: true }, context));
    expect(error.code).toBe('ERR_UNTRUSTED_CERTIFICATE');
    expect(context.asked()).toBe(0);
    expect(snapshotTree(dir)).toBe(before);
  });

  it('a certificate the intermediate signed under a serial the inventory does not list is refused with ERR_UNKNOWN_SERIAL', async () => {
    const dir = encryptedCa();
    const crt = generate(dir, 'redis', 80);
    const work = tempDir('pki-op-unknown-');
    const key = join(work, 'intermediate.key');
    peer('openssl', ['pkey', '-in', join(dir, 'ca', 'intermediate_ca.key'), '-passin', `pass:${PASSPHRASE}`, '-out', key]);
    const outside = opensslLeaf(work, crt, join(dir, 'ca', 'intermediate_ca.crt'), key, '0123456789abcdef');
    expect(verify(dir, outside)).toBe(`${outside}: OK`);
    writeFileSync(crt, readFileSync(outside));
    const before = snapshotTree(dir);
    const error = refusal(await renewCertificate(new CaHome(dir), { certificatePath: crt, policy: DEFAULT_RENEWAL_POLICY, force: true }, countingSource()));
    expect(error.code).toBe('ERR_UNKNOWN_SERIAL');
    expect(snapshotTree(dir)).toBe(before);
  });
});

describe('renewAll', () => {
  it('renews the due, lists the not due, reports (and with prune retires) a recorded file that is gone, and leaves a fresh CRL alone', async () => {
    const dir = encryptedCa();
    const due = generate(dir, 'redis', 80);
    const alsoDue = generate(dir, 'mqtt', 80);
    const fresh = generate(dir, 'nginx', 10);
    const gone = generate(dir, 'postgres', 80); // due: without prune only a due record's file is looked for
    rmSync(join(dir, 'services', 'postgres'), { recursive: true });
    const serials = { due: serialOf(due), fresh: serialOf(fresh), freshBytes: readFileSync(fresh) };
    const context = countingSource();
    const result = await renewAll(new CaHome(dir), { policy: DEFAULT_RENEWAL_POLICY, listNotDue: true }, context);
    const byPath = new Map(result.certificates.filter((c) => c.path.endsWith('.crt')).map((c) => [c.path, c]));
    expect(byPath.get(due)).toMatchObject({ status: 'renewed', serial: serials.due, newSerial: serialOf(due) });
    expect(serialOf(due)).not.toBe(serials.due);
    expect(verify(dir, due)).toBe(`${due}: OK`);
    expect(byPath.get(alsoDue)).toMatchObject({ status: 'renewed', newSerial: serialOf(alsoDue) });
    expect(byPath.get(fresh)).toMatchObject({ status: 'skipped', reason: 'not due', serial: serials.fresh });
    expect(readFileSync(fresh).equals(serials.freshBytes)).toBe(true);
    expect(byPath.get(gone)).toMatchObject({ status: 'missing', pruned: false });
    expect(result).toMatchObject({ renewed: 2, failed: 0, missing: 1, considered: result.certificates.length, warnings: [] });
    expect(result.crl).toMatchObject({ status: 'not due' });
    expect(context.asked()).toBe(1); // the intermediate is opened once for both renewals

    // prune: the gone file's record is retired, and the next run no longer names it.
    const pruned = await renewAll(new CaHome(dir), { policy: DEFAULT_RENEWAL_POLICY, prune: true }, countingSource());
    expect(pruned.certificates.find((c) => c.path === gone)).toMatchObject({ status: 'missing', pruned: true });
    const after = await renewAll(new CaHome(dir), { policy: DEFAULT_RENEWAL_POLICY, listNotDue: true }, countingSource());
    expect(after.certificates.some((c) => c.path === gone)).toBe(false);
    expect(after).toMatchObject({ renewed: 0, missing: 0 });
  });

  it('re-publishes the intermediate\'s CRL once it is due, and counts the not-due without listing them (the cron path)', async () => {
    const dir = encryptedCa();
    const crt = generate(dir, 'redis', 1);
    const crtBytes = readFileSync(crt);
    const crlPath = join(dir, 'crl', 'intermediate_ca.crl');
    const nextUpdate = () => Date.parse(peer('openssl', ['crl', '-in', crlPath, '-noout', '-nextupdate']).trim().replace('nextUpdate=', ''));
    const before = nextUpdate();
    // 6 days on, the 7-day CRL is in the last third of its lifetime; the 90-day certificate is not due.
    const context = countingSource(new Date(Date.now() + 6 * DAY));
    const result = await renewAll(new CaHome(dir), { policy: DEFAULT_RENEWAL_POLICY }, context);
    expect(result).toMatchObject({ renewed: 0, skipped: 1, failed: 0, missing: 0, considered: 1, certificates: [] });
    expect(result.crl).toMatchObject({ status: 'published', dueness: { reason: 'due' } });
    expect(nextUpdate()).toBeGreaterThan(before + 5 * DAY);
    expect(context.asked()).toBe(1);
    const crlCheck = runPeer('openssl', ['crl', '-in', crlPath, '-noout', '-CAfile', join(dir, 'ca', 'intermediate_ca.crt')]);
    expect(crlCheck.stderr.trim()).toBe('verify OK');
    expect(readFileSync(crt).equals(crtBytes)).toBe(true);
  });

  it('a forged certificate in the inventory\'s path fails with its code while the others are renewed', async () => {
    const dir = encryptedCa();
    const good = generate(dir, 'redis', 80);
    const bad = generate(dir, 'nginx', 80);
    const work = tempDir('pki-op-forge-all-');
    const evil = lookalikeIntermediate(dir, work);
    const forged = opensslLeaf(work, bad, evil.crt, evil.key);
    writeFileSync(bad, readFileSync(forged));
    const result = await renewAll(new CaHome(dir), { policy: DEFAULT_RENEWAL_POLICY }, countingSource());
    expect(result.certificates.find((c) => c.path === bad)).toMatchObject({ status: 'failed', error: { code: 'ERR_UNTRUSTED_CERTIFICATE' } });
    expect(result.certificates.find((c) => c.path === good)).toMatchObject({ status: 'renewed' });
    expect(readFileSync(bad).equals(readFileSync(forged))).toBe(true);
    expect(verify(dir, good)).toBe(`${good}: OK`);
  });
});
