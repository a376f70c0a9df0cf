/**
 * Issue 6 point 4: SIGKILL at every write step of `pki revoke` (PKI_TEST_CRASH_AT): the inventory and the
 * published CRL (PEM and DER copy) agree afterwards, or the next `pki crl` makes them agree; CRL Numbers
 * keep increasing; the next run leaves no temp file behind. generate and renew: bundle-crash.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCa, pki, tempDir } from '../helpers/cli.js';
import { peer } from '../helpers/peers.js';

// write:chain.crl.pem: the chain file (root + intermediate CRL, issue 9 point 15) is written in the same batch.
const STEPS = ['revoke:recorded', 'write:intermediate_ca.crl.der', 'write:intermediate_ca.crl', 'write:chain.crl.pem', 'revoke:crl-published', 'revoke:committed'] as const;

let ca: string;
let work: string;
beforeAll(() => {
  ca = initCa();
  work = tempDir('pki-revoke-crash-');
  expect(pki(['crl', '--der', '--dir', ca]).code).toBe(0); // a DER copy exists, so revoke rewrites both
});

function status(serial: string): string {
  const db = new Database(join(ca, 'db', 'pki.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT status FROM certificates WHERE serial = ?').get(serial) as { status: string }).status;
  } finally {
    db.close();
  }
}

/** The published CRL: which serials it lists, and its number (openssl prints it in decimal, or 0x… hex when large). */
function published(): { pem: string; der: string; number: bigint } {
  const pem = peer('openssl', ['crl', '-in', join(ca, 'crl', 'intermediate_ca.crl'), '-noout', '-text']);
  const der = peer('openssl', ['crl', '-inform', 'DER', '-in', join(ca, 'crl', 'intermediate_ca.crl.der'), '-noout', '-text']);
  return { pem, der, number: BigInt(/X509v3 CRL Number:\s*\n?\s*((?:0x)?[0-9A-F]+)/i.exec(pem)![1]!) };
}
const lists = (text: string, serial: string) => new RegExp(`Serial Number: 0*${serial.replace(/^0+/, '')}\\b`, 'i').test(text);

describe('a crash during pki revoke', () => {
  it('passes every documented step (PKI_TEST_TRACE_STEPS)', () => {
    const serial = sign('trace');
    const r = pki(['revoke', serial, '--dir', ca], { env: { PKI_TEST_TRACE_STEPS: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const steps = r.stderr.split('\n').filter((l) => l.startsWith('pki-step ')).map((l) => l.slice(9));
    expect(steps).toEqual([...STEPS]);
  });

  it.each(STEPS)('at %s: inventory and CRL agree, or the next pki crl makes them agree', (step) => {
    const serial = sign(step.replace(/[^a-z]/g, ''));
    const numberBefore = published().number;
    const crashed = pki(['revoke', serial, '--dir', ca], { env: { PKI_TEST_CRASH_AT: step } });
    expect(crashed.code, `expected SIGKILL at ${step}: ${crashed.stderr}`).toBe(128);

    const recorded = status(serial) === 'revoked';
    // The revocation and the CRL write are one transaction: recorded only once the CRL is in place.
    expect(recorded).toBe(step === 'revoke:committed');
    const after = published();
    // Before the CRL file is renamed into place the old CRL is intact (both copies readable by openssl).
    const pemLists = lists(after.pem, serial);
    expect(pemLists).toBe(step === 'revoke:crl-published' || step === 'revoke:committed');

    // The next publication makes them agree, with a higher number, and removes the killed run's temp files.
    expect(pki(['crl', '--dir', ca]).code).toBe(0);
    const fixed = published();
    expect(lists(fixed.pem, serial)).toBe(recorded);
    expect(lists(fixed.der, serial)).toBe(recorded);
    expect(fixed.number).toBeGreaterThan(after.number >= numberBefore ? after.number : numberBefore);
    expect(readdirSync(join(ca, 'crl')).filter((n) => n.startsWith('.pki-tmp-'))).toEqual([]);
    expect(readFileSync(join(ca, 'crl', 'chain.crl.pem'), 'utf8').endsWith(readFileSync(join(ca, 'crl', 'intermediate_ca.crl'), 'utf8'))).toBe(true);

    // The operator reruns the revoke: done now, or "already revoked".
    const again = pki(['revoke', serial, '--dir', ca]);
    if (recorded) expect(again.stderr).toMatch(/already revoked/);
    else expect(again.code, again.stderr).toBe(0);
    expect(status(serial)).toBe('revoked');
    expect(lists(published().pem, serial)).toBe(true);
  });
});

function sign(name: string): string {
  const csr = join(work, `${name}.csr`);
  peer('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, `${name}.key`), '-out', csr, '-subj', `/CN=${name}.example.com`]);
  const out = join(work, `${name}.crt`);
  const r = pki(['sign', csr, '--dir', ca, '--out', out]);
  if (r.code !== 0) throw new Error(r.stderr);
  return peer('openssl', ['x509', '-in', out, '-noout', '-serial']).trim().replace('serial=', '');
}
